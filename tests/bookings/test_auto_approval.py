"""approval "auto": an in-rule, conflict-free request is accepted as it is submitted."""

import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import BookingEvent
from tests.support.api import assert_problem, booking_body, future
from tests.support.concurrency import at_once


def _event_types(app, booking_id: int) -> list[str]:
    with app.app_context():
        types = db.session.scalars(
            sa.select(BookingEvent.type)
            .where(BookingEvent.booking_id == booking_id)
            .order_by(BookingEvent.occurred_at, BookingEvent.id)
        ).all()
        db.session.rollback()
        return list(types)


def test_a_free_request_is_accepted_on_submit_with_its_history_and_events(app, api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, approval="auto")
    response = api.submit(alice, resource_id=room["id"])
    assert response.status_code == 201, response.json
    booking = response.json
    assert (booking["status"], booking["decided_by"]) == ("accepted", None)
    assert booking["decided_at"] is not None
    history = api.client.get(f"/request/{booking['id']}/history", headers=alice.headers).json
    steps = [(h["from_status"], h["to_status"], h["by"]) for h in history["history"]]
    assert steps[0][:2] == (None, "pending") and steps[0][2]["id"] == alice.id
    assert steps[1] == ("pending", "accepted", None)
    assert _event_types(app, booking["id"]) == ["booking.submitted", "booking.accepted"]
    assert api.client.get(f"/request/{booking['id']}", headers=alice.headers).json == booking


def test_a_conflicting_request_is_409_naming_the_conflict_and_nothing_is_stored(app, api):
    admin, alice, bob = api.admin(), api.user(), api.user()
    room = api.resource(admin, approval="auto", rules={"buffer_minutes": 15})
    taken = api.booking(alice, resource_id=room["id"], event_time=future(48))
    overlapping = api.submit(bob, resource_id=room["id"], event_time=future(48, 30))
    too_close = api.submit(bob, resource_id=room["id"], event_time=future(49, 10))
    for response in (overlapping, too_close):
        assert str(taken["id"]) in assert_problem(response, 409)["detail"]
    assert api.client.get("/my_requests", headers=bob.headers).json["bookings"] == []
    listed = api.client.get("/list_requests", headers=admin.headers).json["bookings"]
    assert [b["id"] for b in listed] == [taken["id"]]
    assert api.submit(bob, resource_id=room["id"], event_time=future(49, 15)).status_code == 201


def test_a_request_breaking_a_rule_is_422_and_not_stored(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, approval="auto", rules={"max_duration_minutes": 30})
    response = api.submit(alice, resource_id=room["id"], duration_minutes=45)
    assert "duration_minutes" in assert_problem(response, 422)["errors"]
    assert api.client.get("/my_requests", headers=alice.headers).json["bookings"] == []


def test_a_pending_request_of_an_auto_resource_stays_for_an_admin(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin)
    pending = api.booking(alice, resource_id=room["id"])
    api.client.patch(f"/resources/{room['id']}", json={"approval": "auto"}, headers=admin.headers)
    seen = api.client.get(f"/request/{pending['id']}", headers=alice.headers).json
    assert seen["status"] == "pending"
    assert api.decide(admin, "accept", pending["id"]).status_code == 200


def test_two_overlapping_submits_at_the_same_moment_are_not_both_accepted(app, api):
    admin, alice, bob = api.admin(), api.user(), api.user()
    room = api.resource(admin, approval="auto")
    bodies = [
        booking_body(resource_id=room["id"], event_time=future(48, minutes)) for minutes in (0, 30)
    ]

    def submit(account, body):
        return lambda client: client.post("/submit_request", json=body, headers=account.headers)

    responses = at_once(app, [submit(alice, bodies[0]), submit(bob, bodies[1])])
    assert sorted(r.status_code for r in responses) == [201, 409], [r.json for r in responses]
    winner = next(r.json for r in responses if r.status_code == 201)
    loser = next(r.json for r in responses if r.status_code == 409)
    assert winner["status"] == "accepted" and str(winner["id"]) in loser["detail"]
