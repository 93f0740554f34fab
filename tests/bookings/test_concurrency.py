"""No double booking, ever: races between admins, and the database's own guarantee."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from my_app.extensions import db
from tests.support.api import future
from tests.support.concurrency import at_once


def test_sixteen_admins_accepting_overlapping_requests_at_once_accept_exactly_one(app, api):
    admin = api.admin()
    requester = api.user()
    ids = [
        api.booking(requester, event_time=future(48, minutes=i), duration_minutes=60)["id"]
        for i in range(16)
    ]

    def accept(booking_id):
        return lambda client: client.post(
            "/accept_request", json={"id": booking_id}, headers=admin.headers
        )

    responses = at_once(app, [accept(i) for i in ids])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 15, [r.json for r in responses]
    accepted = api.client.get("/list_requests?status=accepted", headers=admin.headers).json
    assert len(accepted["bookings"]) == 1


def test_accept_racing_reject_has_one_winner_and_one_history_row(app, api):
    admin, other_admin = api.admin(), api.admin()
    booking = api.booking(api.user())
    responses = at_once(
        app,
        [
            lambda c: c.post("/accept_request", json={"id": booking["id"]}, headers=admin.headers),
            lambda c: c.post(
                "/reject_request", json={"id": booking["id"]}, headers=other_admin.headers
            ),
        ],
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    history = api.client.get(f"/request/{booking['id']}/history", headers=admin.headers).json
    assert len(history["history"]) == 2


def _insert_accepted(app, start: datetime, minutes: int, requester_id: int) -> None:
    values = {
        "resource_id": 1, "topic": "direct", "event_time": start, "duration_minutes": minutes,
        "end_time": start + timedelta(minutes=minutes), "street": "s", "city": "c",
        "country": "US", "status": "accepted", "requested_by_id": requester_id,
        "created_at": start, "updated_at": start,
    }  # fmt: skip
    from my_app.models import BookingRequest

    with app.app_context():
        db.session.execute(sa.insert(BookingRequest).values(**values))
        db.session.commit()


def test_the_database_itself_refuses_an_overlapping_accepted_row(app, api):
    requester = api.user()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    _insert_accepted(app, start, 60, requester.id)
    _insert_accepted(app, start + timedelta(minutes=60), 60, requester.id)  # back to back: fine
    with pytest.raises(IntegrityError):
        _insert_accepted(app, start + timedelta(minutes=30), 60, requester.id)
    with app.app_context():
        db.session.rollback()


def test_the_database_refuses_an_update_into_overlap(app, api):
    admin, requester = api.admin(), api.user()
    first = api.booking(requester, event_time=future(48))
    second = api.booking(requester, event_time=future(48, minutes=30))
    api.decide(admin, "accept", first["id"])
    from my_app.models import BookingRequest

    with app.app_context(), pytest.raises(IntegrityError):
        db.session.execute(
            sa.update(BookingRequest)
            .where(BookingRequest.id == second["id"])
            .values(status="accepted")
        )
    with app.app_context():
        db.session.rollback()


def test_paging_while_rows_are_inserted_has_no_duplicates_or_skips(app, api):
    admin, requester = api.admin(), api.user()
    original = {api.booking(requester, event_time=future(24 + i))["id"] for i in range(12)}
    seen = []
    for number, page in enumerate(api.pages("/list_requests", admin.headers, limit=3), 1):
        seen += [b["id"] for b in page["bookings"]]
        # Someone books a slot before everything listed so far, and one far ahead.
        api.booking(requester, event_time=future(1, minutes=number))
    assert len(seen) == len(set(seen))
    assert original <= set(seen)
