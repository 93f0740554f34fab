"""The catalogue of bookable resources."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from my_app.errors import Conflict, NotFound, UnprocessableEntity
from my_app.extensions import db
from my_app.models import BookableResource, User
from my_app.models.booking import new_calendar_token
from my_app.services.permissions import require_admin
from my_app.services.transaction import Ahead, Columns, execute, stored, transaction


def list_resources(actor: User) -> list[BookableResource | dict[str, Any]]:
    query = sa.select(BookableResource).options(selectinload(BookableResource.approvers))
    resources = db.session.scalars(query.order_by(BookableResource.id))
    return [as_seen_by(actor, resource) for resource in resources]


def as_seen_by(actor: User, resource: BookableResource) -> BookableResource | dict[str, Any]:
    """The resource as `actor` may see it: only admins see its feed's secret (`calendar_url`)."""
    if actor.is_admin:
        return resource
    fields = ("id", "name", "description", "active", "time_zone", "approval", "rules", "approvers")
    return {name: getattr(resource, name) for name in fields}


def resource_for(actor: User, resource_id: int) -> BookableResource | dict[str, Any]:
    """One resource with its rules, as `actor` may see it; 404 if there is none."""
    return as_seen_by(actor, get_resource(resource_id))


def get_resource(resource_id: int, bookable: bool = False, fresh: bool = False) -> BookableResource:
    """The resource, or 404; with `bookable`, inactive ones count as missing too; `fresh`
    reads the row again even if the session holds it (its rules as they are now)."""
    resource = db.session.get(BookableResource, resource_id, populate_existing=fresh)
    if resource is None or (bookable and not resource.active):
        raise NotFound(f"There is no {'bookable ' if bookable else ''}resource {resource_id}.")
    return resource


def take_turn(resource_id: int, ahead: Ahead = ()) -> BookableResource:
    """Take the resource's row until commit, so that accepts (and blackouts) of one resource
    take turns; in a statement of its own, so that what the caller reads next includes
    whatever the turn's previous holder committed. Returns the resource as it is now (its
    rules too), read by that same statement. The statements `ahead` (`transaction.execute`)
    go before it in the same round trip: what they write is written before the turn.

    FOR NO KEY UPDATE: submits, whose foreign key check takes a key-share
    lock on the same row, are not held up. SQLite has no row locks; its
    writers take turns anyway.
    """
    rows = execute(_TURN, {"resource_id": resource_id}, ahead=ahead)
    if not rows:
        raise NotFound(f"There is no resource {resource_id}.")
    (resource,) = RESOURCE_COLUMNS.split(rows[0])
    return stored(BookableResource, resource)


RESOURCE_COLUMNS = Columns(BookableResource)  # every column of a resource, for `execute`


def row_digest() -> sa.ColumnElement[str]:
    """A digest of the resource's row as the database has it (PostgreSQL): any change of
    any of its columns changes it."""
    return sa.func.md5(sa.cast(sa.literal_column("resources"), sa.Text))


AS_READ = row_digest() == sa.bindparam("digest", type_=sa.Text)  # the resource is as read
# The turn, if the resource is as read (`digest`): sent ahead of a move that the caller
# checked on what it read (`transaction.execute(…, ahead=…)`).
TURN_AS_READ = (
    sa.select(sa.literal(1))
    .select_from(BookableResource)
    .where(BookableResource.id == sa.bindparam("resource_id"), AS_READ)
    .with_for_update(key_share=True)
)
_TURN = (  # built once: sent straight to psycopg on PostgreSQL (`transaction.execute`)
    sa.select(*RESOURCE_COLUMNS.select())
    .where(BookableResource.id == sa.bindparam("resource_id"))
    .with_for_update(key_share=True)
)


def _ensure_name_free(name: str, except_id: int | None = None) -> None:
    query = sa.select(BookableResource.id).where(
        sa.func.lower(BookableResource.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(BookableResource.id != except_id)
    if db.session.scalar(query) is not None:
        raise Conflict(f"A resource named {name!r} exists.")


def _name_taken(name: str) -> str:
    return f"A resource named {name!r} exists."


def create_resource(actor: User, name: str, description: str = "") -> BookableResource:
    require_admin(actor)
    with transaction(conflict=_name_taken(name)):  # a concurrent create took the name
        _ensure_name_free(name)
        resource = BookableResource(name=name, description=description, active=True)
        db.session.add(resource)
    return as_seen_by(actor, resource)


def update_resource(
    actor: User, resource_id: int, rules: dict | None = None, **changes
) -> BookableResource:
    """Change a resource; `rules` are merged into its rules key by key (None clears one).

    New rules hold for requests and decisions from the commit on; nothing accepted moves.
    """
    require_admin(actor)
    with transaction(conflict=_name_taken(changes.get("name", ""))):
        resource = get_resource(resource_id)
        if "name" in changes:
            _ensure_name_free(changes["name"], except_id=resource_id)
        for field, value in (changes | (rules or {})).items():
            setattr(resource, field, value)
        _require_consistent(resource)
    return as_seen_by(actor, resource)


def _require_consistent(resource: BookableResource) -> None:
    errors = rule_conflicts(resource.min_duration_minutes, resource.max_duration_minutes)
    if errors:
        raise UnprocessableEntity({f"rules.{name}": messages for name, messages in errors.items()})


def rule_conflicts(shortest: int | None, longest: int | None) -> dict[str, list[str]]:
    """What is wrong with rules that are each valid but not together, by rule name."""
    if shortest is not None and longest is not None and shortest > longest:
        return {"min_duration_minutes": [f"Must not exceed max_duration_minutes ({longest})."]}
    return {}


def rotate_calendar_token(actor: User, resource_id: int) -> BookableResource | dict[str, Any]:
    """Give the resource's feed a new secret link; the old one stops working at once."""
    require_admin(actor)
    with transaction():
        resource = get_resource(resource_id)
        resource.calendar_token = new_calendar_token()
    return as_seen_by(actor, resource)
