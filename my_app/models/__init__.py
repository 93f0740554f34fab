"""Tables. Importing this package registers every model with the metadata."""

from my_app.models.booking import BookableResource, BookingHistory, BookingRequest
from my_app.models.event import BookingEvent, BookingEventAttempt  # noqa: F401  (the outbox)
from my_app.models.token import BlacklistEntry
from my_app.models.user import User

__all__ = ["BlacklistEntry", "BookableResource", "BookingHistory", "BookingRequest", "User"]
