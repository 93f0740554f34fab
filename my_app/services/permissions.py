"""Who may do what: the checks every service runs on its actor, whichever path calls it.

Approver rights are read from the database when a check needs them (one lookup
by primary key), never from the caller's cached account: being made or unmade
an approver counts on the very next request.
"""

from __future__ import annotations

import sqlalchemy as sa

from my_app.errors import Forbidden
from my_app.extensions import db
from my_app.models import User, resource_approvers


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("This action needs the admin role.")


def require_owner_or_admin(actor: User, owner_id: int, what: str) -> None:
    """`actor` may act on something of `owner_id`'s: it is theirs, or they are an admin."""
    if not actor.is_admin and actor.id != owner_id:
        raise Forbidden(f"You may only {what}.")


def is_approver(actor: User, resource_id: int) -> bool:
    query = sa.select(resource_approvers.c.user_id).where(
        resource_approvers.c.resource_id == resource_id,
        resource_approvers.c.user_id == actor.id,
    )
    return db.session.scalar(query) is not None


def approved_resource_ids(actor: User) -> list[int]:
    """The resources whose requests `actor` approves (as an approver; admins approve all)."""
    query = (
        sa.select(resource_approvers.c.resource_id)
        .where(resource_approvers.c.user_id == actor.id)
        .order_by(resource_approvers.c.resource_id)
    )
    return list(db.session.scalars(query))


def require_approver_or_admin(actor: User, resource_id: int | None = None) -> None:
    """`actor` decides for the resource: an admin, or one of its approvers. Without a
    resource, an approver of any (who is refused before learning what exists)."""
    if actor.is_admin:
        return
    if resource_id is None and not approved_resource_ids(actor):
        raise Forbidden("This action needs the admin role or approver rights.")
    if resource_id is not None and not is_approver(actor, resource_id):
        raise Forbidden("This action needs the admin role or approver rights for the resource.")


def require_owner_approver_or_admin(
    actor: User, owner_id: int, resource_id: int, what: str
) -> None:
    """`actor` may act on a booking request of `owner_id`'s for the resource: it is theirs,
    they approve the resource, or they are an admin."""
    if actor.is_admin or actor.id == owner_id:
        return
    if not is_approver(actor, resource_id):
        raise Forbidden(f"You may only {what}.")
