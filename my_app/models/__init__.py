"""Tables. Importing this package registers every model with the metadata."""

from my_app.models.booking import BookableResource, BookingHistory, BookingRequest, BookingStatus
from my_app.models.event import BookingEvent, BookingEventAttempt
from my_app.models.idempotency import IdempotencyKey
from my_app.models.session import LoginSession
from my_app.models.token import BlacklistEntry
from my_app.models.user import User

__all__ = [
    "BlacklistEntry",
    "BookableResource",
    "BookingEvent",
    "BookingEventAttempt",
    "BookingHistory",
    "BookingRequest",
    "BookingStatus",
    "IdempotencyKey",
    "LoginSession",
    "User",
]
