"""How many statements and round trips a submit and an accept send, and that each still
writes its request, history row and event together (or nothing).

On PostgreSQL a submit to a resource its worker has not read yet (as here: each test's app
is new) is one read, which the transaction's beginning and bounds go with, and one write
that carries the commit: two round trips (one statement once the resource is read:
test_known_resources.py); an accept one read of the request and its resource (with the
beginning), then the resource's turn and the guarded move with its history row and its
event, carrying the commit, in one round trip. A refusal found by the database leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from config import normalise_database_url
from my_app.database import BoundedConnection
from my_app.extensions import db
from my_app.services import bookings
from tests.bookings.series_steps import decide_series, series_body, series_of
from tests.support.api import ApiClient, assert_problem, future

POSTGRESQL = [pytest.param(("postgresql", "redis"), id="postgresql-redis")]


@contextlib.contextmanager
def statements(app):
    """The SQL statements the app's engine sends inside the block, flattened to one line."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, *args):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextlib.contextmanager
def round_trips(monkeypatch):
    """How many times psycopg sends something and waits for its answer inside the block:
    each statement, and each BEGIN or COMMIT sent on its own, is one, and so is each
    pipeline's end (what was queued in it goes in one round trip)."""
    count = [0]

    def counting(exchange):
        def counted(*args):
            count[0] += 1
            return exchange(*args)

        return counted

    # The connection reaches it through its module, the cursor by its own name.
    exchange = psycopg.generators.execute
    monkeypatch.setattr(psycopg.generators, "execute", counting(exchange))
    monkeypatch.setattr(psycopg._cursor_base, "execute", counting(exchange))
    pipeline = psycopg._pipeline_base.BasePipeline
    for name in ("_sync_gen", "_exit_gen"):
        monkeypatch.setattr(pipeline, name, counting(getattr(pipeline, name)))
    yield count
    monkeypatch.undo()


@contextlib.contextmanager
def commands(monkeypatch):
    """What is sent around the statements: the transaction's BEGIN, its bounds, the COMMIT."""
    sent: list[bytes] = []
    execute = BoundedConnection.execute

    def recorded(self, query, *args, **kwargs):
        sent.append(query)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(BoundedConnection, "execute", recorded)
    yield sent
    monkeypatch.undo()


BOUNDS = b"SELECT set_config('statement_timeout'"


def rows(app, booking_id: int) -> tuple[list[tuple], list[str]]:
    """The request's history (from, to) and its event types, oldest first."""
    with app.app_context():
        history = db.session.execute(
            sa.text(
                "SELECT from_status, to_status FROM booking_history"
                " WHERE booking_id = :id ORDER BY id"
            ),
            {"id": booking_id},
        ).all()
        events = db.session.scalars(
            sa.text("SELECT type FROM booking_events WHERE booking_id = :id ORDER BY occurred_at"),
            {"id": booking_id},
        ).all()
        db.session.remove()
    return [tuple(row) for row in history], list(events)


def warm_up(api, account) -> None:
    """A first request, so the revocation store's cache holds the account's session (a miss
    reads it from the database, on a connection of its own)."""
    assert api.client.get("/me", headers=account.headers).status_code == 200


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_a_submit_reads_once_and_writes_once(app, api, monkeypatch):
    alice = api.user()
    warm_up(api, alice)
    with (
        statements(app) as sent,
        round_trips(monkeypatch) as waits,
        commands(monkeypatch) as around,
    ):
        response = api.submit(alice, event_time=future(hours=30))
    assert response.status_code == 201
    assert len(sent) == 2, sent
    assert waits == [2]  # the read takes the beginning along, the write the commit
    assert around[0] == b"BEGIN" and around[1].startswith(BOUNDS) and around[2:] == [b"COMMIT"]
    assert sent[0].startswith("SELECT resources.id")
    assert sent[1].startswith("WITH ")
    assert "INSERT INTO booking_history" in sent[1] and "INSERT INTO booking_events" in sent[1]
    assert rows(app, response.json["id"]) == ([(None, "pending")], ["booking.submitted"])


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_an_accept_is_two_round_trips_and_holds_its_turn_for_the_move(app, api, monkeypatch):
    alice, admin = api.user(), api.admin()
    booking = api.booking(alice, event_time=future(hours=30))
    warm_up(api, admin)
    with (
        statements(app) as sent,
        round_trips(monkeypatch) as waits,
        commands(monkeypatch) as around,
    ):
        response = api.decide(admin, "accept", booking["id"])
    assert response.status_code == 200
    assert len(sent) == 3, "\n".join(s[:90] for s in sent)
    # The read takes the beginning along; the turn goes ahead of the move, which takes the
    # commit along: the turn is held by the database alone, for the move and its commit.
    assert waits == [2]
    assert around[0] == b"BEGIN" and around[1].startswith(BOUNDS) and around[3:] == [b"COMMIT"]
    read, turn, move = sent
    assert around[2].startswith("SELECT") and "FOR NO KEY UPDATE" in around[2]  # the turn
    assert read.startswith("SELECT booking_requests.id") and "FOR " not in read
    assert "md5(CAST(resources AS TEXT))" in read  # the resource's digest, for the guard
    assert turn.startswith("SELECT") and turn.endswith("FOR NO KEY UPDATE")
    assert move.startswith("WITH moved AS (UPDATE booking_requests")
    assert "INSERT INTO booking_history" in move and "INSERT INTO booking_events" in move
    assert "md5(CAST(resources AS TEXT))" in move  # nothing moves if the resource changed
    history, events = rows(app, booking["id"])
    assert history == [(None, "pending"), ("pending", "accepted")]
    assert events == ["booking.submitted", "booking.accepted"]
    with app.app_context():
        payload = db.session.scalar(
            sa.text("SELECT payload FROM booking_events WHERE booking_id = :id AND type = :t"),
            {"id": booking["id"], "t": "booking.accepted"},
        )
        db.session.remove()
    data = json.loads(payload)["data"]
    assert data == response.json  # the answer, as the event tells it
    assert data["status"] == "accepted" and data["decided_by"]["id"] == admin.id


