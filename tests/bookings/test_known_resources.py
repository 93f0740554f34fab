"""A submit to a resource its worker has read before: on PostgreSQL one statement, one round
trip (services/known_resources.py, `bookings._submit_known`), with the answers of the two
statements it replaces.

What the worker keeps of a resource is never trusted on its own: a resource changed behind
its back (by another process, or another app instance on the same database) is judged by its
rules as they are now, a blackout made since refuses the request, and a deactivated resource
is a 404, each as on a first submit; on SQLite, which keeps nothing, the same answers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import Blackout
from my_app.services import known_resources
from tests.bookings.test_round_trips import (
    BOUNDS,
    POSTGRESQL,
    commands,
    round_trips,
    rows,
    statements,
    warm_up,
)
from tests.support.api import assert_problem, booking_body, future


def change(app, sql: str, **values) -> None:
    """A change made straight in the database, which the app's workers are not told of."""
    with app.app_context():
        db.session.execute(sa.text(sql), values)
        db.session.commit()
        db.session.remove()


def kept(app) -> int:
    with app.app_context():
        return known_resources.size(db.engine)


def same_answer(make_app, stack, first, body: dict, account) -> None:
    """`first` (a response of the app under test) is what a worker that has kept nothing
    answers the same submit: another app instance on the same database."""
    other = make_app(blacklist=stack[1]).test_client()
    again = other.post("/submit_request", json=body, headers=account.headers)
    assert (again.status_code, again.json) == (first.status_code, first.json)


def submit_body(resource_id: int, **overrides) -> dict:
    return booking_body(resource_id=resource_id, **overrides)


@pytest.fixture
def room(api):
    """A resource with an approver (bob), its admin and a requester (alice), and one request
    of alice's already submitted to it, so that the worker has read it."""
    admin = api.admin()
    room = api.resource(admin, rules={"max_duration_minutes": 120})
    bob, alice = api.user(), api.user()
    response = api.client.put(
        f"/resources/{room['id']}/approvers", json={"user_ids": [bob.id]}, headers=admin.headers
    )
    assert response.status_code == 200
    api.booking(alice, resource_id=room["id"], event_time=future(hours=30))
    return room["id"], admin, bob, alice


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_a_second_submit_is_one_statement_and_one_round_trip(app, api, room, monkeypatch):
    room_id, _, _, alice = room
    warm_up(api, alice)
    assert kept(app) == 1
    with (
        statements(app) as sent,
        round_trips(monkeypatch) as waits,
        commands(monkeypatch) as around,
    ):
        response = api.submit(alice, resource_id=room_id, event_time=future(hours=40))
    assert response.status_code == 201, response.json
    assert len(sent) == 1, sent
    assert waits == [1]  # the beginning, the statement and the commit in one pipeline
    assert around[0] == b"BEGIN" and around[1].startswith(BOUNDS) and around[2:] == [b"COMMIT"]
    assert sent[0].startswith("WITH guard AS (SELECT resources.id")
    assert rows(app, response.json["id"]) == ([(None, "pending")], ["booking.submitted"])


def event_row(app, booking_id: int) -> dict:
    with app.app_context():
        found = db.session.execute(
            sa.text(
                "SELECT e.id, e.type, e.booking_id, e.occurred_at, e.payload, e.status,"
                " e.attempts, e.next_attempt_at, h.from_status, h.to_status, h.actor_id, h.at,"
                " h.reason, r.created_at"
                " FROM booking_events e JOIN booking_history h ON h.booking_id = e.booking_id"
                " JOIN booking_requests r ON r.id = e.booking_id WHERE e.booking_id = :id"
            ),
            {"id": booking_id},
        ).one()
        db.session.remove()
    return found._asdict()


