"""Series: a booking request that recurs by a rule, one ordinary request per occurrence.

The rule is expanded in the resource's zone (services/recurrence.py). Every
occurrence is checked as a one-off request would be — the resource's rules,
its blackouts, accepted bookings in the way, the requester's quota counting
the series' own occurrences — but in bulk: one query per kind of check for the
whole series, then each occurrence in Python. With `on_conflict: "fail"` one
refused occurrence refuses the whole series (409, or 422 when only rules are
broken) and lists each; with `"skip"` the refused ones are left out and listed
under `skipped`. The occurrences, their history rows and their events are
inserted a statement each, whatever their number.

Decisions take the whole series (from `from` on) in one transaction, through
`bookings.move`, the one status change: one history row and one event per
occurrence moved, as if decided alone, and one e-mail to the requester per
decision. Accepting takes the resource's turn first, as a one-off accept does,
so the database's overlap and buffer rules see every acceptance committed
before; the move (its events too) is made ready before the turn, so that the
turn is held for the checks and one statement. Occurrences that have started
are never decided again nor reported as conflicts.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased, make_transient_to_detached

from my_app import metrics
from my_app.database import WRITES, array_items
from my_app.errors import Conflict, NotFound, UnprocessableEntity
from my_app.extensions import db
from my_app.models import (
    BookableResource,
    BookingHistory,
    BookingRequest,
    BookingSeries,
    BookingStatus,
    User,
)
from my_app.models.booking import MAX_DURATION_MINUTES
from my_app.models.types import utcnow
from my_app.services import (
    approvers,
    blackouts,
    bookings,
    catalog,
    identity,
    mail,
    quota,
    recurrence,
    rules,
)
from my_app.services import events as outbox
from my_app.services.permissions import (
    require_approver_or_admin,
    require_owner_approver_or_admin,
)
from my_app.services.transaction import (
    Columns,
    attach,
    copy_rows,
    execute,
    stored,
    transaction,
)

Status = BookingStatus
CONFLICT = "conflict"  # the reason of an occurrence rejected on acceptance for a conflict
LONGEST = timedelta(minutes=MAX_DURATION_MINUTES)


@dataclass
class Refusal:
    """Why one occurrence cannot be booked: `conflicts` names the requests in the way;
    `rule_only` when nothing but the resource's rules refuse it."""

    event_time: datetime
    reasons: list[str] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    rule_only: bool = True

    def shown(self) -> dict[str, Any]:
        """As listed under `skipped` (and stored so): the time in UTC ISO 8601."""
        return {"event_time": _iso(self.event_time), "reason": " ".join(self.reasons),
                "conflicts": self.conflicts}  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- reading


def _get(series_id: int) -> BookingSeries:
    series = db.session.get(BookingSeries, series_id)
    if series is None:
        raise NotFound(f"There is no series {series_id}.")
    return series


def _occurrences(series: BookingSeries) -> list[BookingRequest]:
    """The series' occurrences by start, as the session's objects, with their requester (the
    series') and decider: one statement, sent as `transaction.execute` sends it."""
    requester = series.requested_by
    found = []
    for row in execute(_OCCURRENCES, {"series_id": series.id}):
        booking, decider = _OCCURRENCE_COLUMNS.split(row)
        booking["decided_by"] = None if decider["id"] is None else stored(User, decider)
        if booking["requested_by_id"] == requester.id:  # always, as _insert writes them
            booking["requested_by"] = requester
        found.append(stored(BookingRequest, booking))
    return found


_DECIDER = aliased(User)
_OCCURRENCE_COLUMNS = Columns(BookingRequest, (_DECIDER, ("id", "username", "email")))
_OCCURRENCES = (
    sa.select(*_OCCURRENCE_COLUMNS.select())
    .outerjoin(_DECIDER, _DECIDER.id == BookingRequest.decided_by_id)
    .where(BookingRequest.series_id == sa.bindparam("series_id"))
    .order_by(BookingRequest.event_time, BookingRequest.id)
)