def changed_after_the_read(monkeypatch, app, change: str) -> list[str]:
    """Run `change` (SQL) on a connection of its own, committed, right after an accept has
    read its request and resource and before it sends its move, once."""
    done: list[str] = []
    decided = bookings._decided

    def then_changed(row):
        found = decided(row)
        if not done:
            with app.app_context(), db.engine.begin() as other:
                other.execute(sa.text(change))
            done.append(change)
        return found

    monkeypatch.setattr(bookings, "_decided", then_changed)
    return done


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_an_accept_judges_a_resource_changed_after_its_read_by_the_rules_at_the_move(
    app, api, monkeypatch
):
    """The rules are checked on what the accept read; the move is guarded by the resource
    being as read (its row's digest). A rule changed in between moves nothing, and the
    accept is made again inside the turn, by the rules as they are: a 422 naming it."""
    alice, admin = api.user(), api.admin()
    booking = api.booking(alice, event_time=future(hours=30), duration_minutes=60)
    warm_up(api, admin)
    done = changed_after_the_read(
        monkeypatch, app, "UPDATE resources SET max_duration_minutes = 30 WHERE id = 1"
    )
    problem = assert_problem(api.decide(admin, "accept", booking["id"]), 422)
    assert done and "max_duration_minutes" in json.dumps(problem)
    assert rows(app, booking["id"]) == ([(None, "pending")], ["booking.submitted"])


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_an_accept_sees_a_blackout_committed_after_its_read(app, api, monkeypatch):
    """A blackout made after the accept's read, committed before its turn: the move, begun
    once the turn is held, sees it and moves nothing; the 409 names it."""
    alice, admin = api.user(), api.admin()
    start = future(hours=50)
    booking = api.booking(alice, event_time=start, duration_minutes=60)
    warm_up(api, admin)
    done = changed_after_the_read(
        monkeypatch,
        app,
        "INSERT INTO blackouts (resource_id, start_time, end_time, reason, created_at)"
        f" VALUES (1, '{start}', '{future(hours=51)}', 'painting', now())",
    )
    problem = assert_problem(api.decide(admin, "accept", booking["id"]), 409)
    assert done and "painting" in problem["detail"]
    assert rows(app, booking["id"]) == ([(None, "pending")], ["booking.submitted"])


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_a_series_acceptance_holds_its_turn_for_the_move_alone(app, api, monkeypatch):
    """Accepting a series under `fail`: the series with its resource, and its occurrences,
    are read; then, in one round trip, its history rows and events, the resource's turn if
    it is as read, and the move with the commit: the turn is held by the database alone."""
    alice, admin = api.user(), api.admin()
    first = (datetime.now(UTC) + timedelta(days=60)).date()
    series = series_of(api, alice, series_body(1, first, "FREQ=DAILY;COUNT=3"))
    warm_up(api, admin)
    with statements(app) as sent, round_trips(monkeypatch) as waits:
        response = decide_series(api, admin, "accept", series["id"])
    assert response.status_code == 200, response.json
    assert len(sent) == 5, "\n".join(s[:90] for s in sent)
    assert waits == [3]  # the series (with the beginning), its occurrences, the acceptance
    assert "md5(CAST(resources AS TEXT))" in sent[0]  # the resource's digest, for the guard
    ahead, turn, move = sent[2:]
    assert ahead.startswith("WITH found AS (SELECT given.id")
    assert "INSERT INTO booking_history" in ahead and "INSERT INTO booking_events" in ahead
    assert turn.startswith("SELECT") and turn.endswith("FOR NO KEY UPDATE")
    assert move.startswith("WITH moved AS (UPDATE booking_requests")
    assert "INSERT INTO" not in move and "md5(CAST(resources AS TEXT))" in move
    for occurrence in series["occurrences"]:
        history, events = rows(app, occurrence["id"])
        assert history == [(None, "pending"), ("pending", "accepted")]
        assert events == ["booking.submitted", "booking.accepted"]
    with app.app_context():
        told = db.session.scalars(
            sa.text(
                "SELECT payload FROM booking_events WHERE type = 'booking.accepted'"
                " AND booking_id = ANY(:ids) ORDER BY booking_id"
            ),
            {"ids": [o["id"] for o in series["occurrences"]]},
        ).all()
        db.session.remove()
    # The answer shows each occurrence as its event tells it (one dump for both).
    assert [json.loads(payload)["data"] for payload in told] == response.json["occurrences"]
    assert {o["status"] for o in response.json["occurrences"]} == {"accepted"}


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_a_decision_somebody_else_made_first_leaves_the_request_as_read(app, api):
    """A reject whose request an accept moved first: the 409 names the status now, and the
    rejected request gets no history row and no event of the reject's."""
    alice, admin = api.user(), api.admin()
    booking = api.booking(alice, event_time=future(hours=31))
    assert api.decide(admin, "accept", booking["id"]).status_code == 200
    problem = assert_problem(api.decide(admin, "reject", booking["id"]), 409)
    assert "accepted" in problem["detail"]
    history, events = rows(app, booking["id"])
    assert history == [(None, "pending"), ("pending", "accepted")]
    assert events == ["booking.submitted", "booking.accepted"]


