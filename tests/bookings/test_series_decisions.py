"""Deciding a series: every occurrence at once, in one transaction, from `from` on; one
history entry and event per occurrence, one e-mail per decision."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import BookingEvent, BookingRequest, BookingStatus, User
from my_app.services import bookings, catalog, events
from my_app.services import series as series_service
from my_app.services.transaction import transaction
from tests.bookings.series_steps import BERLIN, decide_series, series_body, series_of
from tests.support.api import assert_problem, local_time, monday_in


@pytest.fixture
def setting(api):
    admin, alice = api.admin(), api.user()
    room = api.resource(admin, time_zone=BERLIN)
    return admin, alice, room


def _statuses(series: dict) -> list[str]:
    return [o["status"] for o in series["occurrences"]]


def _event_types(app, ids: list[int]) -> list[str]:
    with app.app_context():
        types = db.session.scalars(
            sa.select(BookingEvent.type).where(BookingEvent.booking_id.in_(ids))
        ).all()
        db.session.rollback()
    return sorted(types)


def _accepted_one_off(api, admin, room, start: str) -> dict:
    booking = api.booking(api.user(), resource_id=room["id"], event_time=start)
    assert api.decide(admin, "accept", booking["id"]).status_code == 200
    return booking


def test_accept_accepts_every_occurrence_with_history_events_and_one_mail(app, api, setting):
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=5"))
    api.mailbox.clear()
    response = decide_series(api, admin, "accept", series["id"])
    assert response.status_code == 200, response.json
    assert _statuses(response.json) == ["accepted"] * 5
    assert {o["decided_by"]["id"] for o in response.json["occurrences"]} == {admin.id}
    ids = [o["id"] for o in series["occurrences"]]
    assert _event_types(app, ids) == ["booking.accepted"] * 5 + ["booking.submitted"] * 5
    history = api.client.get(f"/request/{ids[3]}/history", headers=alice.headers).json
    assert [h["to_status"] for h in history["history"]] == ["pending", "accepted"]
    [mail] = api.mailbox.to(alice.email)
    assert f"series #{series['id']}" in mail["Subject"] and "accepted" in mail["Subject"]


def test_accept_fail_with_one_conflict_is_409_listing_it_and_changes_nothing(api, setting):
    admin, alice, room = setting
    day = monday_in(3)
    series = series_of(api, alice, series_body(room["id"], day, "FREQ=WEEKLY;COUNT=4"))
    taken = _accepted_one_off(api, admin, room, local_time(BERLIN, day + timedelta(21), "10:30"))
    problem = assert_problem(decide_series(api, admin, "accept", series["id"]), 409)
    [listed] = problem["occurrences"]
    assert listed["conflicts"] == [taken["id"]]
    assert listed["event_time"] == series["occurrences"][3]["event_time"]
    seen = api.client.get(f"/series/{series['id']}", headers=admin.headers).json
    assert _statuses(seen) == ["pending"] * 4


def test_accept_fail_with_a_blackout_is_409_listing_what_it_covers_and_changes_nothing(
    app, api, setting
):
    """The blackout is the move's guard, for all the occurrences at once: none is moved."""
    admin, alice, room = setting
    day = monday_in(3)
    series = series_of(api, alice, series_body(room["id"], day, "FREQ=WEEKLY;COUNT=3"))
    painting = {
        "start": local_time(BERLIN, day + timedelta(14), "00:00"),
        "end": local_time(BERLIN, day + timedelta(15), "00:00"),
        "reason": "Painting",
    }
    path = f"/resources/{room['id']}/blackouts"
    assert api.client.post(path, json=painting, headers=admin.headers).status_code == 201
    problem = assert_problem(decide_series(api, admin, "accept", series["id"]), 409)
    [listed] = problem["occurrences"]
    assert listed["event_time"] == series["occurrences"][2]["event_time"]
    assert "Painting" in listed["reason"] and listed["conflicts"] == []
    seen = api.client.get(f"/series/{series['id']}", headers=admin.headers).json
    assert _statuses(seen) == ["pending"] * 3
    ids = [o["id"] for o in series["occurrences"]]
    assert _event_types(app, ids) == ["booking.submitted"] * 3


