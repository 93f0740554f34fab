"""Tables. Importing this package registers every model with the metadata."""

from my_app.models.approver import resource_approvers
from my_app.models.blackout import Blackout
from my_app.models.booking import BookableResource, BookingHistory, BookingRequest, BookingStatus
from my_app.models.event import BookingEvent, BookingEventAttempt
from my_app.models.idempotency import IdempotencyKey
from my_app.models.series import BookingSeries
from my_app.models.session import LoginSession
from my_app.models.token import BlacklistEntry
from my_app.models.user import User

__all__ = [
    "BlacklistEntry",
    "Blackout",
    "BookableResource",
    "BookingEvent",
    "BookingEventAttempt",
    "BookingHistory",
    "BookingRequest",
    "BookingSeries",
    "BookingStatus",
    "IdempotencyKey",
    "LoginSession",
    "User",
    "resource_approvers",
]