def test_the_answer_the_event_and_the_history_row_are_as_on_a_first_submit(app, api, room):
    """The second submit (one statement on PostgreSQL) writes what the first (read, then
    write) writes: the event's payload is the answer, byte for byte as orjson writes it,
    with the keys in the same order, and the history row is the submission's."""
    _, admin, _, alice = room
    room_id = api.resource(admin)["id"]  # not read yet
    first = api.booking(alice, resource_id=room_id, event_time=future(hours=50))
    second = api.booking(alice, resource_id=room_id, event_time=future(hours=60))
    assert second["id"] > first["id"]  # from the sequence
    rows_of = [event_row(app, booking["id"]) for booking in (first, second)]
    for booking, row in zip((first, second), rows_of, strict=True):
        body = json.loads(row["payload"])
        assert body["data"] == booking
        assert row["payload"] == orjson.dumps(body).decode()  # compact, as written
        assert body["id"] == row["id"] and body["type"] == row["type"] == "booking.submitted"
        assert row["booking_id"] == booking["id"] and row["status"] == "pending"
        assert row["attempts"] == 0 and row["next_attempt_at"] == row["occurred_at"]
        assert (row["from_status"], row["to_status"], row["actor_id"]) == (
            None,
            "pending",
            alice.id,
        )
        assert row["at"] == row["created_at"] and row["reason"] is None
    bodies = [json.loads(row["payload"]) for row in rows_of]
    assert list(bodies[0]) == list(bodies[1]) == ["id", "type", "occurred_at", "data"]
    assert list(bodies[0]["data"]) == list(bodies[1]["data"])


def test_the_approvers_are_told_as_on_a_first_submit(api, room, mailbox):
    """Told by the one statement's answer: the resource's active approvers, but the
    requester."""
    room_id, _, bob, alice = room
    mailbox.clear()
    booking = api.booking(alice, resource_id=room_id, event_time=future(hours=70))
    name = api.client.get(f"/resources/{room_id}", headers=alice.headers).json["name"]
    subject = f"Booking request #{booking['id']} for {name} waits for your decision"
    [message] = mailbox.wait_for(bob.email, subject)
    assert booking["topic"] in message.get_content()
    api.booking(bob, resource_id=room_id, event_time=future(hours=72))  # bob's own: not told
    assert len(mailbox.to(bob.email)) == 1


def test_rules_changed_behind_the_workers_back_are_the_rules(app, make_app, stack, api, room):
    """The worker read the resource with a 120-minute maximum; the database says 30 now:
    a 60-minute request is refused as on a first submit, and after the maximum goes up to
    240 behind its back again, a 180-minute one is accepted although the kept rules refuse
    it."""
    room_id, _, _, alice = room
    change(app, "UPDATE resources SET max_duration_minutes = 30 WHERE id = :id", id=room_id)
    body = submit_body(room_id, event_time=future(hours=80), duration_minutes=60)
    refused = api.client.post("/submit_request", json=body, headers=alice.headers)
    errors = assert_problem(refused, 422)["errors"]
    assert (
        list(errors) == ["duration_minutes"]
        and "max_duration_minutes" in errors["duration_minutes"][0]
    )
    same_answer(make_app, stack, refused, body, alice)
    change(app, "UPDATE resources SET max_duration_minutes = 240 WHERE id = :id", id=room_id)
    # Read again after the refusal: kept with 30, so the kept rules refuse 180 minutes.
    longer = api.submit(
        alice, resource_id=room_id, event_time=future(hours=90), duration_minutes=180
    )
    assert longer.status_code == 201, longer.json
    assert longer.json["duration_minutes"] == 180