def test_accept_fail_within_the_buffer_of_an_accepted_request_is_409_naming_it(api, setting):
    """Refused by the database (the buffer's trigger), explained as the rules would."""
    admin, alice, _ = setting
    room = api.resource(admin, time_zone=BERLIN, rules={"buffer_minutes": 30})
    day = monday_in(3)
    series = series_of(api, alice, series_body(room["id"], day, "FREQ=WEEKLY;COUNT=3"))
    near = _accepted_one_off(api, admin, room, local_time(BERLIN, day + timedelta(7), "11:15"))
    problem = assert_problem(decide_series(api, admin, "accept", series["id"]), 409)
    [listed] = problem["occurrences"]
    assert listed["conflicts"] == [near["id"]] and "30-minute buffer" in listed["reason"]
    seen = api.client.get(f"/series/{series['id']}", headers=admin.headers).json
    assert _statuses(seen) == ["pending"] * 3


def test_accept_skip_rejects_the_conflicting_ones_with_reason_conflict(api, setting):
    admin, alice, room = setting
    day = monday_in(3)
    series = series_of(api, alice, series_body(room["id"], day, "FREQ=WEEKLY;COUNT=4"))
    taken = _accepted_one_off(api, admin, room, local_time(BERLIN, day + timedelta(7), "09:30"))
    api.mailbox.clear()
    response = decide_series(api, admin, "accept", series["id"], on_conflict="skip")
    assert response.status_code == 200, response.json
    assert _statuses(response.json) == ["accepted", "rejected", "accepted", "accepted"]
    assert response.json["occurrences"][1]["reason"] == "conflict"
    assert response.json["skipped"][-1]["conflicts"] == [taken["id"]]
    assert len(api.mailbox.to(alice.email)) == 1


def test_accept_from_leaves_earlier_occurrences_pending_and_ignores_their_conflicts(api, setting):
    admin, alice, room = setting
    day = monday_in(3)
    series = series_of(api, alice, series_body(room["id"], day, "FREQ=WEEKLY;COUNT=4"))
    _accepted_one_off(api, admin, room, local_time(BERLIN, day, "10:30"))
    since = series["occurrences"][1]["event_time"]
    response = decide_series(api, admin, "accept", series["id"], **{"from": since})
    assert response.status_code == 200, response.json
    assert _statuses(response.json) == ["pending", "accepted", "accepted", "accepted"]


def test_past_occurrences_are_never_decided_nor_reported_as_conflicts(app, api, setting):
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3"))
    first = series["occurrences"][0]["id"]
    yesterday = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    with app.app_context():  # the first occurrence's time has come and gone
        db.session.execute(
            sa.update(BookingRequest)
            .where(BookingRequest.id == first)
            .values(event_time=yesterday, end_time=yesterday + timedelta(hours=1))
        )
        db.session.execute(
            sa.insert(BookingRequest).values(
                resource_id=room["id"], topic="then", event_time=yesterday,
                duration_minutes=60, end_time=yesterday + timedelta(hours=1), street="s",
                city="c", country="US", status="accepted", requested_by_id=admin.id,
                created_at=yesterday, updated_at=yesterday,
            )
        )  # fmt: skip
        db.session.commit()
    response = decide_series(api, admin, "accept", series["id"])
    assert response.status_code == 200, response.json
    assert _statuses(response.json) == ["pending", "accepted", "accepted"]


def test_reject_rejects_every_pending_occurrence_with_the_reason(api, setting):
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=3"))
    api.mailbox.clear()
    response = decide_series(api, admin, "reject", series["id"], reason="Room closed")
    assert response.status_code == 200, response.json
    assert {(o["status"], o["reason"]) for o in response.json["occurrences"]} == {
        ("rejected", "Room closed")
    }
    [mail] = api.mailbox.to(alice.email)
    assert "Room closed" in mail.get_content()


def test_cancel_from_a_date_cancels_pending_and_accepted_occurrences_from_there(api, setting):
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=4"))
    assert decide_series(api, admin, "accept", series["id"]).status_code == 200
    single = series["occurrences"][3]["id"]
    assert api.decide(alice, "cancel", single).status_code == 200
    since = series["occurrences"][2]["event_time"]
    api.mailbox.clear()
    response = decide_series(api, alice, "cancel", series["id"], **{"from": since})
    assert response.status_code == 200, response.json
    assert _statuses(response.json) == ["accepted", "accepted", "cancelled", "cancelled"]
    assert api.mailbox.to(alice.email) == []  # she cancelled it herself


