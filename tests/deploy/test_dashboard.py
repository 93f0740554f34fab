"""deploy/grafana/my_app.json: every expression names metrics the app exports, and every metric
the app exports is on the dashboard."""

import json
import re
import sys
import types
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import bearer

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "my_app.json"
TOKEN = "dashboard-test-token-0123456789"
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
METRIC = re.compile(r"\bmy_app_[a-z0-9_]+\b")


def _expressions() -> list[str]:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(DASHBOARD.read_text()))
    return found


def _exported(make_app, monkeypatch) -> dict[str, set[str]]:
    """{family: the sample names it exports}, from a real scrape (the outbox stood in for)."""
    events = types.ModuleType("my_app.services.events")
    events.backlog = lambda: {"pending": 0, "failed": 0}
    monkeypatch.setitem(sys.modules, "my_app.services.events", events)
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    text = client.get("/metrics", headers=bearer(TOKEN)).get_data(as_text=True)
    return {
        family.name: {family.name + suffix for suffix in SUFFIXES[family.type]}
        for family in text_string_to_metric_families(text)
        if family.name.startswith("my_app_")
    }


def test_every_dashboard_expression_names_only_metrics_the_app_exports(make_app, monkeypatch):
    exported = set().union(*_exported(make_app, monkeypatch).values())
    expressions = _expressions()
    assert len(expressions) >= 10
    for expression in expressions:
        named = set(METRIC.findall(expression))
        assert named, expression
        assert named <= exported, (expression, named - exported)


def test_every_exported_metric_is_on_the_dashboard(make_app, monkeypatch):
    used = set(METRIC.findall(" ".join(_expressions())))
    for family, samples in _exported(make_app, monkeypatch).items():
        assert samples & used, family


def test_dashboard_has_the_operations_sections():
    dashboard = json.loads(DASHBOARD.read_text())
    rows = [panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"]
    assert rows == ["Traffic", "Latency", "Errors", "Logins", "Decisions", "Events"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
