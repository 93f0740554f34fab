"""Booking requests: submit, read, list, decide, cancel, delete."""

from functools import partial

from flask import request
from flask_jwt_extended import current_user

from my_app.models import BookingRequest
from my_app.resources.base import Reply, Resource, endpoint
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
from my_app.services import bookings, export

TAGS = ("bookings",)
ETAG = {"ETag": "The request's version; send it back as `If-Match` to decide only on what you saw"}
IF_MATCH = {
    "If-Match": "An `ETag` from `GET /request/{booking_id}`: act only if the request is "
    "unchanged since (412 otherwise)"
}
IDEMPOTENCY = {
    "Idempotency-Key": "1-255 printable characters, unique per intended submission: a retry "
    "with the same key and body gets the first answer again and books nothing"
}
REPLAYED = {"Idempotent-Replayed": "`true` when this is the stored answer to an earlier request"}


def _with_etag(booking: BookingRequest) -> Reply:
    return Reply(booking, headers={"ETag": bookings.etag(booking)})


def _decide(move, booking_id: int, *args) -> Reply:
    """A decision made under the client's `If-Match`, answered with the request's new ETag."""
    if_match = request.headers.get("If-Match")
    return _with_etag(move(current_user, booking_id, *args, if_match=if_match))


def _page_or_csv(list_bookings, filters: dict, filename: str):
    """One page as JSON, or with `Accept: text/csv` every matching request, streamed."""
    if export.wants_csv():
        return export.bookings_csv(list_bookings, filters, filename)
    return list_bookings(**filters)


class SubmitRequest(Resource):
    @endpoint(
        "submit_request",
        auth="access",
        body=BookingCreateSchema,
        response=BookingSchema,
        status=201,
        errors=(404, 409),
        tags=TAGS,
        idempotent=True,
        request_headers=IDEMPOTENCY,
        response_headers=REPLAYED,
    )
    def post(self, data):
        """Ask for a booking; the requester is the token's user."""
        return bookings.submit(current_user, **data)


class ListRequests(Resource):
    @endpoint(
        "list_requests",
        auth="access",
        query=BookingsQuerySchema,
        response=BookingListSchema,
        errors=(403,),
        tags=TAGS,
        media_types=(export.CSV_MIMETYPE,),
    )
    def get(self, filters):
        """Every booking request, filtered, by event time then id (admin or approver).

        An approver sees the requests of the resources they approve (a `resource_id` of
        another resource is 403).

        With `Accept: text/csv`: every matching request (all pages, from `cursor` on),
        streamed as CSV with a header row and nested fields flattened (`address.country`).
        """
        return _page_or_csv(partial(bookings.list_all, current_user), filters, "bookings.csv")


class MyRequests(Resource):
    @endpoint(
        "list_my_requests",
        auth="access",
        query=MyBookingsQuerySchema,
        response=BookingListSchema,
        tags=TAGS,
        media_types=(export.CSV_MIMETYPE,),
    )
    def get(self, filters):
        """The caller's own booking requests, by event time then id.

        With `Accept: text/csv`: all of them (from `cursor` on), streamed as CSV.
        """
        return _page_or_csv(partial(bookings.list_own, current_user), filters, "my_bookings.csv")


class RequestItem(Resource):
    @endpoint(
        "get_request",
        auth="access",
        response=BookingSchema,
        errors=(403, 404),
        tags=TAGS,
        response_headers=ETAG,
    )
    def get(self, booking_id: int):
        """One booking request (its owner, an admin or its resource's approver), with its `ETag`."""
        return _with_etag(bookings.visible_booking(current_user, booking_id))


class RequestHistory(Resource):
    @endpoint(
        "get_request_history", auth="access", response=HistorySchema, errors=(403, 404), tags=TAGS
    )
    def get(self, booking_id: int):
        """Every status change of a request, oldest first (its owner, an admin or an approver)."""
        return {"history": bookings.history(current_user, booking_id)}


class AcceptRequest(Resource):
    @endpoint(
        "accept_request",
        auth="access",
        body=BookingIdSchema,
        response=BookingSchema,
        errors=(403, 404, 409, 412),
        tags=TAGS,
        request_headers=IF_MATCH,
        response_headers=ETAG,
    )
    def post(self, data):
        """Accept a pending request (admin or the resource's approver).

        It may overlap no accepted request and no blackout of its resource.
        """
        return _decide(bookings.accept, data["id"])


class RejectRequest(Resource):
    @endpoint(
        "reject_request",
        auth="access",
        body=BookingDecisionSchema,
        response=BookingSchema,
        errors=(403, 404, 409, 412),
        tags=TAGS,
        request_headers=IF_MATCH,
        response_headers=ETAG,
    )
    def post(self, data):
        """Reject a pending request, optionally saying why (admin or the resource's approver)."""
        return _decide(bookings.reject, data["id"], data["reason"])


class CancelRequest(Resource):
    @endpoint(
        "cancel_request",
        auth="access",
        body=BookingDecisionSchema,
        response=BookingSchema,
        errors=(403, 404, 409, 412),
        tags=TAGS,
        request_headers=IF_MATCH,
        response_headers=ETAG,
    )
    def post(self, data):
        """Cancel a pending or accepted request (its owner, an admin or the resource's approver)."""
        return _decide(bookings.cancel, data["id"], data["reason"])


class DeleteRequest(Resource):
    @endpoint(
        "delete_request", auth="admin", response=DeletedBookingSchema, errors=(404,), tags=TAGS
    )
    def delete(self, booking_id: int):
        """Delete a request and its history (admin)."""
        bookings.delete(current_user, booking_id)
        return {"message": f"Booking request {booking_id} deleted.", "id": booking_id}