def shown(
    series: BookingSeries, occurrences: list[BookingRequest], skipped: list | None = None
) -> dict[str, Any]:
    """The series as the API shows it."""
    return {
        "id": series.id,
        "resource_id": series.resource_id,
        "rrule": series.rrule,
        "time_zone": series.time_zone,
        "exdates": series.exdates,
        "requested_by": series.requested_by,
        "created_at": series.created_at,
        "occurrences": occurrences,
        "skipped": series.skipped if skipped is None else skipped,
    }


def get_series(actor: User, series_id: int) -> dict[str, Any]:
    """The series and its occurrences (its requester, an approver of its resource, an admin)."""
    series = _visible(actor, series_id)
    return shown(series, _occurrences(series))


def _visible(actor: User, series_id: int) -> BookingSeries:
    series = _get(series_id)
    require_owner_approver_or_admin(
        actor,
        series.requested_by_id,
        series.resource_id,
        "see your own series and those of the resources you approve",
    )
    return series


# ---------------------------------------------------------------- checking


def _refusals(
    resource: BookableResource,
    windows: list[tuple[datetime, datetime]],
    asked_at: datetime,
    requester: User | None = None,
) -> dict[int, Refusal]:
    """The occurrences (by index of `windows`, sorted by start) that cannot be booked, and
    why: the resource's rules, its blackouts, accepted requests in the way (within its
    buffer), and — given the `requester` — the quota, counting the occurrences that fit."""
    zone = ZoneInfo(resource.time_zone)
    buffer = timedelta(minutes=resource.buffer_minutes or 0)
    span = (windows[0][0], windows[-1][1])
    found: dict[int, Refusal] = {}

    def refusal(index: int) -> Refusal:
        return found.setdefault(index, Refusal(windows[index][0]))

    reach = buffer + LONGEST  # an accepted request starting this much earlier may still meet
    near = [(rules.shifted(start, -buffer), rules.shifted(end, buffer)) for start, end in windows]
    accepted = _accepted_meeting(resource.id, near)
    accepted_starts = [start for _, start, _ in accepted]
    blocked = blackouts.meeting(resource.id, span[0], span[1])
    for index, (start, end) in enumerate(windows):
        broken = rules.violations(resource.rules, zone, start, end, asked_at)
        if broken:
            refusal(index).reasons += [m for messages in broken.values() for m in messages]
            for name, messages in broken.items():
                refusal(index).errors.setdefault(name, []).extend(messages)
        hits = [b for b in blocked if b.start_time < end and b.end_time > start]
        if hits:
            refusal(index).reasons.append(blackouts.overlap_message(hits))
            refusal(index).rule_only = False
        before, after = rules.shifted(start, -buffer), rules.shifted(end, buffer)
        lowest = bisect_left(accepted_starts, rules.shifted(start, -reach))
        ids = sorted(
            booking_id
            for booking_id, _, booking_end in accepted[lowest : bisect_left(accepted_starts, after)]
            if booking_end > before
        )
        if ids:
            refusal(index).reasons.append(bookings.in_the_way(ids, resource.buffer_minutes or 0))
            refusal(index).conflicts += ids
            refusal(index).rule_only = False
    if requester is not None:
        free = [index for index in range(len(windows)) if index not in found]
        minutes = int((windows[0][1] - windows[0][0]) / timedelta(minutes=1))
        starts = [windows[index][0] for index in free]
        for position, reason in quota.refusals(requester, resource, starts, minutes).items():
            refusal(free[position]).reasons.append(reason)
            refusal(free[position]).rule_only = False
    return dict(sorted(found.items()))


def _breaks_rules(
    resource: BookableResource, windows: list[tuple[datetime, datetime]], asked_at: datetime
) -> bool:
    """Whether any of the `windows` breaks the resource's rules (`_refusals` says how)."""
    zone = ZoneInfo(resource.time_zone)
    return any(
        rules.violations(resource.rules, zone, start, end, asked_at) for start, end in windows
    )


