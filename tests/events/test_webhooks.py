"""deliver-events to webhooks: signed, retried with backoff, each event once per receiver."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from config import ConfigError, DevelopmentConfig
from my_app.services.events import retry_delay
from tests.events.conftest import SECRET, attempts, outbox, send_to


@pytest.fixture
def people(api):
    return api.user("alice"), api.admin("boss")


def _deliver(runner) -> str:
    result = runner.invoke(args=["deliver-events", "--once"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_receiver_failing_twice_then_sees_each_event_exactly_once(
    app, api, people, runner, receivers
):
    alice, admin = people
    receiver = receivers(fail_first=2)
    send_to(app, receiver)
    booking = api.booking(alice)
    api.decide(admin, "accept", booking["id"])

    assert "Delivered 0 event(s); 2 will be retried" in _deliver(runner)
    assert "Delivered 0 event(s); 2 will be retried" in _deliver(runner)
    assert "Delivered 2 event(s); 0 will be retried" in _deliver(runner)
    assert "Delivered 0 event(s); 0 will be retried" in _deliver(runner)

    recorded = outbox(app)
    assert receiver.bad_signatures == 0
    assert receiver.accepted_ids() == {e["id"]: 1 for e in recorded}
    assert receiver.accepted == [e["body"] for e in recorded]
    for event in recorded:
        assert (event["status"], event["attempts"]) == ("delivered", 3)
        assert attempts(app, event["id"]) == [
            (receiver.url, False, "HTTP 500"), (receiver.url, False, "HTTP 500"),
            (receiver.url, True, None),
        ]  # fmt: skip


def test_a_retry_skips_the_receivers_that_already_have_the_event(
    app, api, people, runner, receivers
):
    alice, _ = people
    steady, flaky = receivers(), receivers(fail_first=1)
    send_to(app, steady, flaky)
    api.booking(alice)
    assert "1 will be retried" in _deliver(runner)
    assert "Delivered 1 event(s)" in _deliver(runner)
    [event] = outbox(app)
    assert steady.tries == {event["id"]: 1}
    assert flaky.tries == {event["id"]: 2}
    assert steady.accepted_ids() == flaky.accepted_ids() == {event["id"]: 1}


def test_a_receiver_refuses_a_bad_signature_and_the_event_is_retried(
    app, api, people, runner, receivers
):
    alice, _ = people
    receiver = receivers()
    send_to(app, receiver, WEBHOOK_SECRET="not-the-receivers-secret")
    api.booking(alice)
    assert "1 will be retried" in _deliver(runner)
    assert receiver.bad_signatures == 1 and receiver.accepted == []
    app.config["WEBHOOK_SECRET"] = SECRET
    assert "Delivered 1 event(s)" in _deliver(runner)
    [event] = outbox(app)
    assert receiver.accepted == [event["body"]]
    assert attempts(app, event["id"])[0] == (receiver.url, False, "HTTP 401")


def test_failures_wait_longer_each_time_with_jitter():
    delays = [retry_delay(n, 10, 3600, rand=lambda: 1.0).total_seconds() for n in range(1, 5)]
    assert delays == [10, 20, 40, 80]
    assert retry_delay(30, 10, 3600, rand=lambda: 1.0).total_seconds() == 3600
    assert retry_delay(1, 10, 3600, rand=lambda: 0.0).total_seconds() == 5


def test_a_failed_event_is_not_due_again_before_its_delay(app, api, people, runner, receivers):
    alice, _ = people
    receiver = receivers(fail_first=1)
    send_to(app, receiver, EVENTS_RETRY_BASE_SECONDS=60)
    api.booking(alice)
    assert "1 will be retried" in _deliver(runner)
    assert "Delivered 0 event(s); 0 will be retried" in _deliver(runner)
    with freeze_time(datetime.now(UTC) + timedelta(seconds=61), tick=True):
        assert "Delivered 1 event(s)" in _deliver(runner)
    assert sum(receiver.tries.values()) == 2


def test_after_a_day_of_failures_an_event_is_failed_listed_and_can_be_retried(
    app, api, people, runner, receivers
):
    alice, _ = people
    receiver = receivers(fail_first=3)
    send_to(app, receiver)
    api.booking(alice)
    assert "1 will be retried" in _deliver(runner)
    with freeze_time(datetime.now(UTC) + timedelta(hours=23), tick=True):
        assert "1 will be retried" in _deliver(runner)
    with freeze_time(datetime.now(UTC) + timedelta(hours=25), tick=True):
        assert "1 failed for good" in _deliver(runner)
        assert "Delivered 0 event(s); 0 will be retried; 0 failed" in _deliver(runner)
    [event] = outbox(app)
    assert (event["status"], event["attempts"]) == ("failed", 3)

    listing = runner.invoke(args=["events", "--failed"]).output
    assert "Pending: 0; failed: 1." in listing
    assert event["id"] in listing and "booking.submitted" in listing and "HTTP 500" in listing
    history = runner.invoke(args=["events", "--id", event["id"]]).output
    assert history.count("failed: HTTP 500") == 3

    assert "Queued 1 failed event(s)" in runner.invoke(args=["events", "--retry"]).output
    assert "Delivered 1 event(s)" in _deliver(runner)
    assert receiver.accepted_ids() == {event["id"]: 1}
    assert "Pending: 0; failed: 0." in runner.invoke(args=["events"]).output


def test_without_targets_events_are_marked_delivered(app, api, people, runner):
    alice, _ = people
    api.booking(alice)
    assert "Delivered 1 event(s)" in _deliver(runner)
    assert [(e["status"], e["attempts"]) for e in outbox(app)] == [("delivered", 0)]


@pytest.mark.parametrize(
    "env",
    [
        {"WEBHOOK_URLS": "https://hooks.example.com/b"},  # nothing to sign with
        {"WEBHOOK_URLS": "hooks.example.com/b", "WEBHOOK_SECRET": "s"},
        {"WEBHOOK_TIMEOUT_SECONDS": "0"},
    ],
)
def test_unusable_event_settings_are_refused(env):
    with pytest.raises(ConfigError):
        DevelopmentConfig(env)


def test_webhook_urls_are_a_comma_separated_list():
    config = DevelopmentConfig(
        {"WEBHOOK_URLS": " https://a.example/h , http://127.0.0.1/h,", "WEBHOOK_SECRET": "s"}
    )
    assert config.WEBHOOK_URLS == ["https://a.example/h", "http://127.0.0.1/h"]