def test_who_may_decide_a_series(api, setting):
    admin, alice, room = setting
    approver, stranger = api.user(), api.user()
    api.client.put(
        f"/resources/{room['id']}/approvers", json={"user_ids": [approver.id]},
        headers=admin.headers,
    )  # fmt: skip
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=2"))
    for action in ("accept", "reject", "cancel"):
        assert_problem(decide_series(api, stranger, action, series["id"]), 403)
    for action in ("accept", "reject"):
        assert_problem(decide_series(api, alice, action, series["id"]), 403)
    assert_problem(decide_series(api, admin, "accept", 99999), 404)
    assert decide_series(api, approver, "accept", series["id"]).status_code == 200


def test_accept_under_todays_rules_lists_the_occurrences_that_break_them(api, setting):
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=3"))
    rules = {"rules": {"max_duration_minutes": 30}}
    api.client.patch(f"/resources/{room['id']}", json=rules, headers=admin.headers)
    problem = assert_problem(decide_series(api, admin, "accept", series["id"]), 409)
    assert len(problem["occurrences"]) == 3
    assert "max_duration_minutes" in problem["occurrences"][0]["reason"]


def test_an_accepted_series_and_its_events_commit_together(app, api, setting, monkeypatch):
    """The outbox rows of a decision are in its transaction: when writing them is refused,
    the occurrences stay as they were (nothing refused, so the move is the last statement
    but one, and must not carry the COMMIT before its events)."""
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3"))
    rows_for = events.rows_for

    def clashing(bookings, type, shown=None):  # the second event reuses the first one's id
        rows = rows_for(bookings, type, shown)
        if type == "booking.accepted":
            rows[1]["id"] = rows[0]["id"]
        return rows

    monkeypatch.setattr(events, "rows_for", clashing)
    response = decide_series(api, admin, "accept", series["id"])
    assert response.status_code == 409, response.json
    monkeypatch.undo()
    shown = api.client.get(f"/series/{series['id']}", headers=alice.headers)
    assert _statuses(shown.json) == ["pending"] * 3
    assert _event_types(app, [o["id"] for o in series["occurrences"]]) == ["booking.submitted"] * 3


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_a_move_of_many_foreseen_moves_only_the_rows_still_as_read(app, api, setting):
    """A move of many requests the session holds (one statement with their history and
    events): a row changed since it was read (here its version, by another connection) is
    left alone, gets no history row and no event, and its object is as it was read."""
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3"))
    ids = [o["id"] for o in series["occurrences"]]
    with app.app_context():
        held = [db.session.get(BookingRequest, booking_id) for booking_id in ids]
        with db.engine.begin() as other:  # committed before the move is sent
            other.execute(
                sa.update(BookingRequest)
                .where(BookingRequest.id == ids[1])
                .values(version=BookingRequest.version + 1)
            )
        with transaction():
            moved = bookings.move(
                ids,
                BookingStatus.PENDING,
                BookingStatus.ACCEPTED,
                actor=db.session.get(User, admin.id),
            )
            assert [b.id for b in moved] == [ids[0], ids[2]]
            unmoved = held[1]
            assert (unmoved.status, unmoved.version) == ("pending", 1)  # as read, restored
        # After the commit, as the database has them: the other connection's version too.
        assert [(b.status, b.version) for b in held] == [
            ("accepted", 2),
            ("pending", 2),
            ("accepted", 2),
        ]
        db.session.remove()
    assert _event_types(app, ids) == ["booking.accepted"] * 2 + ["booking.submitted"] * 3
    history = api.client.get(f"/request/{ids[1]}/history", headers=alice.headers).json
    assert [h["to_status"] for h in history["history"]] == ["pending"]


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_an_occurrence_changed_while_the_series_waits_for_its_turn_keeps_its_change(
    app, api, setting, monkeypatch
):
    """Accepting a series under `fail` writes its history rows and events on the way to the
    resource's turn (taken first here, as when the series was not as read). An occurrence
    another connection changes after that (here cancelled, committed while the acceptance
    holds the turn) is left alone by the move, and the rows written ahead for it are gone:
    no `accepted` history row, no `booking.accepted` event."""
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3"))
    ids = [o["id"] for o in series["occurrences"]]
    take_turn = catalog.take_turn

    def turn_then_cancel(resource_id, ahead=()):
        resource = take_turn(resource_id, ahead=ahead)
        assert ahead, "the acceptance's rows go on the way to the turn"
        with db.engine.begin() as other:  # its own connection: not held by the turn
            other.execute(
                sa.update(BookingRequest)
                .where(BookingRequest.id == ids[1])
                .values(status="cancelled", version=BookingRequest.version + 1)
            )
        return resource

    monkeypatch.setattr(catalog, "take_turn", turn_then_cancel)
    monkeypatch.setattr(series_service, "_accept_at_once", lambda *args: None)
    response = decide_series(api, admin, "accept", series["id"])
    monkeypatch.undo()
    assert response.status_code == 200, response.json
    shown = api.client.get(f"/series/{series['id']}", headers=alice.headers).json
    assert _statuses(shown) == ["accepted", "cancelled", "accepted"]
    assert _event_types(app, ids) == ["booking.accepted"] * 2 + ["booking.submitted"] * 3
    history = api.client.get(f"/request/{ids[1]}/history", headers=alice.headers).json
    assert [h["to_status"] for h in history["history"]] == ["pending"]
    for kept in (ids[0], ids[2]):
        history = api.client.get(f"/request/{kept}/history", headers=alice.headers).json
        assert [h["to_status"] for h in history["history"]] == ["pending", "accepted"]