def _accepted_meeting(
    resource_id: int, windows: list[tuple[datetime, datetime]]
) -> list[tuple[int, datetime, datetime]]:
    """(id, event_time, end_time) of the resource's accepted requests meeting any of the
    [start, end) `windows` (sorted by start), by start.

    On PostgreSQL one probe of the exclusion constraint's index per window, so a series
    reads the requests in its way, not every accepted request of its year; elsewhere those
    meeting the windows' whole span."""
    if db.session.get_bind().dialect.name == "postgresql":
        starts, ends = (array_items(moments) for moments in zip(*windows, strict=True))
        values = {"resource_id": resource_id, "starts": starts, "ends": ends}
        return execute(_ACCEPTED_NEAR_WINDOWS, values)
    query = (
        sa.select(BookingRequest.id, BookingRequest.event_time, BookingRequest.end_time)
        .where(
            BookingRequest.resource_id == resource_id,
            BookingRequest.status == Status.ACCEPTED,
            bookings.meets(windows[0][0], max(end for _, end in windows)),
        )
        .order_by(BookingRequest.event_time, BookingRequest.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


_ACCEPTED_NEAR_WINDOWS = sa.text(
    """
    SELECT DISTINCT near.id, near.event_time, near.end_time
    FROM unnest(CAST(string_to_array(:starts, ',') AS timestamptz[]),
                CAST(string_to_array(:ends, ',') AS timestamptz[])) AS w (s, e)
    CROSS JOIN LATERAL (
        SELECT b.id, b.event_time, b.end_time FROM booking_requests AS b
        WHERE b.resource_id = :resource_id AND b.status = 'accepted'
          AND tstzrange(b.event_time, b.end_time, '[)') && tstzrange(w.s, w.e, '[)')
        OFFSET 0  -- kept a subquery: one index probe per window, whatever the statistics say
    ) AS near
    ORDER BY near.event_time, near.id
    """
).columns(
    sa.column("id", sa.Integer),
    sa.column("event_time", BookingRequest.event_time.type),
    sa.column("end_time", BookingRequest.end_time.type),
)


def _refused(refusals: dict[int, Refusal], what: str, deciding: bool = False) -> Exception:
    """The 409 listing each refused occurrence; on submission 422 when only rules are broken,
    as for a one-off request."""
    listed = [refusal.shown() for refusal in refusals.values()]
    if not deciding and all(refusal.rule_only for refusal in refusals.values()):
        errors: dict[str, list[str]] = {}
        for refusal in refusals.values():
            stamp = _iso(refusal.event_time)
            for name, messages in refusal.errors.items():
                errors.setdefault(name, []).extend(f"{stamp}: {m}" for m in messages)
        error = UnprocessableEntity(
            errors, f"{len(listed)} occurrence(s) break the resource's booking rules; {what}."
        )
        error.extra["occurrences"] = listed
        return error
    return Conflict(
        f"{len(listed)} occurrence(s) conflict or break the resource's rules; {what}.",
        occurrences=listed,
    )


# ---------------------------------------------------------------- submitting


def submit(
    requester: User,
    resource_id: int,
    address: dict,
    repeat: dict,
    on_conflict: str = "fail",
    dry_run: bool = False,
    **fields,
) -> dict[str, Any]:
    """A new series of pending requests (accepted at once under `approval: "auto"` when
    nothing is in the way); `dry_run` answers the same and stores nothing. `repeat` is
    the body's `recurrence`: `rrule` and `exdates`."""
    rule = recurrence.parse(repeat["rrule"])
    now = utcnow()
    if dry_run:
        return _plan(requester, resource_id, address, repeat, rule, on_conflict, now, fields)
    with transaction(conflict=_in_the_way, keep_state=True):
        resource = catalog.get_resource(resource_id, bookable=True)  # held: _plan's too
        planned = _plan(
            requester, resource_id, address, repeat, rule, on_conflict, now, fields, True
        )
        series, ids = _store_series(
            {"resource_id": resource_id, "rrule": repeat["rrule"],
             "time_zone": resource.time_zone,
             "exdates": [moment.isoformat() for moment in repeat["exdates"]],
             "skipped": planned["skipped"], "requested_by_id": requester.id, "created_at": now},
            identity.as_user(requester), len(planned["occurrences"]),
        )  # fmt: skip
        auto = resource.approval == "auto"
        deciders = [] if auto else approvers.to_tell_of(resource_id, requester.id)
        occurrences = _insert(series, planned["occurrences"], requester, now, ids)
        if auto:
            bookings.move([b.id for b in occurrences], Status.PENDING, Status.ACCEPTED)
        resource_name = resource.name
    _tell_approvers(series, occurrences, resource_name, deciders)
    return shown(series, occurrences)


def _plan(
    requester: User,
    resource_id: int,
    address: dict,
    repeat: dict,
    rule: recurrence.Rule,
    on_conflict: str,
    now: datetime,
    fields: dict,
    writing: bool = False,
) -> dict[str, Any]:
    """What submitting the series would store: its occurrences (not added to the session)
    and what is skipped; 409/422 under `fail` if any occurrence is refused."""
    resource = catalog.get_resource(resource_id, bookable=True)
    zone = ZoneInfo(resource.time_zone)
    starts = recurrence.occurrences(rule, fields["event_time"], zone, repeat["exdates"])
    duration = timedelta(minutes=fields["duration_minutes"])
    if rules.shifted(starts[-1], duration + LONGEST) == rules.LATEST:
        raise recurrence.refuse("The series must end well before the year 9999.")
    clash = recurrence.overlapping(starts, duration)
    if clash:
        earlier, later = (_iso(moment) for moment in clash)
        raise recurrence.refuse(
            f"Occurrences would overlap: the one at {earlier} lasts until after the next "
            f"starts ({later}); shorten duration_minutes or space the occurrences out."
        )
    if writing and resource.approval == "auto":
        catalog.take_turn(resource_id)  # what follows sees every acceptance committed before
    windows = [(start, start + duration) for start in starts]
    refusals = _refusals(resource, windows, now, requester)
    kept = [start for index, start in enumerate(starts) if index not in refusals]
    if refusals and (on_conflict == "fail" or not kept):
        raise _refused(refusals, "nothing was stored" if on_conflict == "fail" else "none is left")
    status = Status.ACCEPTED if resource.approval == "auto" and not writing else Status.PENDING
    user = identity.as_user(requester)
    occurrences = [
        _occurrence(user, resource_id, address, fields, start, duration, status, now)
        for start in kept
    ]
    skipped = [refusal.shown() for refusal in refusals.values()]
    return {
        "id": None,
        "resource_id": resource_id,
        "rrule": repeat["rrule"],
        "time_zone": resource.time_zone,
        "exdates": [moment.isoformat() for moment in repeat["exdates"]],
        "requested_by": requester,
        "created_at": now,
        "occurrences": occurrences,
        "skipped": skipped,
    }


def _occurrence(
    requester: User,
    resource_id: int,
    address: dict,
    fields: dict,
    start: datetime,
    duration: timedelta,
    status: str,
    now: datetime,
) -> BookingRequest:
    """One occurrence as it would be stored (not added to the session); `requester` is the
    session's `User` (`identity.as_user`). Its values go straight into its dict, as the
    ORM's loading puts them, without the attribute events of the constructor."""
    booking = _new_booking()
    booking.__dict__.update(
        resource_id=resource_id,
        topic=fields["topic"],
        event_time=start,
        duration_minutes=fields["duration_minutes"],
        end_time=start + duration,
        status=status,
        requested_by=requester,
        created_at=now,
        updated_at=now,
        version=1,
        **address,
    )
    return booking


_new_booking = sa.inspect(BookingRequest).class_manager.new_instance


def _store_series(
    values: dict[str, Any], requester: User, count: int
) -> tuple[BookingSeries, list[int] | None]:
    """The new series (its row as `values` say) and, on PostgreSQL, the ids of its `count`
    occurrences, taken from the sequence by the same statement (the series' object is made
    of the values written, nothing is read back); elsewhere the ids are the inserts'."""
    if db.session.get_bind().dialect.name != "postgresql":
        series = BookingSeries(**values, requested_by=requester)
        db.session.add(series)
        db.session.flush()
        return series, None
    rows = execute(_NEW_SERIES, {**values, "count": count})
    series = attach(BookingSeries, {**values, "id": rows[0][0], "requested_by": requester})
    return series, [booking_id for _, booking_id in rows]


def _new_series() -> sa.Select:
    table = BookingSeries.__table__
    columns = ("resource_id", "rrule", "time_zone", "exdates", "skipped", "requested_by_id",
               "created_at")  # fmt: skip
    inserted = (
        sa.insert(table)
        .values({c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
        .returning(table.c.id)
        .cte("inserted")
    )
    ids = sa.func.generate_series(1, sa.bindparam("count", type_=sa.Integer)).alias("n")
    new_id = sa.func.nextval(sa.func.pg_get_serial_sequence("booking_requests", "id"))
    return (
        sa.select(inserted.c.id, new_id)
        .select_from(inserted.join(ids, sa.true()))
        .execution_options(**{WRITES: True})
    )


_NEW_SERIES = _new_series()


def _insert(
    series: BookingSeries,
    planned: list[BookingRequest],
    requester: User,
    now: datetime,
    ids: list[int] | None,
) -> list[BookingRequest]:
    """Insert the occurrences, their submission history and `booking.submitted` events: a
    statement each (on PostgreSQL a COPY, with the `ids` taken from the sequence with the
    series). The planned objects become the stored ones (nothing is read back)."""
    table = BookingRequest.__table__
    given = ("resource_id", "topic", "event_time", "duration_minutes", "end_time", "street",
             "city", "state", "postal_code", "country", "status", "created_at",
             "updated_at")  # fmt: skip
    rows = [
        {**bookings.NEW_ROW, **{c: b.__dict__.get(c) for c in given},
         "requested_by_id": requester.id, "series_id": series.id}
        for b in planned
    ]  # fmt: skip
    if ids is not None:  # PostgreSQL: the rows by COPY, no statement per row to parse and plan
        for row, booking_id in zip(rows, ids, strict=True):
            row["id"] = booking_id
        copy_rows(table, rows)
    else:
        ids = db.session.scalars(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).all()
    for booking, row, booking_id in zip(planned, rows, ids, strict=True):
        # Transient objects: their values go in as they were stored, then count as loaded.
        booking.__dict__.update(row, id=booking_id, decided_by=None)
        make_transient_to_detached(booking)  # as stored: nothing left for the ORM to write
        db.session.add(booking)
    copy_rows(
        BookingHistory.__table__,
        [{"booking_id": booking.id, "from_status": None, "to_status": Status.PENDING,
          "actor_id": requester.id, "at": now, "reason": None} for booking in planned],
    )  # fmt: skip
    outbox.record_many(planned, "booking.submitted")
    metrics.transition(Status.PENDING, len(planned))
    return planned


def _in_the_way() -> Conflict:
    # The database refused an overlap that another acceptance committed in the meantime.
    return Conflict("Another request was accepted in the way of the series; try again.")


# ---------------------------------------------------------------- deciding


def accept(
    actor: User, series_id: int, from_: datetime | None = None, on_conflict: str = "fail"
) -> dict[str, Any]:
    """Accept every pending occurrence that has not started (from `from_` on) in one
    transaction; under `fail` one refused occurrence changes nothing (409), under `skip`
    the refused ones are rejected with the reason `conflict`.

    Under `fail` as a one-off accept, for all of them at once: on PostgreSQL the series,
    its resource and its occurrences are read, the rules checked on them, and the move is
    sent after the resource's turn in one round trip, guarded by the resource being as
    read and no blackout meeting any occurrence (`_accept_at_once`); overlaps and buffers
    are the database's to refuse, and the 409 of a refusal lists every occurrence refused
    and why, read when it is known. Whatever was not as read, nothing moved, and the series
    is accepted again with the turn taken first (`_accept_in_turn`). Under `skip` the turn
    also reads what is in the way, to know which to reject."""
    require_approver_or_admin(actor)
    if on_conflict == "fail" and db.session.get_bind().dialect.name == "postgresql":
        answer = _accept_at_once(actor, series_id, from_)
        if answer is not None:
            return answer
    return _accept_in_turn(actor, series_id, from_, on_conflict)


def _accept_at_once(actor: User, series_id: int, from_: datetime | None) -> dict | None:
    """The answer, if every pending occurrence was accepted as read (or those nobody moved
    meanwhile); None if nothing moved, and nothing changed (`accept`)."""
    windows: list[tuple[datetime, datetime]] = []
    resource_id, asked_at = None, None

    def in_the_way() -> Conflict:  # the database refused an overlap or a buffer
        found = _refusals(catalog.get_resource(resource_id), windows, asked_at)
        return _refused(found, "nothing was accepted", deciding=True) if found else _in_the_way()

    with transaction(conflict=in_the_way, keep_state=True):
        rows = execute(_SERIES_AS_READ, {"series_id": series_id})
        if not rows:
            return None
        series, resource, digest = _as_read(rows[0])
        resource_id = series.resource_id
        require_approver_or_admin(actor, resource_id)
        now = utcnow()
        occurrences = _occurrences(series)
        pending = _since(occurrences, (Status.PENDING,), max(from_ or now, now))
        if not pending:
            return None
        windows = [(b.event_time, b.end_time) for b in pending]
        asked_at = pending[0].created_at  # notice and advance: from when it was asked for
        if _breaks_rules(resource, windows, asked_at):
            return None
        acceptance = bookings.foresee(pending, Status.PENDING, Status.ACCEPTED, actor=actor)
        accepted = acceptance.send(
            last=True, clear_of_blackouts=True, as_read=(resource_id, digest)
        )
        if not accepted:
            return None
    _tell_requester(series, actor, accepted, Status.ACCEPTED)
    return shown(series, acceptance.as_shown(occurrences))


def _as_read(row: tuple) -> tuple[BookingSeries, BookableResource, str]:
    """The objects of a row of `_SERIES_AS_READ`, and the resource's digest."""
    series, requester, resource = _SERIES_COLUMNS.split(row)
    series = stored(BookingSeries, {**series, "requested_by": stored(User, requester)})
    return series, stored(BookableResource, resource), row[-1]


_SERIES_COLUMNS = Columns(BookingSeries, (User, ("id", "username", "email")), BookableResource)
_SERIES_AS_READ = (  # the series, its requester, its resource and the resource's digest
    sa.select(*_SERIES_COLUMNS.select(), catalog.row_digest())
    .join(User, User.id == BookingSeries.requested_by_id)
    .join(BookableResource, BookableResource.id == BookingSeries.resource_id)
    .where(BookingSeries.id == sa.bindparam("series_id"))
)


def _accept_in_turn(
    actor: User, series_id: int, from_: datetime | None, on_conflict: str
) -> dict[str, Any]:
    """`accept` with the resource's turn taken before the rules are checked: the turn reads
    the resource as it is now; under `skip` also what is in the way."""
    resource_id, windows, asked_at = None, [], None

    def in_the_way() -> Conflict:  # the database refused an overlap or a buffer
        found = _refusals(catalog.get_resource(resource_id), windows, asked_at) if windows else {}
        return _refused(found, "nothing was accepted", deciding=True) if found else _in_the_way()

    with transaction(conflict=in_the_way, keep_state=True):
        series = _get(series_id)
        resource_id = series.resource_id
        require_approver_or_admin(actor, resource_id)
        now = utcnow()
        # Read before the turn, so that the turn is held for less: a pending occurrence
        # that something else moves meanwhile is left alone by the guarded move. What the
        # moves change, they change on these objects: the answer reads nothing again. The
        # acceptance (its events too) is made ready before the turn as well.
        occurrences = _occurrences(series)
        pending = _since(occurrences, (Status.PENDING,), max(from_ or now, now))
        acceptance = bookings.foresee(pending, Status.PENDING, Status.ACCEPTED, actor=actor)
        windows = [(b.event_time, b.end_time) for b in pending]
        # Notice and advance are judged from when the series was asked for.
        asked_at = pending[0].created_at if pending else now
        # Accepts and blackouts of one resource take turns: what follows sees them all.
        # Under `fail` the acceptance's history rows and events are written on the way to
        # the turn, which is then held for the rules and the move.
        ahead = acceptance.write_ahead() if on_conflict == "fail" else ()
        resource = catalog.take_turn(resource_id, ahead=ahead)  # as it is now, its rules too
        rejected: list[BookingRequest] = []
        if on_conflict == "fail":
            accepted = []
            if not (pending and _breaks_rules(resource, windows, asked_at)):
                accepted = acceptance.send(last=True, clear_of_blackouts=True)
            if pending and not accepted:  # the rules, a blackout, or all moved meanwhile
                found = _refusals(resource, windows, asked_at)
                if found:
                    raise _refused(found, "nothing was accepted", deciding=True)
        else:
            found = _refusals(resource, windows, asked_at) if pending else {}
            refused = [pending[index].id for index in found]
            acceptance.leave_out(refused)
            rejected = bookings.move(refused, Status.PENDING, Status.REJECTED, actor=actor,
                                     reason=CONFLICT)  # fmt: skip
            # With nothing refused, nothing is written after the acceptance and its events.
            accepted = acceptance.send(last=not found)
            if found:
                series.skipped = [*series.skipped, *(r.shown() for r in found.values())]
    _tell_requester(series, actor, accepted, Status.ACCEPTED, rejected)
    return shown(series, acceptance.as_shown(occurrences))


def reject(
    actor: User, series_id: int, from_: datetime | None = None, reason: str | None = None
) -> dict[str, Any]:
    """Reject every pending occurrence that has not started (from `from_` on)."""
    require_approver_or_admin(actor)
    with transaction(keep_state=True):
        series = _get(series_id)
        require_approver_or_admin(actor, series.resource_id)
        occurrences = _occurrences(series)
        ids = [b.id for b in _since(occurrences, (Status.PENDING,), from_ or utcnow())]
        moved = bookings.move(ids, Status.PENDING, Status.REJECTED, actor=actor, reason=reason)
    _tell_requester(series, actor, moved, Status.REJECTED)
    return shown(series, occurrences)


def cancel(
    actor: User, series_id: int, from_: datetime | None = None, reason: str | None = None
) -> dict[str, Any]:
    """Cancel every pending or accepted occurrence that has not started (from `from_` on)
    (its requester, an approver of its resource, an admin)."""
    with transaction(keep_state=True):
        series = _visible(actor, series_id)
        occurrences = _occurrences(series)
        found = _since(occurrences, (Status.PENDING, Status.ACCEPTED), from_ or utcnow())
        moved = []
        for status in (Status.PENDING, Status.ACCEPTED):
            ids = [b.id for b in found if b.status == status]
            moved += bookings.move(ids, status, Status.CANCELLED, actor=actor, reason=reason)
    _tell_requester(series, actor, moved, Status.CANCELLED)
    return shown(series, occurrences)


def _since(
    occurrences: list[BookingRequest], statuses: tuple[str, ...], since: datetime
) -> list[BookingRequest]:
    """Those of the series' `occurrences` (by start) in `statuses` starting at `since` or
    later; the moves that follow bring these same objects up to date."""
    return [b for b in occurrences if b.status in statuses and b.event_time >= since]


# ---------------------------------------------------------------- telling


def _tell_requester(
    series: BookingSeries,
    actor: User,
    moved: list[BookingRequest],
    status: str,
    rejected: list[BookingRequest] = (),
) -> None:
    """One e-mail to the requester per decision on the series, after the commit, if someone
    else (or an admin) made it and it moved anything."""
    if not moved and not rejected:
        return
    if not actor.is_admin and actor.id == series.requested_by_id:
        return
    subject, body = mail.render(
        "series_decided", series=series, status=status, moved=moved, rejected=list(rejected)
    )
    mail.send_mail_later(series.requested_by.email, subject, body)


def _tell_approvers(
    series: BookingSeries, occurrences: list[BookingRequest], resource_name: str, emails: list[str]
) -> None:
    if not emails:
        return
    subject, body = mail.render(
        "series_waiting", series=series, occurrences=occurrences, resource_name=resource_name
    )
    for email in emails:
        mail.send_mail_later(email, subject, body)
