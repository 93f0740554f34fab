"""The booking workflow: the one state machine every path goes through.

    pending ──► accepted ──► cancelled
       │           └──────► released   (nobody checked in: services/followups.py)
       ├──► rejected
       ├──► cancelled
       └──► expired

Every status change of every path (a decision, the expiry sweep, the release of
no-shows) goes through
`move`: it checks `TRANSITIONS`, then one guarded UPDATE (`… WHERE id IN (…)
AND status = :from`) moves what nobody moved first, and only those rows get
a history row and an event, in the caller's transaction. Of two concurrent
deciders exactly one wins. Accepted requests of a resource never overlap:
the database refuses an overlapping acceptance (an exclusion constraint on
PostgreSQL, triggers on SQLite), and the refusal becomes a 409 that names the
accepted requests in the way. Accepts of one resource take turns (a lock on
the resource row): without that, two PostgreSQL transactions each waiting on
the other's uncommitted constraint entry deadlock, and the victim would see
a 503. The same database rule keeps accepted requests of a resource at least
its `buffer_minutes` apart (a trigger, migration 0007).

The resource's rules (services/rules.py) are checked on submit and again on
accept, as they are at that moment; the quota on submit. A resource with
`approval: "auto"` accepts a request as part of its submission, through the
same `move` and checks as an admin's accept; `conflicts` says what is in the way.

Creating a blackout takes the same turn as accepting, and an accept looks for
blackouts only once it has its turn, so of a blackout and an accept that meet,
made at the same moment, one is refused. Admins decide every request; a
resource's approvers decide its requests (`permissions.require_approver_or_admin`),
and are told when one waits.

A write answers with the objects it holds (`transaction(keep_state=True)`):
the values it wrote are the values the database has, so nothing is read back
after the commit, and the requester's e-mail leaves after the answer.

Each write sends as few statements as its rules allow, each built once. On
PostgreSQL a submit to a resource its worker has read before (services/
known_resources.py) checks the rules against that resource and sends one statement,
which writes the request, its history row and its event (data-modifying CTEs) only if
the resource's row is still as read (its digest), active and not blacked out, and
answers the new id and whom to tell (`_submit_known`). A resource not read yet, one
with a quota or `approval: "auto"`, and a refusal of that statement (which then wrote
nothing) take the other way: the submit reads once (the resource, a blackout in the
way, whom to tell, the new id; the worker keeps the resource) and writes once (the
request, its history row and its event, as data-modifying CTEs:
`transaction.write_together`). An accept reads the request and its resource (with a
digest of the resource's row) and checks the rules on them; then, in one round trip,
takes the turn if the resource is as read and moves the request with its history row
and its event (no blackout and "the resource is as read" are the move's guards;
overlaps and buffers are the database's to refuse): the turn is held by the database
alone, never across a round trip to the worker. If anything was not as read, nothing
moved, and the accept is made again with the turn taken first (`_accept_in_turn`). A
series accepted under `fail` does the same for all its occurrences, its history rows
and events written on the way to its turn (`Foreseen.write_ahead`). The last statement
of each carries the COMMIT (`transaction.LAST`), and the first the transaction's
beginning and bounds (`database.send`): a submit is one round trip to a resource
already read and unchanged, two otherwise (three if the one statement refused), and an
accept two. On PostgreSQL these statements go straight to the session's psycopg
connection (`transaction.execute`), and the objects the answer is made of are built
from their rows (`transaction.stored`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from my_app import metrics
from my_app.database import WRITES, array_items, array_parameter
from my_app.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from my_app.extensions import db
from my_app.models import (
    Blackout,
    BookableResource,
    BookingHistory,
    BookingRequest,
    BookingStatus,
    User,
    resource_approvers,
)
from my_app.models.event import BookingEvent
from my_app.models.types import utcnow
from my_app.schemas.booking import Shown
from my_app.services import (
    approvers,
    blackouts,
    catalog,
    identity,
    known_resources,
    mail,
    quota,
    rules,
)
from my_app.services import events as outbox
from my_app.services.booking_pages import read_page
from my_app.services.pagination import Page
from my_app.services.permissions import (
    approved_resource_ids,
    require_admin,
    require_approver_or_admin,
    require_owner_approver_or_admin,
)
from my_app.services.transaction import (
    Ahead,
    Columns,
    execute,
    in_session,
    json_rows,
    stored,
    transaction,
    write_together,
)

Status = BookingStatus
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.ACCEPTED, Status.REJECTED, Status.CANCELLED, Status.EXPIRED}),
    Status.ACCEPTED: frozenset({Status.CANCELLED, Status.RELEASED}),
}
NOTIFIED = {Status.ACCEPTED, Status.REJECTED, Status.CANCELLED}


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


# ---------------------------------------------------------------- reading


def get_booking(booking_id: int, deciding: bool = False) -> BookingRequest:
    """The request, or 404; `deciding` leaves out its decider, whom the decision replaces."""
    options = [lazyload(BookingRequest.decided_by)] if deciding else []
    booking = db.session.get(BookingRequest, booking_id, options=options)
    if booking is None:
        raise NotFound(f"There is no booking request {booking_id}.")
    return booking


def visible_booking(actor: User, booking_id: int) -> BookingRequest:
    booking = get_booking(booking_id)
    require_owner_approver_or_admin(
        actor,
        booking.requested_by_id,
        booking.resource_id,
        "see your own booking requests and those of the resources you approve",
    )
    return booking


def history(actor: User, booking_id: int) -> list[BookingHistory]:
    visible_booking(actor, booking_id)
    query = (
        sa.select(BookingHistory)
        .where(BookingHistory.booking_id == booking_id)
        .order_by(BookingHistory.at, BookingHistory.id)
    )
    return list(db.session.scalars(query))


def list_all(actor: User, **filters) -> Page:
    """Every booking request matching `filters` (admin); an approver's, of the resources
    they approve."""
    if actor.is_admin:
        return read_page(**filters)
    approved = approved_resource_ids(actor)
    if not approved:
        require_admin(actor)
    wanted = filters.get("resource_id")
    if wanted is not None and wanted not in approved:
        raise Forbidden(f"You do not approve the requests of resource {wanted}.")
    return read_page(**filters, resource_ids=approved)


def list_own(actor: User, **filters) -> Page:
    """The booking requests `actor` submitted."""
    return read_page(requested_by=actor.id, **filters)


# ---------------------------------------------------------------- writing


def submit(requester: User, resource_id: int, address: dict, **fields) -> BookingRequest:
    """A new request, pending; on a resource with `approval: "auto"` accepted at once, in the
    same transaction, if it conflicts with nothing (409 otherwise, and nothing is stored).

    On PostgreSQL, a resource this worker has read before (`known_resources`) and that has
    neither a quota nor `approval: "auto"` costs one statement (`_submit_known`), which
    writes only if the resource is still as read. Otherwise, and if that statement refused,
    two: one reads the resource, whether a blackout is in the way, whom to tell and the new
    request's id; one writes the request, its history row and its event (services/
    transaction.py, `write_together`), and carries the commit unless the resource accepts
    at once."""
    now = utcnow()
    start = fields["event_time"]
    end = start + timedelta(minutes=fields["duration_minutes"])
    row = {
        **NEW_ROW, **address, **fields, "resource_id": resource_id,
        "requested_by_id": requester.id, "end_time": end, "created_at": now, "updated_at": now,
    }  # fmt: skip
    booking = BookingRequest(**row)
    submitted = _submit_known(requester, booking, row, start, end, now)
    if submitted is not None:
        resource_name, emails = submitted
    else:
        resource_name, emails = _submit_read_first(requester, booking, row, start, end, now)
    metrics.transition(Status.PENDING)
    if booking.status == Status.PENDING:
        approvers.tell(booking, resource_name, emails)
    return booking


def _submit_read_first(
    requester: User, booking: BookingRequest, row: dict, start: datetime, end: datetime,
    now: datetime,
) -> tuple[str, list[str]]:  # fmt: skip
    """`submit` with the resource read first: its name and the approvers to tell."""
    resource_id = booking.resource_id
    with transaction(conflict=lambda: _conflict(booking), keep_state=True):
        read = _read_for_submit(resource_id, requester.id, start, end)
        resource = read.resource
        rules.require_followed(resource, start, end, now)
        quota.require_room(requester, resource, start, booking.duration_minutes)
        if read.blacked_out:
            blackouts.refuse_overlap(resource_id, start, end)
        table = BookingRequest.__table__
        if read.new_id is None:  # SQLite: the id is the insert's
            row["id"] = db.session.execute(sa.insert(table).values(row).returning(table.c.id))
            row["id"] = row["id"].scalar_one()
        else:
            row["id"] = read.new_id
        booking.id = row["id"]
        booking.requested_by, booking.decided_by = identity.as_user(requester), None
        history = _history_row(booking.id, None, Status.PENDING, requester.id, now, None)
        events = outbox.rows_for([booking], "booking.submitted")
        written = [(BookingHistory.__table__, [history]), (BookingEvent.__table__, events)]
        if read.new_id is not None:
            written.insert(0, (table, [row]))
        # With nothing after it, the write carries the COMMIT.
        write_together(*written, last=resource.approval != "auto")
        make_transient_to_detached(booking)  # as stored: nothing left for the ORM to write
        db.session.add(booking)
        if resource.approval == "auto":
            _require_acceptable(booking, catalog.take_turn(resource_id), asked_at=now)
            move([booking.id], Status.PENDING, Status.ACCEPTED)
        resource_name = resource.name
    return resource_name, read.approvers


def _submit_known(
    requester: User, booking: BookingRequest, row: dict, start: datetime, end: datetime,
    now: datetime,
) -> tuple[str, list[str]] | None:  # fmt: skip
    """`submit` in one statement, against the resource as this worker last read it
    (PostgreSQL: `known_resources`): its rules are checked here, and the statement inserts
    the request, its history row and its event only if the resource's row still has the
    digest it had then, is active, and no blackout meets [start, end); it returns the new
    id and the approvers to tell. The resource's name and those approvers; None if the
    resource is not known, has a quota or accepts at once, if its known rules refuse the
    request (the rules as they are now may not), or if the statement refused, having written
    nothing: then the entry is dropped, and `submit` reads the resource and judges again."""
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    known = known_resources.get(bind, booking.resource_id)
    if known is None or not _one_statement_may(known.values):
        return None
    if not rules.followed(known, start, end, now):
        return None
    booking.id = _PLACEHOLDER_ID  # for the event's payload: the statement writes the real one
    booking.requested_by, booking.decided_by = identity.as_user(requester), None
    (event,) = outbox.rows_for([booking], "booking.submitted")
    before, after = _around_id(event["payload"])
    values = {f"request_{column}": value for column, value in row.items()}
    values |= {f"event_{column}": event[column] for column in _EVENT_GIVEN}
    values |= {
        "digest": known.digest, "start": start, "end": end, "history_at": now,
        "history_to_status": Status.PENDING, "payload_before": before, "payload_after": after,
    }  # fmt: skip
    statement = _SUBMIT_KNOWN.get(tuple(row))
    if statement is None:
        statement = _SUBMIT_KNOWN[tuple(row)] = _submit_known_statement(tuple(row))
    with transaction(conflict=lambda: _conflict(booking), keep_state=True):
        rows = execute(statement, values, last=True)  # refused: committed empty
        if rows:
            booking.id = rows[0][0]
            make_transient_to_detached(booking)  # as stored: nothing left for the ORM to write
            db.session.add(booking)
    if not rows:
        booking.id = None
        known_resources.drop(bind, booking.resource_id)
        return None
    return known.values["name"], [email for _, email in rows if email is not None]


def _one_statement_may(resource: Mapping[str, Any]) -> bool:
    """Whether a submit to the resource (its column values) may be one statement: not if it
    has a quota (counted under a lock of its own: `quota.require_room`) or accepts at once
    (its turn and the accept's checks follow the insert)."""
    return resource["quota_minutes"] is None and resource["approval"] != "auto"


_PLACEHOLDER_ID = 0
# The payload's text up to the request's id: its event's id, type and moment, then the
# request, whose id comes first (schemas/event.py; BookingSchema's `shown`).
_ID_AT = '"data":{"id":'
_EVENT_GIVEN = ("id", "type", "occurred_at", "status", "attempts", "next_attempt_at")


def _around_id(payload: str) -> tuple[str, str]:
    """The payload's text before and after the placeholder id, which is the first number
    after `"data":{"id":` (nothing a client gives comes before it)."""
    head, found, tail = payload.partition(f"{_ID_AT}{_PLACEHOLDER_ID},")
    if not found:
        raise RuntimeError("an event payload without the request's id where it is expected")
    return head + _ID_AT, "," + tail


_SUBMIT_KNOWN: dict[tuple[str, ...], sa.Select] = {}  # by the request row's columns


def _submit_known_statement(columns: tuple[str, ...]) -> sa.Select:
    """WITH guard (the resource, if it is still as known, active, and not blacked out),
    new (the request, from the guard's one row or none), its history row and its event
    (the payload with the new id spliced in): the new id and each approver to tell."""
    resources = BookableResource.__table__
    requests = BookingRequest.__table__
    history_table, events = BookingHistory.__table__, BookingEvent.__table__
    moment = Blackout.start_time.type
    guard = (
        sa.select(resources.c.id)
        .where(
            resources.c.id == sa.bindparam("request_resource_id"),
            catalog.AS_READ,
            resources.c.active,
            ~blackouts.meeting_clause(
                resources.c.id,
                sa.bindparam("start", type_=moment),
                sa.bindparam("end", type_=moment),
            ),
        )
        .cte("guard")
    )
    given = [column for column in columns if column != "resource_id"]
    new = (
        sa.insert(requests)
        .from_select(
            ["resource_id", *given],
            sa.select(
                guard.c.id,
                *(sa.bindparam(f"request_{c}", type_=requests.c[c].type) for c in given),
            ),
        )
        .returning(requests.c.id, requests.c.resource_id, requests.c.requested_by_id)
        .cte("new")
    )
    history = (
        sa.insert(history_table)
        .from_select(
            ["booking_id", "from_status", "to_status", "actor_id", "at", "reason"],
            sa.select(
                new.c.id,
                sa.null(),
                sa.bindparam("history_to_status", type_=history_table.c.to_status.type),
                new.c.requested_by_id,
                sa.bindparam("history_at", type_=history_table.c.at.type),
                sa.null(),
            ),
        )
        .returning(history_table.c.id)
        .cte("history")
    )
    payload = (
        sa.bindparam("payload_before", type_=sa.Text)
        + sa.cast(new.c.id, sa.Text)
        + sa.bindparam("payload_after", type_=sa.Text)
    )
    event = (
        sa.insert(events)
        .from_select(
            [*_EVENT_GIVEN, "booking_id", "payload"],
            sa.select(
                *(sa.bindparam(f"event_{c}", type_=events.c[c].type) for c in _EVENT_GIVEN),
                new.c.id,
                payload,
            ),
        )
        .returning(events.c.id)
        .cte("event")
    )
    approver = aliased(User)
    told = sa.and_(
        approver.id == resource_approvers.c.user_id,
        approvers.telling(approver, new.c.requested_by_id),
    )
    return (
        sa.select(new.c.id, approver.email)
        .select_from(new)
        .outerjoin(resource_approvers, resource_approvers.c.resource_id == new.c.resource_id)
        .outerjoin(approver, told)
        .order_by(approver.id)
        .add_cte(history, event)
        .execution_options(**{WRITES: True})
    )


# The columns a new request starts with beside those the submit gives.
NEW_ROW = {
    "status": Status.PENDING, "decided_by_id": None, "decided_at": None, "reason": None,
    "series_id": None, "version": 1, "checked_in_at": None, "reminded_at": None,
    "escalated_at": None, "state": None, "postal_code": None,
}  # fmt: skip


class _SubmitRead(NamedTuple):
    resource: BookableResource
    blacked_out: bool
    approvers: list[str]  # the e-mail addresses to tell of the new request
    new_id: int | None  # PostgreSQL: taken from the sequence; SQLite: the insert's


def _read_for_submit(
    resource_id: int, requester_id: int, start: datetime, end: datetime
) -> _SubmitRead:
    """One statement: the resource as it is now (404 unless bookable), whether a blackout
    meets [start, end), the approvers to tell and, on PostgreSQL, the new request's id."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    statement = _SUBMIT_READ.get(postgresql)
    if statement is None:
        statement = _SUBMIT_READ[postgresql] = _submit_read(postgresql)
    parameters = {"resource_id": resource_id, "requester_id": requester_id}
    rows = execute(statement, {**parameters, "start": start, "end": end})
    if not rows or not rows[0][_ACTIVE]:
        if postgresql:
            known_resources.drop(db.session.get_bind(), resource_id)
        raise NotFound(f"There is no bookable resource {resource_id}.")
    (values,) = _RESOURCE.split(rows[0])
    resource = stored(BookableResource, values)
    digest, blacked_out, _, new_id = rows[0][-4:]
    if digest is not None and _one_statement_may(values):  # for this worker's next submit
        known_resources.keep(db.session.get_bind(), values, digest, resource.rules)
    emails = [row[-2] for row in rows if row[-2] is not None]
    return _SubmitRead(resource, bool(blacked_out), emails, new_id)


_SUBMIT_READ: dict[bool, sa.Select] = {}  # PostgreSQL's and the others': built once
_RESOURCE = catalog.RESOURCE_COLUMNS
_ACTIVE = _RESOURCE.names[0].index("active")


def _submit_read(postgresql: bool) -> sa.Select:
    approver = aliased(User)
    column_type = Blackout.start_time.type
    blacked_out = blackouts.meeting_clause(
        BookableResource.id,
        sa.bindparam("start", type_=column_type),
        sa.bindparam("end", type_=column_type),
    )
    new_id = (
        sa.select(
            sa.func.nextval(sa.func.pg_get_serial_sequence("booking_requests", "id"))
        ).scalar_subquery()  # an InitPlan: run once, whatever the number of rows
        if postgresql
        else sa.null()
    )
    told = sa.and_(
        approver.id == resource_approvers.c.user_id,
        approvers.telling(approver, sa.bindparam("requester_id")),
    )
    return (
        sa.select(
            *_RESOURCE.select(),
            catalog.row_digest() if postgresql else sa.null(),
            blacked_out.label("blacked_out"),
            approver.email,
            new_id,
        )
        .outerjoin(resource_approvers, resource_approvers.c.resource_id == BookableResource.id)
        .outerjoin(approver, told)
        .where(BookableResource.id == sa.bindparam("resource_id"))
        .order_by(approver.id)
    )


def _history_row(
    booking_id: int, from_status: str | None, to_status: str, actor_id: int | None,
    at: datetime, reason: str | None,
) -> dict:  # fmt: skip
    return {
        "booking_id": booking_id, "from_status": from_status, "to_status": to_status,
        "actor_id": actor_id, "at": at, "reason": reason,
    }  # fmt: skip


def _require_acceptable(
    booking: BookingRequest, resource: BookableResource, asked_at: datetime
) -> None:
    """After the accepting turn is taken (`resource` as the turn read it): the resource's rules
    as they are now, and nothing in the way (accepted requests within the buffer are refused
    by the database itself)."""
    rules.require_followed(resource, booking.event_time, booking.end_time, asked_at)
    blackouts.refuse_overlap(booking.resource_id, booking.event_time, booking.end_time)
    in_the_way = conflicts(booking, resource)
    if in_the_way:
        raise Conflict(" ".join(in_the_way))


def conflicts(booking: BookingRequest, resource: BookableResource) -> list[str]:
    """What keeps `booking` from being accepted, one sentence per kind; none if it is free."""
    buffer = resource.buffer_minutes or 0
    ids = accepted_near(booking, buffer)
    return [in_the_way(ids, buffer)] if ids else []


def in_the_way(ids: Iterable[int], buffer: int) -> str:
    """The sentence naming accepted requests that a request overlaps or comes too close to."""
    listed = ", ".join(str(i) for i in ids)
    too_close = f" or comes closer than the resource's {buffer}-minute buffer to" if buffer else ""
    return f"The request overlaps{too_close} accepted request(s) {listed} of the same resource."


def _conflict(booking: BookingRequest) -> Conflict:
    """The 409 a refusal by the database becomes: read after the rollback, it names what is
    in the way now."""
    resource = catalog.get_resource(booking.resource_id)
    return Conflict(" ".join(conflicts(booking, resource)) or "Another request is in the way.")


def accepted_near(booking: BookingRequest, buffer_minutes: int = 0) -> list[int]:
    """Accepted requests of the same resource closer than `buffer_minutes` to this one's
    [start, end) (with no buffer: that meet it)."""
    buffer = timedelta(minutes=buffer_minutes)
    query = (
        sa.select(BookingRequest.id)
        .where(
            BookingRequest.resource_id == booking.resource_id,
            BookingRequest.status == Status.ACCEPTED,
            BookingRequest.id != booking.id,
            meets(booking.event_time - buffer, booking.end_time + buffer),
        )
        .order_by(BookingRequest.id)
    )
    return list(db.session.scalars(query))


def meets(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Half-open intervals meeting; on PostgreSQL in the words of the exclusion constraint,
    whose GiST index then finds them at a million rows as fast as at a thousand."""
    if db.session.get_bind().dialect.name == "postgresql":
        column_type = BookingRequest.event_time.type
        mine = sa.func.tstzrange(sa.literal(start, column_type), sa.literal(end, column_type), "[)")
        theirs = sa.func.tstzrange(BookingRequest.event_time, BookingRequest.end_time, "[)")
        return theirs.op("&&")(mine)
    return sa.and_(BookingRequest.event_time < end, BookingRequest.end_time > start)


def _move_values(to_status: str, actor: User | None, reason: str | None) -> dict:
    now = utcnow()
    return {
        "status": to_status,
        "decided_by_id": actor.id if actor else None,
        "decided_at": now,
        "reason": reason,
        "updated_at": now,
    }


def _write_history(ids: Iterable[int], from_status: str, values: dict) -> None:
    # On the table: the rows need none of the ORM's bookkeeping.
    db.session.execute(
        sa.insert(BookingHistory.__table__),
        [
            _history_row(booking_id, from_status, values["status"], values["decided_by_id"],
                         values["updated_at"], values["reason"])
            for booking_id in ids
        ],
    )  # fmt: skip


@dataclass(frozen=True, eq=False)  # hashed by identity: each is made once, at import
class Guard:
    """A condition a move's rows must meet besides their status, for `move(only_if=…)`: a
    clause over `booking_requests` with bound parameters, made once so that the move's
    statement is built and compiled once too."""

    clause: sa.ColumnElement[bool]


def move(
    ids: Collection[int],
    from_status: Status,
    to_status: Status,
    *,
    actor: User | None = None,
    reason: str | None = None,
    version: int | None = None,
    only_if: Guard | None = None,
    guard_values: Mapping[str, Any] | None = None,
    last: bool = False,
    ahead: Ahead = (),
) -> list[BookingRequest]:
    """Move those of `ids` still in `from_status` (and at `version`, and meeting `only_if`,
    whose parameters `guard_values` gives) to `to_status`; no commit, unless `last` says
    the move is its unit of work's last statement (transaction.LAST). The statements
    `ahead` go before the move's own in one round trip (`transaction.execute`).

    The one status change of every path. `TRANSITIONS` allows the move or it is a 409;
    one guarded UPDATE moves the rows nobody moved first, and only those get a history
    row and an event. Returns the requests moved, as they are now (objects the session
    already held are brought up to date, not read again). On PostgreSQL the UPDATE and
    the history rows are one statement, the events a second; when the session holds the one
    request moved at a known version, or every one of many (each then moved only if still at
    the version it was read at), their events are foreseen and written by the same statement.
    """
    if not can_move(from_status, to_status):
        raise Conflict(f"The request is {from_status}; it cannot become {to_status}.")
    if not ids:
        return []
    values = _move_values(to_status, actor, reason)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    parameters = {
        **values, **(guard_values or {}), "ids": array_items(ids) if postgresql else list(ids),
        "from_status": from_status,
        "version": version,
    }  # fmt: skip
    # The event names the decider: the session's copy, not a query.
    decider = identity.as_user(actor) if actor is not None else None
    event_type = f"booking.{to_status}"
    if postgresql and version is None and only_if is None and len(ids) > 1 and not ahead:
        every = _held_all(ids)
        if every is not None:
            return Foreseen(every, from_status, to_status, values, decider).send(last=last)
    held = _held_alone(ids, version) if postgresql else None
    if held is not None:  # its event is foreseen, and written by the move's own statement
        before = _as_read(held)
        moved = _as_moved({held.id: version + 1}, values, decider)
        (event,) = outbox.rows_for(moved, event_type)
        parameters.update((f"event_{name}", value) for name, value in event.items())
        del parameters["event_booking_id"]  # the statement's: the moved row's
    statement = _move_statement(postgresql, version is not None, only_if, held is not None)
    # The COMMIT goes with the move only if its events are written by it too; otherwise
    # with them (`record_many`), or at the end of the block.
    rows = execute(statement, parameters, last=last and held is not None, ahead=ahead)
    if rows and not postgresql:  # SQLite: no writes inside WITH; in-process, no round trip
        _write_history([booking_id for booking_id, _ in rows], from_status, values)
    if held is not None and not rows:
        _restore(held, before)
    if not rows:
        return []
    if held is None:
        moved = _as_moved(dict(rows), values, decider)
        outbox.record_many(moved, event_type, last=last)
    metrics.transition(to_status, len(moved))
    return moved


def _held_all(ids: Collection[int]) -> list[BookingRequest] | None:
    """The requests of a move of many, if the session holds every one (None otherwise)."""
    found = []
    for booking_id in ids:
        booking = in_session(BookingRequest, booking_id)
        if booking is None:
            return None
        found.append(booking)
    return found


def foresee(
    held: list[BookingRequest],
    from_status: Status,
    to_status: Status,
    *,
    actor: User | None = None,
    reason: str | None = None,
) -> Foreseen:
    """A move of the requests `held` (objects of the session, as read) made ready to send:
    `Foreseen`. On PostgreSQL the objects already show the move and its events are written
    out, so that a caller holding a turn can prepare the move before taking it and keep
    the turn only for `send`, one statement; elsewhere `send` is a `move`."""
    if not can_move(from_status, to_status):
        raise Conflict(f"The request is {from_status}; it cannot become {to_status}.")
    values = _move_values(to_status, actor, reason)
    decider = identity.as_user(actor) if actor is not None else None
    ready = db.session.get_bind().dialect.name == "postgresql"
    return Foreseen(held, from_status, to_status, values, decider, ready=ready)


class Foreseen:
    """A move of many requests the session holds, in one statement (PostgreSQL): each is
    moved only if it is still at the version it was read at, so the events foreseen from the
    objects are those of the rows moved; the statement writes them with the history rows
    (only for the rows it moved), and may carry the COMMIT. Objects not moved are restored.

    `ready` (PostgreSQL): the objects take the move's values and its events are written out
    when it is made; otherwise `send` is a plain `move` of the requests left in it."""

    def __init__(
        self,
        held: list[BookingRequest],
        from_status: Status,
        to_status: Status,
        values: dict,
        decider: User | None,
        ready: bool = True,
    ) -> None:
        self.from_status, self.to_status, self.values = from_status, to_status, values
        self.decider, self.ready = decider, ready
        self.written_ahead = self.sent = False
        self.before = {booking.id: _as_read(booking) for booking in held}
        self.versions = {booking.id: booking.version for booking in held}
        self.shown: dict[int, Shown] = {}  # each moved request as its event shows it
        if ready:
            self.moved = _as_moved({i: v + 1 for i, v in self.versions.items()}, values, decider)
            self.events = outbox.rows_for(self.moved, f"booking.{to_status}", self.shown)
            self.parameters = self._parameters()

    def as_shown(self, bookings: list[BookingRequest]) -> list[BookingRequest | Shown]:
        """`bookings` for an answer once the move is sent: those it moved as their events
        show them (one dump for both), the others as they are."""
        if not self.sent:
            return bookings
        return [self.shown.get(booking.id, booking) for booking in bookings]

    def write_ahead(self) -> Ahead:
        """The move's history rows and events, as a statement for the caller to send before
        it takes the turn the move needs (`catalog.take_turn(…, ahead=…)`), so that the turn
        is held for the move alone; `send` then deletes those of requests it did not move.
        On PostgreSQL (elsewhere none: `send` writes them)."""
        if not (self.ready and self.versions):
            return ()
        self.written_ahead = True
        return [(_write_ahead(), self.parameters)]

    def leave_out(self, ids: Collection[int]) -> None:
        """Take `ids` out of the move: their objects are as read again, their events dropped."""
        if self.written_ahead:
            raise RuntimeError("a move whose rows are written ahead leaves out none")
        left_out = set(ids)
        for booking_id in left_out & self.versions.keys():
            del self.versions[booking_id]
        if not self.ready:
            return
        for booking in self.moved:
            if booking.id in left_out:
                _restore(booking, self.before[booking.id])
        self.moved = [booking for booking in self.moved if booking.id not in left_out]
        self.events = [event for event in self.events if event["booking_id"] not in left_out]
        for booking_id in left_out:
            self.shown.pop(booking_id, None)
        self.parameters = self._parameters()

    def _parameters(self) -> dict[str, Any]:
        """The statements' parameters, written out when the move is made ready."""
        return {
            **self.values, "from_status": self.from_status, "ids": array_items(self.versions),
            "versions": array_items(self.versions.values()), "events": json_rows(self.events),
            "count": len(self.versions), "event_ids": ",".join(e["id"] for e in self.events),
        }  # fmt: skip

    def send(
        self,
        last: bool = False,
        clear_of_blackouts: bool = False,
        as_read: tuple[int, str] | None = None,
    ) -> list[BookingRequest]:
        """Make the move; the requests moved. `last`: the unit of work's last statement.
        `clear_of_blackouts`: none is moved if a blackout of its resource meets any of them
        (as an accept's guard, for all of them at once). `as_read` (PostgreSQL): the id and
        digest (`catalog.row_digest`) of their resource as the caller read it, to check its
        rules: the history rows and events, then the resource's turn if it is as read, go
        ahead of the move in its round trip, and none is moved unless it is as read."""
        self.sent = True
        if not self.versions:
            return []
        ahead: Ahead = ()
        if as_read is not None and self.ready:
            resource_id, digest = as_read
            turn = {"resource_id": resource_id, "digest": digest}
            ahead = [*self.write_ahead(), (catalog.TURN_AS_READ, turn)]
            self.parameters["digest"] = digest
        if not self.ready:
            ids = list(self.versions)
            if clear_of_blackouts and db.session.scalar(sa.select(_blacked_out(ids))):
                return []
            return move(ids, self.from_status, self.to_status, last=last,
                        actor=self.decider, reason=self.values["reason"])  # fmt: skip
        statement = _move_foreseen(clear_of_blackouts, self.written_ahead, as_read is not None)
        rows = execute(statement, self.parameters, last=last, ahead=ahead)
        moved_ids = {booking_id for booking_id, _ in rows}
        for booking in self.moved:
            if booking.id not in moved_ids:
                _restore(booking, self.before[booking.id])
                del self.shown[booking.id]
        moved = [booking for booking in self.moved if booking.id in moved_ids]
        metrics.transition(self.to_status, len(moved))
        return moved


def _held_alone(ids: Collection[int], version: int | None) -> BookingRequest | None:
    """The request of a move of one request at a known version, if the session holds it: the
    request as the move will leave it is known before the move, and so is its event."""
    if version is None or len(ids) != 1:
        return None
    (booking_id,) = ids
    booking = in_session(BookingRequest, booking_id)
    return booking if booking is not None and booking.version == version else None


_MOVED_ATTRIBUTES = (*_move_values(Status.PENDING, None, None), "version", "decided_by")


def _as_read(booking: BookingRequest) -> dict[str, Any]:
    """What a move changes on the object, as loaded (an attribute never loaded is left out)."""
    return {name: booking.__dict__[name] for name in _MOVED_ATTRIBUTES if name in booking.__dict__}


def _restore(booking: BookingRequest, loaded: dict[str, Any]) -> None:
    """Undo `_as_moved` on an object the move did not move after all."""
    for name in _MOVED_ATTRIBUTES:
        if name in loaded:
            set_committed_value(booking, name, loaded[name])
        else:
            db.session.expire(booking, [name])


_MOVES: dict[tuple[bool, bool, Guard | None, bool], sa.Executable] = {}


def _move_statement(
    postgresql: bool, versioned: bool, only_if: Guard | None, evented: bool = False
) -> sa.Executable:
    """The guarded UPDATE … RETURNING id, version of `move` (on PostgreSQL with its history
    rows and, `evented`, the one moved request's event, given as `event_*` parameters), with
    bound parameters: built once per shape."""
    key = (postgresql, versioned, only_if, evented)
    statement = _MOVES.get(key)
    if statement is not None:
        return statement
    table, history = BookingRequest.__table__, BookingHistory.__table__

    def given(name: str, column: sa.Column) -> sa.BindParameter:
        return sa.bindparam(name, type_=column.type)

    guards = [
        # PostgreSQL: one array, so that the statement is compiled once for any number.
        table.c.id == sa.any_(array_parameter("ids", sa.Integer))
        if postgresql
        else table.c.id.in_(sa.bindparam("ids", expanding=True)),
        table.c.status == given("from_status", table.c.status),
    ]
    if versioned:
        guards.append(table.c.version == given("version", table.c.version))
    if only_if is not None:
        guards.append(only_if.clause)
    written = {
        name: given(name, table.c[name]) for name in _move_values(Status.PENDING, None, None)
    }
    statement = (
        table.update()
        .where(*guards)
        .values(**written, version=table.c.version + 1)
        .returning(table.c.id, table.c.version)
    )
    if postgresql:
        moved = statement.cte("moved")
        logged = _history_of(moved, given("from_status", history.c.from_status), written)
        statement = (
            sa.select(moved.c.id, moved.c.version)
            .add_cte(logged)
            .execution_options(**{WRITES: True})
        )
        if evented:
            events = BookingEvent.__table__
            columns = [c for c in outbox.ROW_COLUMNS if c != "booking_id"]
            statement = statement.add_cte(
                sa.insert(events)
                .from_select(
                    ["booking_id", *columns],
                    sa.select(moved.c.id, *(given(f"event_{c}", events.c[c]) for c in columns)),
                )
                .returning(sa.literal(1))
                .cte("evented")
            )
    _MOVES[key] = statement
    return statement


def _history_of(
    moved: sa.CTE, from_status: sa.BindParameter, written: dict[str, sa.BindParameter]
) -> sa.CTE:
    """The CTE that writes a history row for each row of `moved` (a move's UPDATE)."""
    return (
        sa.insert(BookingHistory.__table__)
        .from_select(
            ["booking_id", "from_status", "to_status", "actor_id", "at", "reason"],
            sa.select(
                moved.c.id,
                from_status,
                written["status"],
                written["decided_by_id"],
                written["updated_at"],
                written["reason"],
            ),
        )
        .returning(sa.literal(1))
        .cte("logged")
    )


def _blacked_out(ids: sa.ColumnElement | list[int]) -> sa.Exists:
    """Whether a blackout of its resource meets any of the requests `ids` (a list, or the
    array of a statement's parameter)."""
    requests = BookingRequest.__table__.alias("requested")
    return sa.exists().where(
        requests.c.id.in_(ids) if isinstance(ids, list) else requests.c.id == sa.any_(ids),
        blackouts.meeting_clause(requests.c.resource_id, requests.c.event_time,
                                 requests.c.end_time),
    )  # fmt: skip


def _foreseen_parts() -> tuple[sa.Subquery, dict[str, sa.BindParameter], sa.BindParameter]:
    """What `Foreseen`'s statements are given: the ids with the versions they were read at,
    the values the move writes and the status it moves from."""
    table = BookingRequest.__table__
    given = sa.select(
        sa.func.unnest(array_parameter("ids", sa.Integer)).label("id"),
        sa.func.unnest(array_parameter("versions", sa.Integer)).label("version"),
    ).subquery("given")
    written = {
        name: sa.bindparam(name, type_=table.c[name].type)
        for name in _move_values(Status.PENDING, None, None)
    }
    return given, written, sa.bindparam("from_status", type_=table.c.status.type)


def _as_given(given: sa.Subquery, from_status: sa.BindParameter) -> list[sa.ColumnElement]:
    """The requests given, each still at the version it was read at and in `from_status`."""
    table = BookingRequest.__table__
    return [
        # The ids twice: as a constant array, so that the planner knows how many rows the
        # move takes (a guess, for `given` alone), and joined to their versions.
        table.c.id == sa.any_(array_parameter("ids", sa.Integer)),
        table.c.id == given.c.id,
        table.c.version == given.c.version,
        table.c.status == from_status,
    ]


def _events_of(written: sa.Selectable) -> sa.CTE:
    """The CTE that writes the events given (one JSON document, `events`) of the requests
    `written` (a CTE with their ids)."""
    events = BookingEvent.__table__
    rows = (
        sa.func.json_to_recordset(sa.cast(sa.bindparam("events", type_=sa.Text), sa.JSON))
        .table_valued(*(sa.column(c, events.c[c].type) for c in outbox.ROW_COLUMNS))
        .render_derived(name="given_events", with_types=True)
    )
    return (
        sa.insert(events)
        .from_select(
            list(outbox.ROW_COLUMNS),
            sa.select(*(rows.c[c] for c in outbox.ROW_COLUMNS)).join(
                written, written.c.id == rows.c.booking_id
            ),
        )
        .returning(sa.literal(1))
        .cte("evented")
    )


def _move_foreseen_statement(
    clear_of_blackouts: bool, written_ahead: bool, as_read: bool
) -> sa.Select:
    """`Foreseen`'s statement: the UPDATE guarded by each request's version (and, if
    `clear_of_blackouts`, by no blackout meeting any of them; if `as_read`, by the resource
    being as read, `digest`), with the history rows and events (given as one JSON document,
    `events`) of the rows moved; or, `written_ahead`, deleting those written ahead
    (`_write_ahead`) for requests it did not move, if any."""
    table = BookingRequest.__table__
    given, written, from_status = _foreseen_parts()
    moved = (
        table.update()
        .where(*_as_given(given, from_status))
        .values(**written, version=table.c.version + 1)
        .returning(table.c.id, table.c.version)
    )
    if clear_of_blackouts:  # one subquery for them all, run once
        moved = moved.where(~_blacked_out(array_parameter("ids", sa.Integer)))
    if as_read:
        moved = moved.where(sa.exists().where(BookableResource.id == table.c.resource_id,
                                              catalog.AS_READ))  # fmt: skip
    moved = moved.cte("moved")
    statement = sa.select(moved.c.id, moved.c.version).execution_options(**{WRITES: True})
    if not written_ahead:
        return statement.add_cte(_history_of(moved, from_status, written), _events_of(moved))
    # Usually every request written ahead moves, and these run no query at all.
    history, events = BookingHistory.__table__, BookingEvent.__table__
    some_left = sa.select(sa.func.count()).select_from(moved).scalar_subquery() < sa.bindparam(
        "count", type_=sa.Integer
    )
    unlogged = sa.delete(history).where(
        some_left,
        history.c.booking_id == sa.any_(array_parameter("ids", sa.Integer)),
        history.c.booking_id.not_in(sa.select(moved.c.id)),
        history.c.to_status == written["status"],
        # Written by this transaction (the move's own, ahead of it): another's stays.
        sa.text("booking_history.xmin = pg_current_xact_id()::xid"),
    )
    unevented = sa.delete(events).where(
        some_left,
        events.c.id == sa.any_(array_parameter("event_ids", sa.String)),
        events.c.booking_id.not_in(sa.select(moved.c.id)),
    )
    return statement.add_cte(
        unlogged.returning(sa.literal(1)).cte("unlogged"),
        unevented.returning(sa.literal(1)).cte("unevented"),
    )


def _write_ahead_statement() -> sa.Select:
    """`Foreseen.write_ahead`'s statement: the history rows and events of the move, for every
    request given (by the parameters alone: no read of the table, whose planner may think
    few rows are pending and scan them all). The move deletes those of requests it did not
    move; a request deleted meanwhile makes its foreign key refuse the statement."""
    given, written, from_status = _foreseen_parts()
    found = sa.select(given.c.id).cte("found")
    return (
        sa.select(sa.literal(1))
        .add_cte(_history_of(found, from_status, written), _events_of(found))
        .execution_options(**{WRITES: True})
    )


# Built once per shape, when first sent: a worker holds the few its writes use (each is
# about 75 kB of SQLAlchemy's objects), not all eight.
_move_foreseen = functools.cache(_move_foreseen_statement)
_write_ahead = functools.cache(_write_ahead_statement)  # built when first sent


def _as_moved(versions: dict[int, int], values: dict, decider: User | None) -> list[BookingRequest]:
    """The moved requests in id order: held objects take the values written (and `decider`
    as the decider), others are read."""
    found: dict[int, BookingRequest] = {}
    for booking_id in versions:
        booking = in_session(BookingRequest, booking_id)
        if booking is not None:
            for name, value in (*values.items(), ("version", versions[booking_id])):
                set_committed_value(booking, name, value)
            set_committed_value(booking, "decided_by", decider)
            found[booking_id] = booking
    missing = [booking_id for booking_id in versions if booking_id not in found]
    if missing:
        query = sa.select(BookingRequest).where(BookingRequest.id.in_(missing))
        found.update((booking.id, booking) for booking in db.session.scalars(query).unique())
    return [found[booking_id] for booking_id in sorted(found)]


def _decide(
    booking: BookingRequest,
    to_status: Status,
    actor: User,
    reason: str | None,
    if_match: str | None,
    only_if: Guard | None = None,
    guard_values: Mapping[str, Any] | None = None,
    refused: Callable[[], None] | None = None,
) -> None:
    """Move one request the client read, under its `If-Match`: 412 if it changed since, 409 if
    somebody moved it first; if it is as read but `only_if` did not hold, `refused()` raises.
    The move is the caller's unit of work's last statement, and carries its COMMIT."""
    check_precondition(booking, if_match)
    version = booking.version
    moved = move(
        [booking.id], booking.status, to_status, actor=actor, reason=reason, version=version,
        only_if=only_if, guard_values=guard_values, last=True,
    )  # fmt: skip
    if moved:
        return
    current = db.session.execute(
        sa.select(BookingRequest.status, BookingRequest.version).where(
            BookingRequest.id == booking.id
        )
    ).one()
    if if_match is not None and current.version != version:
        raise _stale()
    if refused is not None and (current.status, current.version) == (booking.status, version):
        refused()
    raise Conflict(f"The request is already {current.status}; it cannot become {to_status}.")


def etag(booking: BookingRequest) -> str:
    """The request's entity tag: its version, and its creation time against reused ids."""
    created = int(booking.created_at.timestamp() * 1_000_000)
    return f'"{booking.version}.{created:x}"'


def check_precondition(booking: BookingRequest, if_match: str | None) -> None:
    """412 unless `precondition_holds`."""
    if not precondition_holds(booking, if_match):
        raise _stale()


def precondition_holds(booking: BookingRequest, if_match: str | None) -> bool:
    """Whether `if_match` is absent, `*`, or lists the request's current ETag (strongly)."""
    if if_match is None:
        return True
    tags = {tag.strip() for tag in if_match.split(",")}
    return "*" in tags or etag(booking) in tags


def _stale() -> PreconditionFailed:
    return PreconditionFailed(
        "The request has changed since you read it (If-Match); read it again and retry."
    )


def accept(actor: User, booking_id: int, if_match: str | None = None) -> BookingRequest:
    """Accept a request. Accepted requests in the way, or within the resource's buffer, are
    refused by the database itself, and the refusal names them (`_conflict`).

    On PostgreSQL two round trips: the request and its resource are read, the rules checked
    as they are, and the guarded move is sent with its history row and its event after the
    statement that takes the resource's turn, and with the COMMIT (`_accept_at_once`), so
    that the turn is held by the database alone, never across a round trip to this process.
    If anything was not as read, nothing moved, and the accept is made again inside the
    turn (`_accept_in_turn`), which answers for every refusal."""
    require_approver_or_admin(actor)
    booking = None
    if db.session.get_bind().dialect.name == "postgresql":
        booking = _accept_at_once(actor, booking_id, if_match)
    if booking is None:
        booking = _accept_in_turn(actor, booking_id, if_match)
    _tell_requester(booking, actor)
    return booking


def _accept_at_once(actor: User, booking_id: int, if_match: str | None) -> BookingRequest | None:
    """The accepted request, if it and its resource were as read until the move; else None,
    and nothing changed. The turn (`catalog.take_turn`) goes first in the move's round trip:
    the move's statement, begun once the turn is held, sees every blackout and acceptance
    committed before, and its guard that the resource is as read (the digest of its row)
    makes the rules checked here the rules at the move."""

    with transaction(conflict=_in_the_way_of(booking_id), keep_state=True):
        rows = execute(_READ_DECIDING, {"booking_id": booking_id})
        if not rows:
            return None
        booking, resource, digest = _decided(rows[0])
        require_approver_or_admin(actor, booking.resource_id)
        start, end = booking.event_time, booking.end_time
        # Notice and advance are judged from when the request was made, by today's rules.
        if (
            booking.status != Status.PENDING
            or booking.event_time <= utcnow()
            or not rules.followed(resource, start, end, booking.created_at)
            or not precondition_holds(booking, if_match)
        ):
            return None  # refused for what it is, by `_accept_in_turn`
        guard = {"guard_start": start, "guard_end": end, "digest": digest}
        turn = {"resource_id": booking.resource_id, "digest": digest}
        moved = move(
            [booking.id], Status.PENDING, Status.ACCEPTED, actor=actor, version=booking.version,
            only_if=NO_BLACKOUT_AS_READ, guard_values=guard, last=True,
            ahead=[(catalog.TURN_AS_READ, turn)],
        )  # fmt: skip
    return booking if moved else None


def _in_the_way_of(booking_id: int) -> Callable[[], Conflict]:
    """An accept's answer when the database refused an overlap or the buffer."""
    return lambda: _conflict(get_booking(booking_id))


def _accept_in_turn(actor: User, booking_id: int, if_match: str | None) -> BookingRequest:
    """Accept inside the resource's turn: the turn reads the request and its resource, then
    the guarded move with its history row and its event carries the commit."""

    with transaction(conflict=_in_the_way_of(booking_id), keep_state=True):
        # Accepts (and blackouts) of one resource take turns: what follows sees any move or
        # blackout made while this one waited for its turn.
        booking, resource = _take_turn_deciding(booking_id)
        require_approver_or_admin(actor, booking.resource_id)
        only_if = refused = guard_values = None
        if booking.status == Status.PENDING:  # anything else is refused for what it is
            if booking.event_time <= utcnow():
                raise Conflict(
                    "The event has already started; the request can no longer be accepted."
                )
            # Notice and advance are judged from when the request was made, by today's rules.
            rules.require_followed(
                resource, booking.event_time, booking.end_time, booking.created_at
            )
            start, end = booking.event_time, booking.end_time
            only_if, guard_values = NO_BLACKOUT, {"guard_start": start, "guard_end": end}

            def refused() -> None:
                blackouts.refuse_overlap(booking.resource_id, start, end)

        _decide(booking, Status.ACCEPTED, actor, None, if_match, only_if, guard_values, refused)
    return booking


# An accept's guard: no blackout of the resource meets the request (`guard_start`, `guard_end`).
NO_BLACKOUT = Guard(
    ~blackouts.meeting_clause(
        BookingRequest.__table__.c.resource_id,
        sa.bindparam("guard_start", type_=BookingRequest.event_time.type),
        sa.bindparam("guard_end", type_=BookingRequest.event_time.type),
    )
)
# And its resource is as it was read (`digest`, `catalog.row_digest`).
NO_BLACKOUT_AS_READ = Guard(
    sa.and_(
        NO_BLACKOUT.clause,
        sa.exists().where(
            BookableResource.id == BookingRequest.__table__.c.resource_id,
            catalog.AS_READ,
        ),
    )
)


def _take_turn_deciding(booking_id: int) -> tuple[BookingRequest, BookableResource]:
    """The request (404 if there is none) and its resource as they are now, in the statement
    that takes the resource's turn (see `catalog.take_turn`), and the requester whom the
    decision is told to."""
    rows = execute(_TURN_DECIDING, {"booking_id": booking_id})
    if not rows:
        raise NotFound(f"There is no booking request {booking_id}.")
    booking, resource, _ = _decided(rows[0])
    return booking, resource


def _decided(row: tuple) -> tuple[BookingRequest, BookableResource, str | None]:
    """The objects of a row of `_READ_DECIDING` or `_TURN_DECIDING`, and the resource's
    digest if read."""
    booking, resource, requester = _TURN_COLUMNS.split(row)
    resource = stored(BookableResource, resource)
    booking = stored(BookingRequest, {**booking, "requested_by": stored(User, requester)})
    digest = row[_DIGEST] if len(row) > _DIGEST else None
    return booking, resource, digest


_REQUESTER = ("id", "username", "email")  # what the answer and the e-mail show of them
_TURN_COLUMNS = Columns(BookingRequest, BookableResource, (User, _REQUESTER))
_DIGEST = sum(map(len, _TURN_COLUMNS.names))  # where `_READ_DECIDING` has the digest
_READ_DECIDING = (
    sa.select(*_TURN_COLUMNS.select(), catalog.row_digest())
    .join(BookableResource, BookableResource.id == BookingRequest.resource_id)
    .join(User, User.id == BookingRequest.requested_by_id)
    .where(BookingRequest.id == sa.bindparam("booking_id"))
)
_TURN_DECIDING = (
    sa.select(*_TURN_COLUMNS.select())
    .join(BookableResource, BookableResource.id == BookingRequest.resource_id)
    .join(User, User.id == BookingRequest.requested_by_id)
    .where(BookingRequest.id == sa.bindparam("booking_id"))
    .with_for_update(key_share=True, of=BookableResource.__table__)
)


def reject(
    actor: User, booking_id: int, reason: str | None = None, if_match: str | None = None
) -> BookingRequest:
    require_approver_or_admin(actor)
    with transaction(keep_state=True):
        booking = get_booking(booking_id, deciding=True)
        require_approver_or_admin(actor, booking.resource_id)
        _decide(booking, Status.REJECTED, actor, reason, if_match)
    _tell_requester(booking, actor)
    return booking


def cancel(
    actor: User, booking_id: int, reason: str | None = None, if_match: str | None = None
) -> BookingRequest:
    with transaction(keep_state=True):
        booking = visible_booking(actor, booking_id)
        _decide(booking, Status.CANCELLED, actor, reason, if_match)
    _tell_requester(booking, actor)
    return booking


def delete(actor: User, booking_id: int) -> None:
    require_admin(actor)
    with transaction():
        booking = get_booking(booking_id)
        outbox.record(booking, "booking.deleted")
        db.session.delete(booking)


EXPIRY_BATCH = 500
EXPIRY_REASON = "The event time passed while the request was pending."


def expire_due(now: datetime | None = None) -> int:
    """Move every pending request whose event time has passed to `expired`; how many moved.

    Batch by batch, each its own transaction. A concurrent sweep, decision or
    deletion simply leaves fewer rows for this one to move.
    """
    now = now or utcnow()
    expired = 0
    while True:
        with transaction():
            due = db.session.scalars(
                sa.select(BookingRequest.id)
                .where(BookingRequest.status == Status.PENDING, BookingRequest.event_time <= now)
                .order_by(BookingRequest.event_time, BookingRequest.id)
                .limit(EXPIRY_BATCH)
            ).all()
            moved = move(due, Status.PENDING, Status.EXPIRED, reason=EXPIRY_REASON)
        if not due:
            return expired
        expired += len(moved)


def _tell_requester(booking: BookingRequest, actor: User) -> None:
    """E-mail the requester about a decision an admin or an approver made (after it is
    committed); whoever is not the requester and may decide is one of them."""
    if (actor.is_admin or actor.id != booking.requested_by_id) and booking.status in NOTIFIED:
        _notify(booking)


def _notify(booking: BookingRequest) -> None:
    subject, body = mail.render("booking_decided", booking=booking)
    mail.send_mail_later(booking.requested_by.email, subject, body)
