"""deploy/cloudwatch: the agent ships the files the services write, and the two alarms are a
valid CloudFormation template whose filters read fields the JSON request log really has."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLOUDWATCH = ROOT / "deploy" / "cloudwatch"
SCHEMA = Path(__file__).parent / "schemas" / "cloudwatch-agent.schema.json"


def _agent() -> dict:
    return json.loads((CLOUDWATCH / "agent.json").read_text())


def _template() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    # CloudFormation's short forms (!Ref, !If, ...) as plain data.
    Loader.add_multi_constructor("!", lambda loader, tag, node: None)
    return yaml.load((CLOUDWATCH / "alarms.yaml").read_text(), Loader=Loader)


def _uwsgi_request_line_fields() -> set[str]:
    """The keys of uWSGI's JSON request line, as deploy/uwsgi.ini writes it."""
    ini = (ROOT / "deploy" / "uwsgi.ini").read_text()
    block = ini.split("if-env = LOG_FORMAT=json", 1)[1]
    log_format = re.search(r"^log-format = (.*)$", block, re.M).group(1)
    return set(json.loads(re.sub(r"%\(\w+\)", "0", log_format)))


def test_agent_configuration_is_valid():
    jsonschema.validate(_agent(), json.loads(SCHEMA.read_text()))


@pytest.mark.parametrize(
    "broken",
    [{"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "relative.log"}]}}}},
     {"logs": {"logs_collected": {"files": {"collect_list": [
         {"file_path": "/var/log/x.log", "retention_in_days": 10}]}}}},
     {"logs": {"logs_colected": {}}}],
)  # fmt: skip
def test_agent_schema_refuses_what_the_agent_would(broken):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMA.read_text()))


def test_agent_ships_every_log_file_the_services_write():
    shipped = {entry["file_path"] for entry in _agent()["logs"]["logs_collected"]["files"][
        "collect_list"]}  # fmt: skip
    written = set()
    for unit in (ROOT / "deploy").glob("my_app*.service"):
        written |= set(re.findall(r"^Standard(?:Output|Error)=append:(\S+)$", unit.read_text(),
                                  re.M))  # fmt: skip
    assert written and written <= shipped
    nginx = (ROOT / "deploy" / "nginx" / "my_app.conf").read_text()
    assert set(re.findall(r"_log (/var/log/nginx/\S+)", nginx)) <= shipped


def test_alarm_template_passes_cfn_lint():
    cfn_lint = shutil.which("cfn-lint", path=str(BIN)) or shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is installed with the dev extras"
    result = subprocess.run([cfn_lint, str(CLOUDWATCH / "alarms.yaml")], capture_output=True,
                            text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_alarms_watch_the_5xx_rate_and_the_p99_latency():
    resources = _template()["Resources"]
    alarms = {k: v["Properties"] for k, v in resources.items()
              if v["Type"] == "AWS::CloudWatch::Alarm"}  # fmt: skip
    assert len(alarms) == 2
    latency = next(a for a in alarms.values() if a.get("ExtendedStatistic") == "p99")
    assert latency["MetricName"] == "LatencyMilliseconds"
    rate = next(a for a in alarms.values() if "Metrics" in a)
    used = {m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m}
    assert used == {"ServerErrors", "Requests"}
    filters = [r["Properties"] for r in resources.values() if r["Type"].endswith("MetricFilter")]
    produced = {t["MetricName"] for f in filters for t in f["MetricTransformations"]}
    assert {"ServerErrors", "Requests", "LatencyMilliseconds"} <= produced


def test_metric_filters_read_fields_the_uwsgi_json_line_has():
    fields = _uwsgi_request_line_fields()
    assert {"time", "level", "message", "request_id", "user_id", "method", "path", "status",
            "duration_ms"} <= fields  # fmt: skip
    for resource in _template()["Resources"].values():
        if resource["Type"] != "AWS::Logs::MetricFilter":
            continue
        properties = resource["Properties"]
        named = set(re.findall(r"\$\.(\w+)", properties["FilterPattern"]))
        for transformation in properties["MetricTransformations"]:
            named |= set(re.findall(r"\$\.(\w+)", transformation["MetricValue"]))
        assert named and named <= fields, named - fields
