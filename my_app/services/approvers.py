"""A resource's approvers: who they are, and the e-mail telling them a request waits.

What an approver may do is checked in `permissions` (`require_approver_or_admin`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from my_app.errors import NotFound, UnprocessableEntity
from my_app.extensions import db
from my_app.models import BookableResource, BookingRequest, User, resource_approvers
from my_app.services import catalog, mail
from my_app.services.permissions import require_admin
from my_app.services.transaction import transaction


def set_approvers(actor: User, resource_id: int, user_ids: Sequence[int]) -> Any:
    """Make exactly `user_ids` the resource's approvers (admin); 422 for an unknown or
    disabled account."""
    require_admin(actor)
    wanted = list(dict.fromkeys(user_ids))
    with transaction():
        # Two admins setting the list at once take turns, so neither trips on the other's rows.
        resource = db.session.get(
            BookableResource, resource_id, with_for_update={"key_share": True}
        )
        if resource is None:
            raise NotFound(f"There is no resource {resource_id}.")
        users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}
        problems = [_refusal(user_id, users.get(user_id)) for user_id in wanted]
        if any(problems):
            raise UnprocessableEntity({"user_ids": [p for p in problems if p]})
        resource.approvers = [users[user_id] for user_id in wanted]
    return catalog.as_seen_by(actor, resource)


def _refusal(user_id: int, user: User | None) -> str | None:
    if user is None:
        return f"There is no user {user_id}."
    if not user.is_active:
        return f"User {user_id} ({user.username}) is disabled."
    return None


def to_tell(booking: BookingRequest) -> list[str]:
    """The e-mail address of each active approver of the request's resource, but its
    requester's own."""
    return to_tell_of(booking.resource_id, booking.requested_by_id)


def to_tell_of(resource_id: int, requester_id: int) -> list[str]:
    """`to_tell` of a request of `resource_id` that `requester_id` makes."""
    query = (
        sa.select(User.email)
        .join(resource_approvers, resource_approvers.c.user_id == User.id)
        .where(
            resource_approvers.c.resource_id == resource_id,
            telling(User, requester_id),
        )
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def telling(user: Any, requester_id: Any) -> sa.ColumnElement[bool]:
    """Whether an approver (`user`, the User entity or an alias of it) is told of a request
    by `requester_id` (an id, or a bound parameter): active, and not its requester."""
    return sa.and_(user.status == "active", user.id != requester_id)


def tell(booking: BookingRequest, resource_name: str, emails: Sequence[str]) -> None:
    """E-mail each of `emails` (from `to_tell`) that the request waits for their decision."""
    if not emails:
        return
    subject, body = mail.render("booking_waiting", booking=booking, resource_name=resource_name)
    for email in emails:
        mail.send_mail_later(email, subject, body)
