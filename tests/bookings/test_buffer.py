"""buffer_minutes: accepted bookings of a resource keep that gap, whoever accepts, however fast."""

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from my_app.extensions import db
from my_app.models import BookingRequest
from tests.support.api import assert_problem, future
from tests.support.concurrency import at_once

BUFFER = 30


def _booked(api, requester, room, hours: float, minutes: float = 0, duration: int = 60) -> dict:
    return api.booking(requester, resource_id=room["id"], event_time=future(hours, minutes),
                       duration_minutes=duration)  # fmt: skip


def test_accepting_closer_than_the_buffer_is_409_naming_the_request_in_the_way(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"buffer_minutes": BUFFER})
    first = _booked(api, alice, room, 48)  # 48:00-49:00
    too_close = _booked(api, alice, room, 49, 29)
    just_far_enough = _booked(api, alice, room, 49, 30)
    before = _booked(api, alice, room, 46, 31)  # ends at 47:31
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    for booking in (too_close, before):
        detail = assert_problem(api.decide(admin, "accept", booking["id"]), 409)["detail"]
        assert str(first["id"]) in detail and "30-minute buffer" in detail
    assert api.decide(admin, "accept", just_far_enough["id"]).status_code == 200
    assert api.client.get(f"/request/{too_close['id']}", headers=admin.headers).json["status"] == (
        "pending"
    )


def test_a_wider_buffer_never_undoes_what_is_accepted(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin)
    first, second = _booked(api, alice, room, 48), _booked(api, alice, room, 49, 10)
    third = _booked(api, alice, room, 50, 20)
    for booking in (first, second):
        assert api.decide(admin, "accept", booking["id"]).status_code == 200
    path = f"/resources/{room['id']}"
    assert api.client.patch(path, json={"rules": {"buffer_minutes": BUFFER}},
                            headers=admin.headers).status_code == 200  # fmt: skip
    for booking in (first, second):
        status = api.client.get(f"/request/{booking['id']}", headers=admin.headers).json["status"]
        assert status == "accepted"
    assert_problem(api.decide(admin, "accept", third["id"]), 409)
    assert api.decide(admin, "cancel", second["id"]).status_code == 200
    assert api.decide(admin, "accept", third["id"]).status_code == 200


def test_availability_widens_busy_times_by_the_buffer(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"buffer_minutes": BUFFER})
    booking = _booked(api, alice, room, 48)
    api.decide(admin, "accept", booking["id"])
    window = {"from": future(24), "to": future(72)}
    response = api.client.get(
        f"/resources/{room['id']}/availability", query_string=window, headers=alice.headers
    )
    assert response.json["busy"] == [{"start": future(47, 30), "end": future(49, 30)}]


def _insert(app, resource_id: int, start: datetime, requester_id: int, status="accepted"):
    values = {
        "resource_id": resource_id, "topic": "direct", "event_time": start,
        "duration_minutes": 60, "end_time": start + timedelta(minutes=60), "street": "s",
        "city": "c", "country": "US", "status": status, "requested_by_id": requester_id,
        "created_at": start, "updated_at": start,
    }  # fmt: skip
    with app.app_context():
        booking_id = db.session.execute(
            sa.insert(BookingRequest).values(**values).returning(BookingRequest.id)
        ).scalar_one()
        db.session.commit()
        return booking_id


def test_the_database_itself_refuses_an_accepted_row_within_the_buffer(app, api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, rules={"buffer_minutes": BUFFER})
    start = datetime.fromisoformat(future(72))
    _insert(app, room["id"], start, alice.id)
    _insert(app, room["id"], start + timedelta(minutes=90), alice.id)  # exactly the buffer apart
    with pytest.raises(IntegrityError):
        _insert(app, room["id"], start - timedelta(minutes=89), alice.id)
    with app.app_context():
        db.session.rollback()
    pending = _insert(app, room["id"], start + timedelta(minutes=170), alice.id, "pending")
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.execute(
            sa.update(BookingRequest).where(BookingRequest.id == pending).values(status="accepted")
        )
    with app.app_context():
        db.session.rollback()


ROUNDS = 10
ADMINS = 16


def test_sixteen_admins_accepting_at_once_leave_every_accepted_pair_the_buffer_apart(app, api):
    admins = [api.admin() for _ in range(ADMINS)]
    requester = api.user()
    room = api.resource(admins[0], rules={"buffer_minutes": BUFFER})
    for round_ in range(ROUNDS):
        # Sixty-minute requests ten minutes apart: none overlaps another, each is too close.
        ids = [
            _booked(api, requester, room, 48 + 24 * round_, minutes=70 * i)["id"]
            for i in range(ADMINS)
        ]
        responses = at_once(
            app,
            [
                lambda client, booking_id=booking_id, admin=admin: client.post(
                    "/accept_request", json={"id": booking_id}, headers=admin.headers
                )
                for booking_id, admin in zip(ids, admins, strict=True)
            ],
        )
        assert {r.status_code for r in responses} <= {200, 409}, [r.json for r in responses]
        accepted = sorted(
            (r.json["event_time"], r.json["end_time"]) for r in responses if r.status_code == 200
        )
        assert accepted, "one of them at least is accepted"
        for (_, end), (start, _) in pairwise(accepted):
            gap = datetime.fromisoformat(start) - datetime.fromisoformat(end)
            assert gap >= timedelta(minutes=BUFFER), accepted
    listed = api.client.get(
        "/list_requests",
        query_string={"status": "accepted", "resource_id": room["id"], "limit": 100},
        headers=admins[0].headers,
    ).json["bookings"]
    times = [(datetime.fromisoformat(b["event_time"]), datetime.fromisoformat(b["end_time"]))
             for b in listed]  # fmt: skip
    assert all(b[0] - a[1] >= timedelta(minutes=BUFFER) for a, b in pairwise(times))
