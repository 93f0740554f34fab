"""Booking requests: submit, read, list, decide, cancel, delete."""

from flask_jwt_extended import current_user

from my_app.resources.base import Resource, endpoint
from my_app.schemas.booking import (
    BookingCreateSchema,
    BookingDecisionSchema,
    BookingIdSchema,
    BookingListSchema,
    BookingSchema,
    BookingsQuerySchema,
    DeletedBookingSchema,
    HistorySchema,
    MyBookingsQuerySchema,
)
from my_app.services import bookings

TAGS = ("bookings",)


class SubmitRequest(Resource):
    @endpoint(
        "submit_request",
        auth="access",
        body=BookingCreateSchema,
        response=BookingSchema,
        status=201,
        errors=(404,),
        tags=TAGS,
    )
    def post(self, data):
        """Ask for a booking; the requester is the token's user."""
        return bookings.submit(current_user, **data)


class ListRequests(Resource):
    @endpoint(
        "list_requests",
        auth="admin",
        query=BookingsQuerySchema,
        response=BookingListSchema,
        tags=TAGS,
    )
    def get(self, filters):
        """Every booking request, filtered, by event time then id (admin)."""
        return bookings.list_all(current_user, **filters)


class MyRequests(Resource):
    @endpoint(
        "list_my_requests",
        auth="access",
        query=MyBookingsQuerySchema,
        response=BookingListSchema,
        tags=TAGS,
    )
    def get(self, filters):
        """The caller's own booking requests, by event time then id."""
        return bookings.list_own(current_user, **filters)


class RequestItem(Resource):
    @endpoint("get_request", auth="access", response=BookingSchema, errors=(403, 404), tags=TAGS)
    def get(self, booking_id: int):
        """One booking request (its owner or an admin)."""
        return bookings.visible_booking(current_user, booking_id)


class RequestHistory(Resource):
    @endpoint(
        "get_request_history", auth="access", response=HistorySchema, errors=(403, 404), tags=TAGS
    )
    def get(self, booking_id: int):
        """Every status change of a request, oldest first (its owner or an admin)."""
        return {"history": bookings.history(current_user, booking_id)}


class AcceptRequest(Resource):
    @endpoint(
        "accept_request",
        auth="admin",
        body=BookingIdSchema,
        response=BookingSchema,
        errors=(404, 409),
        tags=TAGS,
    )
    def post(self, data):
        """Accept a pending request that overlaps no accepted one (admin)."""
        return bookings.accept(current_user, data["id"])


class RejectRequest(Resource):
    @endpoint(
        "reject_request",
        auth="admin",
        body=BookingDecisionSchema,
        response=BookingSchema,
        errors=(404, 409),
        tags=TAGS,
    )
    def post(self, data):
        """Reject a pending request, optionally saying why (admin)."""
        return bookings.reject(current_user, data["id"], data["reason"])


class CancelRequest(Resource):
    @endpoint(
        "cancel_request",
        auth="access",
        body=BookingDecisionSchema,
        response=BookingSchema,
        errors=(403, 404, 409),
        tags=TAGS,
    )
    def post(self, data):
        """Cancel a pending or accepted request (its owner or an admin)."""
        return bookings.cancel(current_user, data["id"], data["reason"])


class DeleteRequest(Resource):
    @endpoint(
        "delete_request", auth="admin", response=DeletedBookingSchema, errors=(404,), tags=TAGS
    )
    def delete(self, booking_id: int):
        """Delete a request and its history (admin)."""
        bookings.delete(current_user, booking_id)
        return {"message": f"Booking request {booking_id} deleted.", "id": booking_id}
