"""deliver-events to SNS (moto), with an SQS queue subscribed to the topic."""

import json

import boto3
import pytest
from moto import mock_aws

from tests.events.conftest import outbox, send_to

pytestmark = [pytest.mark.parametrize("stack", [("sqlite", "database")])]
REGION = "us-east-1"


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)


def _subscribed_queue(aws, topic_arn: str) -> str:
    sns, sqs = aws
    queue_url = sqs.create_queue(QueueName="bookings")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )  # fmt: skip
    return queue_url


def _received(aws, queue_url: str) -> list[dict]:
    _, sqs = aws
    bodies = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
        )
    return bodies


def test_the_topic_and_the_webhook_receive_the_same_events(app, api, runner, aws, receivers):
    topic_arn = aws[0].create_topic(Name="booking-events")["TopicArn"]
    queue_url = _subscribed_queue(aws, topic_arn)
    receiver = receivers()
    send_to(app, receiver, EVENTS_SNS_TOPIC_ARN=topic_arn)
    alice, admin = api.user(), api.admin()
    booking = api.booking(alice)
    api.decide(admin, "reject", booking["id"])

    result = runner.invoke(args=["deliver-events", "--once"])
    assert "Delivered 2 event(s)" in result.output, result.output
    recorded = [e["body"] for e in outbox(app)]
    assert [b["type"] for b in recorded] == ["booking.submitted", "booking.rejected"]
    assert _received(aws, queue_url) == recorded
    assert receiver.accepted == recorded


def test_a_topic_that_fails_is_retried_without_resending_to_the_webhook(
    app, api, runner, aws, receivers
):
    missing_arn = f"arn:aws:sns:{REGION}:123456789012:booking-events"
    receiver = receivers()
    send_to(app, receiver, EVENTS_SNS_TOPIC_ARN=missing_arn)
    api.booking(api.user())
    assert "1 will be retried" in runner.invoke(args=["deliver-events", "--once"]).output
    [event] = outbox(app)
    assert "NotFound" in runner.invoke(args=["events", "--id", event["id"]]).output

    topic_arn = aws[0].create_topic(Name="booking-events")["TopicArn"]
    assert topic_arn == missing_arn
    queue_url = _subscribed_queue(aws, topic_arn)
    assert "Delivered 1 event(s)" in runner.invoke(args=["deliver-events", "--once"]).output
    assert _received(aws, queue_url) == [event["body"]]
    assert receiver.tries == {event["id"]: 1}


def test_releases_and_escalations_reach_the_topic_and_the_webhook(app, api, runner, aws, receivers):
    from datetime import UTC, datetime, timedelta

    from freezegun import freeze_time

    from tests.support.api import future

    topic_arn = aws[0].create_topic(Name="booking-events")["TopicArn"]
    queue_url = _subscribed_queue(aws, topic_arn)
    receiver = receivers()
    send_to(app, receiver, EVENTS_SNS_TOPIC_ARN=topic_arn)
    alice, admin = api.user(), api.admin()
    rules = {"checkin_minutes": 10, "approval_deadline_hours": 0.25}
    room = api.client.post("/resources", json={"name": "Lab"}, headers=admin.headers).json
    api.client.patch(f"/resources/{room['id']}", json={"rules": rules}, headers=admin.headers)
    no_show = api.booking(alice, resource_id=room["id"], event_time=future(0, 5))
    api.decide(admin, "accept", no_show["id"])
    waiting = api.booking(alice, resource_id=room["id"], event_time=future(48))
    with freeze_time(datetime.now(UTC) + timedelta(minutes=20), tick=True):
        assert "Released 1 " in runner.invoke(args=["release-no-shows"]).output
        assert "Escalated 1 " in runner.invoke(args=["escalate-requests"]).output
        result = runner.invoke(args=["deliver-events", "--once"])
    assert "Delivered 5 event(s)" in result.output, result.output
    recorded = [e["body"] for e in outbox(app)]
    assert [(b["type"], b["data"]["id"]) for b in recorded[-2:]] == [
        ("booking.released", no_show["id"]), ("booking.escalated", waiting["id"]),
    ]  # fmt: skip
    assert _received(aws, queue_url) == recorded
    assert receiver.accepted == recorded
