"""Who may do what: the checks every service runs on its actor, whichever path calls it."""

from __future__ import annotations

from my_app.errors import Forbidden
from my_app.models import User


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("This action needs the admin role.")


def require_owner_or_admin(actor: User, owner_id: int, what: str) -> None:
    """`actor` may act on something of `owner_id`'s: it is theirs, or they are an admin."""
    if not actor.is_admin and actor.id != owner_id:
        raise Forbidden(f"You may only {what}.")


def is_approver(actor: User, resource_id: int) -> bool:
    """`actor` approves `resource_id`'s requests.

    Placeholder until per-resource approvers land (issue 21's other half): nobody yet.
    """
    return False
