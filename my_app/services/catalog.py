"""The catalogue of bookable resources."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from my_app.errors import Conflict, NotFound
from my_app.extensions import db
from my_app.models import BookableResource, User
from my_app.models.booking import new_calendar_token
from my_app.services.permissions import require_admin
from my_app.services.transaction import transaction


def list_resources(actor: User) -> list[BookableResource | dict[str, Any]]:
    resources = db.session.scalars(sa.select(BookableResource).order_by(BookableResource.id))
    return [as_seen_by(actor, resource) for resource in resources]


def calendar_url(resource: BookableResource) -> str | None:
    """The secret feed link calendar apps subscribe to (None if the feed has no token)."""
    if not resource.calendar_token:
        return None
    base = current_app.config["PUBLIC_BASE_URL"]
    return f"{base}/resources/{resource.id}/calendar.ics?token={resource.calendar_token}"


def as_seen_by(actor: User, resource: BookableResource) -> BookableResource | dict[str, Any]:
    """The resource as `actor` may see it: admins also get its `calendar_url`."""
    if not actor.is_admin:
        return resource
    fields = ("id", "name", "description", "active")
    return {name: getattr(resource, name) for name in fields} | {
        "calendar_url": calendar_url(resource)
    }


def get_resource(resource_id: int, bookable: bool = False) -> BookableResource:
    """The resource, or 404; with `bookable`, inactive ones count as missing too."""
    resource = db.session.get(BookableResource, resource_id)
    if resource is None or (bookable and not resource.active):
        raise NotFound(f"There is no {'bookable ' if bookable else ''}resource {resource_id}.")
    return resource


def require_bookable(resource_id: int) -> None:
    """404 unless the resource exists and is active (one column read, not the row)."""
    resources = BookableResource.__table__
    query = sa.select(resources.c.active).where(resources.c.id == resource_id)
    if not db.session.scalar(query):
        raise NotFound(f"There is no bookable resource {resource_id}.")


def accepting_turn(resource_id: int) -> sa.ColumnElement[bool]:
    """A condition that, in the statement it guards, takes the resource's row until commit,
    so that accepts of one resource take turns.

    FOR NO KEY UPDATE: submits, whose foreign key check takes a key-share
    lock on the same row, are not held up. SQLite has no row locks; its
    writers take turns anyway.
    """
    turn = (
        sa.select(BookableResource.id)
        .where(BookableResource.id == resource_id)
        .with_for_update(key_share=True)
        .cte("turn")
    )
    return sa.exists(sa.select(turn.c.id))


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


def update_resource(actor: User, resource_id: int, **changes) -> BookableResource:
    require_admin(actor)
    with transaction(conflict=_name_taken(changes.get("name", ""))):
        resource = get_resource(resource_id)
        if "name" in changes:
            _ensure_name_free(changes["name"], except_id=resource_id)
        for field, value in changes.items():
            setattr(resource, field, value)
    return as_seen_by(actor, resource)


def rotate_calendar_token(actor: User, resource_id: int) -> dict[str, Any]:
    """Give the resource's feed a new secret link; the old one stops working at once."""
    require_admin(actor)
    with transaction():
        resource = get_resource(resource_id)
        resource.calendar_token = new_calendar_token()
    return as_seen_by(actor, resource)