def _changed_after_the_read(monkeypatch, app, change: str) -> list[str]:
    """Run `change` (SQL) on a connection of its own, committed, right after an acceptance
    has read the series' occurrences and before it sends its move, once."""
    done: list[str] = []
    occurrences = series_service._occurrences

    def then_changed(series):
        found = occurrences(series)
        if not done:
            with db.engine.begin() as other:
                other.execute(sa.text(change))
            done.append(change)
        return found

    monkeypatch.setattr(series_service, "_occurrences", then_changed)
    return done


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_a_series_is_accepted_by_the_rules_at_its_move(app, api, setting, monkeypatch):
    """The rules are checked on the resource as read; the move, sent after the resource's
    turn in one round trip, is guarded by it being as read. A rule changed in between moves
    nothing, and the series is accepted again inside the turn: a 409 listing what breaks it."""
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=3"))
    done = _changed_after_the_read(
        monkeypatch, app, f"UPDATE resources SET max_duration_minutes = 30 WHERE id = {room['id']}"
    )
    problem = assert_problem(decide_series(api, admin, "accept", series["id"]), 409)
    assert done and len(problem["occurrences"]) == 3
    assert "max_duration_minutes" in problem["occurrences"][0]["reason"]
    ids = [o["id"] for o in series["occurrences"]]
    assert _event_types(app, ids) == ["booking.submitted"] * 3


@pytest.mark.parametrize("stack", [pytest.param(("postgresql", "redis"), id="postgresql")])
def test_a_blackout_made_after_a_series_was_read_is_named(app, api, setting, monkeypatch):
    admin, alice, room = setting
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=DAILY;COUNT=3"))
    covered = series["occurrences"][1]
    done = _changed_after_the_read(
        monkeypatch,
        app,
        "INSERT INTO blackouts (resource_id, start_time, end_time, reason, created_at) VALUES"
        f" ({room['id']}, '{covered['event_time']}', '{covered['end_time']}', 'painting', now())",
    )
    problem = assert_problem(decide_series(api, admin, "accept", series["id"]), 409)
    assert done and [o["event_time"] for o in problem["occurrences"]] == [covered["event_time"]]
    assert "painting" in problem["occurrences"][0]["reason"]
    shown = api.client.get(f"/series/{series['id']}", headers=alice.headers).json
    assert _statuses(shown) == ["pending"] * 3
    assert _event_types(app, [o["id"] for o in series["occurrences"]]) == ["booking.submitted"] * 3