def test_opening_hours_changed_through_another_instance_are_the_rules(make_app, stack, api, room):
    """Another app instance (another worker, another host) closes the resource on every
    day: this worker's next submit is refused with the opening hours' 422."""
    room_id, admin, _, alice = room
    other = make_app(blacklist=stack[1]).test_client()
    closed = {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    changed = other.patch(
        f"/resources/{room_id}", json={"rules": {"opening_hours": closed}}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.json
    body = submit_body(room_id, event_time=future(hours=100))
    refused = api.client.post("/submit_request", json=body, headers=alice.headers)
    errors = assert_problem(refused, 422)["errors"]
    assert list(errors) == ["event_time"] and "opening_hours" in errors["event_time"][0]
    same_answer(make_app, stack, refused, body, alice)


def test_a_blackout_made_since_refuses_the_request_naming_it(app, make_app, stack, api, room):
    room_id, admin, _, alice = room
    start, end = future(hours=110), future(hours=114)
    made = api.client.post(
        f"/resources/{room_id}/blackouts",
        json={"start": start, "end": end, "reason": "Painting"},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.json
    body = submit_body(room_id, event_time=future(hours=113))
    refused = api.client.post("/submit_request", json=body, headers=alice.headers)
    detail = assert_problem(refused, 409)["detail"]
    assert detail.startswith("The request overlaps blackout(s) of the resource: ")
    assert f"{made.json['id']} (" in detail and "Painting" in detail
    same_answer(make_app, stack, refused, body, alice)
    # Nothing was written: alice has the fixture's request only.
    assert len(api.client.get("/my_requests", headers=alice.headers).json["bookings"]) == 1


def test_a_blackout_made_behind_the_workers_back_refuses_the_request(app, api, room):
    room_id, admin, _, alice = room
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=130)
    blackout = {
        "resource_id": room_id, "start_time": start, "end_time": start + timedelta(hours=2),
        "reason": None, "created_by_id": admin.id, "created_at": datetime.now(UTC),
    }  # fmt: skip
    with app.app_context():
        db.session.execute(sa.insert(Blackout.__table__), blackout)
        db.session.commit()
        db.session.remove()
    refused = api.submit(alice, resource_id=room_id, event_time=future(hours=131))
    assert "blackout(s)" in assert_problem(refused, 409)["detail"]


def test_a_resource_deactivated_behind_the_workers_back_is_404(app, make_app, stack, api, room):
    room_id, _, _, alice = room
    change(app, "UPDATE resources SET active = false WHERE id = :id", id=room_id)
    body = submit_body(room_id, event_time=future(hours=140))
    refused = api.client.post("/submit_request", json=body, headers=alice.headers)
    assert assert_problem(refused, 404)["detail"] == f"There is no bookable resource {room_id}."
    same_answer(make_app, stack, refused, body, alice)
    assert kept(app) == 0  # forgotten
    change(app, "UPDATE resources SET active = true WHERE id = :id", id=room_id)
    assert api.submit(alice, resource_id=room_id, event_time=future(hours=150)).status_code == 201


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_a_refused_statement_is_followed_by_the_read(app, api, room, monkeypatch):
    """Renamed behind its back, the resource no longer has the kept digest: the one
    statement writes nothing and commits, and the submit reads and writes as a first one
    does, in a transaction of its own, then keeps the resource as it is now."""
    room_id, _, _, alice = room
    warm_up(api, alice)
    change(app, "UPDATE resources SET name = 'Renamed' WHERE id = :id", id=room_id)
    with statements(app) as sent, commands(monkeypatch) as around:
        response = api.submit(alice, resource_id=room_id, event_time=future(hours=160))
    assert response.status_code == 201, response.json
    assert [s.split(" ", 1)[0] for s in sent] == ["WITH", "SELECT", "WITH"], sent
    assert around.count(b"BEGIN") == 2 and around.count(b"COMMIT") == 2
    assert rows(app, response.json["id"]) == ([(None, "pending")], ["booking.submitted"])
    with statements(app) as sent:
        again = api.submit(alice, resource_id=room_id, event_time=future(hours=170))
    assert again.status_code == 201 and len(sent) == 1  # kept as it is now


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_resources_with_a_quota_or_auto_approval_are_read_every_time(app, api, monkeypatch):
    admin, alice = api.admin(), api.user()
    quota = api.resource(admin, rules={"quota": {"hours": 10, "per": "week"}})
    auto = api.resource(admin, approval="auto")
    warm_up(api, alice)
    for resource, hours in ((quota, 200), (auto, 210)):
        api.booking(alice, resource_id=resource["id"], event_time=future(hours=hours))
        with statements(app) as sent:
            response = api.submit(
                alice, resource_id=resource["id"], event_time=future(hours=hours + 2)
            )
        assert response.status_code == 201, response.json
        assert sent[0].startswith("SELECT resources.id"), sent


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_a_worker_keeps_a_bounded_number_of_resources(app, api, monkeypatch):
    """At most `SIZE` resources: the one kept longest ago goes first, and is read again."""
    monkeypatch.setattr(known_resources, "SIZE", 2)
    admin, alice = api.admin(), api.user()
    rooms = [api.resource(admin)["id"] for _ in range(3)]
    for n, room_id in enumerate(rooms):
        api.booking(alice, resource_id=room_id, event_time=future(hours=300 + n))
        assert kept(app) == min(n + 1, 2)
    with statements(app) as sent:
        api.booking(alice, resource_id=rooms[2], event_time=future(hours=310))
        api.booking(alice, resource_id=rooms[0], event_time=future(hours=311))
    assert [s.split(" ", 1)[0] for s in sent] == ["WITH", "SELECT", "WITH"], sent
    assert kept(app) == 2
