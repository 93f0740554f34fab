"""Booking requests: submit, read, list, decide, cancel, delete."""

from flask_jwt_extended import current_user

from my_app.apidoc import documented
from my_app.resources.base import AdminResource, AuthResource, load_body, load_query
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

booking_schema = BookingSchema()
TAGS = ("bookings",)


def _page(rows, next_cursor):
    return {"bookings": booking_schema.dump(rows, many=True), "next_cursor": next_cursor}


class SubmitRequest(AuthResource):
    @documented(
        auth="access", body=BookingCreateSchema, response=BookingSchema, status=201,
        errors=(404,), tags=TAGS,
    )  # fmt: skip
    def post(self):
        """Ask for a booking; the requester is the token's user."""
        data = load_body(BookingCreateSchema())
        return booking_schema.dump(bookings.submit(current_user, **data)), 201


class ListRequests(AdminResource):
    @documented(auth="admin", query=BookingsQuerySchema, response=BookingListSchema, tags=TAGS)
    def get(self):
        """Every booking request, filtered, by event time then id (admin)."""
        return _page(*bookings.list_bookings(**load_query(BookingsQuerySchema())))


class MyRequests(AuthResource):
    @documented(auth="access", query=MyBookingsQuerySchema, response=BookingListSchema, tags=TAGS)
    def get(self):
        """The caller's own booking requests, by event time then id."""
        args = load_query(MyBookingsQuerySchema())
        return _page(*bookings.list_bookings(requested_by=current_user.id, **args))


class RequestItem(AuthResource):
    @documented(auth="access", response=BookingSchema, errors=(403, 404), tags=TAGS)
    def get(self, booking_id: int):
        """One booking request (its owner or an admin)."""
        return booking_schema.dump(bookings.visible_booking(current_user, booking_id))


class RequestHistory(AuthResource):
    @documented(auth="access", response=HistorySchema, errors=(403, 404), tags=TAGS)
    def get(self, booking_id: int):
        """Every status change of a request, oldest first (its owner or an admin)."""
        entries = bookings.history(current_user, booking_id)
        return HistorySchema().dump({"history": entries})


class AcceptRequest(AdminResource):
    @documented(
        auth="admin", body=BookingIdSchema, response=BookingSchema, errors=(404, 409), tags=TAGS
    )
    def post(self):
        """Accept a pending request that overlaps no accepted one (admin)."""
        data = load_body(BookingIdSchema())
        return booking_schema.dump(bookings.accept(current_user, data["id"]))


class RejectRequest(AdminResource):
    @documented(
        auth="admin", body=BookingDecisionSchema, response=BookingSchema, errors=(404, 409),
        tags=TAGS,
    )  # fmt: skip
    def post(self):
        """Reject a pending request, optionally saying why (admin)."""
        data = load_body(BookingDecisionSchema())
        return booking_schema.dump(bookings.reject(current_user, data["id"], data["reason"]))


class CancelRequest(AuthResource):
    @documented(
        auth="access", body=BookingDecisionSchema, response=BookingSchema,
        errors=(403, 404, 409), tags=TAGS,
    )  # fmt: skip
    def post(self):
        """Cancel a pending or accepted request (its owner or an admin)."""
        data = load_body(BookingDecisionSchema())
        return booking_schema.dump(bookings.cancel(current_user, data["id"], data["reason"]))


class DeleteRequest(AdminResource):
    @documented(auth="admin", response=DeletedBookingSchema, errors=(404,), tags=TAGS)
    def delete(self, booking_id: int):
        """Delete a request and its history (admin)."""
        bookings.delete(booking_id)
        return {"message": f"Booking request {booking_id} deleted.", "id": booking_id}