def test_an_accept_the_database_refuses_leaves_no_trace(app, api):
    """The overlap is the database's to refuse now: the 409 names what is in the way, and the
    refused request keeps its status, its version, its history and its events."""
    alice, admin = api.user(), api.admin()
    start = future(hours=40)
    first = api.booking(alice, event_time=start, duration_minutes=60)
    second = api.booking(alice, event_time=start, duration_minutes=30)
    assert api.decide(admin, "accept", first["id"]).status_code == 200
    problem = assert_problem(api.decide(admin, "accept", second["id"]), 409)
    assert f"accepted request(s) {first['id']}" in problem["detail"]
    again = api.client.get(f"/request/{second['id']}", headers=admin.headers)
    assert again.json == second
    assert rows(app, second["id"]) == ([(None, "pending")], ["booking.submitted"])


def test_an_accept_a_blackout_stands_in_the_way_of_names_it(app, api):
    """The blackout is checked by the move's own guard: the request is as it was read, so the
    409 says which blackout, and nothing is written."""
    alice, admin = api.user(), api.admin()
    start = future(hours=50)
    booking = api.booking(alice, event_time=start, duration_minutes=60)
    made = api.client.post(
        "/resources/1/blackouts",
        json={"start": start, "end": future(hours=51), "reason": "painting"},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.json
    problem = assert_problem(api.decide(admin, "accept", booking["id"]), 409)
    assert "blackout" in problem["detail"] and "painting" in problem["detail"]
    assert rows(app, booking["id"]) == ([(None, "pending")], ["booking.submitted"])


@pytest.mark.parametrize("stack", POSTGRESQL)
def test_every_write_works_with_prepared_statements(make_app, database_url, mailbox):
    """`?prepare_threshold=0` (for a server reached directly; 0 prepares every statement from
    its first run): psycopg never prepares the string that begins a transaction with its
    bounds (several statements cannot be), nor the COMMIT sent along, nor a COPY."""
    separator = "&" if "?" in database_url else "?"
    app = make_app(
        blacklist="redis",
        SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url)
        + f"{separator}prepare_threshold=0",
    )
    api = ApiClient(app.test_client(), app.test_cli_runner(), mailbox)
    alice, admin = api.user(), api.admin()
    # Writes one after the other, as under load.
    submitted = [api.submit(alice, event_time=future(hours=hours)) for hours in range(30, 36)]
    assert [response.status_code for response in submitted] == [201] * 6
    for response in submitted:
        assert api.decide(admin, "accept", response.json["id"]).status_code == 200
    first = (datetime.now(UTC) + timedelta(days=60)).date()
    for week in range(3):
        body = series_body(1, first + timedelta(days=7 * week), "FREQ=DAILY;COUNT=3")
        series = series_of(api, alice, body)
        decided = decide_series(api, admin, "accept", series["id"])
        assert decided.status_code == 200, decided.json
