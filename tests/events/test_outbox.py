"""Every change of a booking request writes its event in the change's own transaction."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from my_app.services import events
from tests.events.conftest import outbox
from tests.support.api import future


@pytest.fixture
def people(api):
    return api.user("alice"), api.admin("boss")


def _types_of(app, booking_id):
    return [e["type"] for e in outbox(app) if e["booking_id"] == booking_id]


def test_each_change_records_an_event_carrying_the_request_as_the_api_shows_it(app, api, people):
    alice, admin = people
    submitted = api.submit(alice)
    accepted = api.decide(admin, "accept", submitted.json["id"])
    cancelled = api.decide(alice, "cancel", submitted.json["id"], reason="Plans changed")
    deleted = api.client.delete(f"/delete_request/{submitted.json['id']}", headers=admin.headers)
    assert deleted.status_code == 200

    recorded = outbox(app)
    assert [e["type"] for e in recorded] == [
        "booking.submitted", "booking.accepted", "booking.cancelled", "booking.deleted",
    ]  # fmt: skip
    for event, response in zip(recorded, (submitted, accepted, cancelled, cancelled), strict=True):
        body = event["body"]
        assert set(body) == {"id", "type", "occurred_at", "data"}
        assert (body["id"], body["type"]) == (event["id"], event["type"])
        assert body["occurred_at"].endswith("Z")
        assert body["data"] == response.json  # booking.deleted: the request as it was
        assert event["status"] == "pending"
    assert len({e["id"] for e in recorded}) == 4


def test_a_rejection_records_booking_rejected(app, api, people):
    alice, admin = people
    booking = api.booking(alice)
    response = api.decide(admin, "reject", booking["id"], reason="Room under repair")
    [_, rejected] = outbox(app)
    assert rejected["type"] == "booking.rejected"
    assert rejected["body"]["data"] == response.json
    assert rejected["body"]["data"]["reason"] == "Room under repair"


def test_the_expiry_sweep_records_an_event_for_each_request_it_moves(app, api, people, runner):
    alice, _ = people
    soon = [api.booking(alice, event_time=future(1, minutes=m)) for m in (0, 10)]
    later = api.booking(alice, event_time=future(48))
    with freeze_time(datetime.now(UTC) + timedelta(hours=2), tick=True):
        assert "Expired 2" in runner.invoke(args=["expire-requests"]).output
    expired = [e for e in outbox(app) if e["type"] == "booking.expired"]
    assert sorted(e["booking_id"] for e in expired) == sorted(b["id"] for b in soon)
    assert all(e["body"]["data"]["status"] == "expired" for e in expired)
    assert _types_of(app, later["id"]) == ["booking.submitted"]


def test_refused_changes_record_nothing(app, api, people):
    alice, admin = people
    bob = api.user("bob")
    first = api.booking(alice)
    overlapping = api.booking(alice, event_time=first["event_time"])
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    assert api.decide(admin, "accept", overlapping["id"]).status_code == 409  # overlap
    assert api.decide(admin, "reject", first["id"]).status_code == 409  # not pending
    assert api.decide(bob, "cancel", first["id"]).status_code == 403  # not the owner
    assert api.submit(alice, event_time="2000-01-01T00:00:00Z").status_code == 422
    assert _types_of(app, first["id"]) == ["booking.submitted", "booking.accepted"]
    assert _types_of(app, overlapping["id"]) == ["booking.submitted"]
    assert len(outbox(app)) == 3


def test_a_change_whose_event_cannot_be_written_does_not_happen(app, api, people, monkeypatch):
    alice, admin = people
    booking = api.booking(alice)

    def record_then_fail(*args, **kwargs):
        real_rows_for(*args, **kwargs)
        raise RuntimeError("the outbox is broken")

    # What a move makes its event rows with: before its statement when it foresees them
    # (PostgreSQL), after it otherwise.
    real_rows_for = events.rows_for
    monkeypatch.setattr(events, "rows_for", record_then_fail)
    assert api.decide(admin, "accept", booking["id"]).status_code == 500
    shown = api.client.get(f"/request/{booking['id']}", headers=admin.headers).json
    assert shown["status"] == "pending"
    assert _types_of(app, booking["id"]) == ["booking.submitted"]


def test_deleting_an_account_records_the_deletion_of_each_of_its_requests(app, api, people):
    alice, admin = people
    bob = api.user("bob")
    mine = [api.booking(alice, event_time=future(48 + n)) for n in range(2)]
    api.booking(bob)
    assert api.client.delete(f"/user/{alice.id}", headers=admin.headers).status_code == 200
    deleted = [e for e in outbox(app) if e["type"] == "booking.deleted"]
    assert [e["body"]["data"] for e in deleted] == mine
