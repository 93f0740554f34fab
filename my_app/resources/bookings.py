"""Booking requests: submit, read, list, decide, cancel, delete."""

from collections.abc import Callable
from functools import wraps

from flask import request
from flask_jwt_extended import current_user

from my_app.models import BookingRequest
from my_app.resources.base import Reply, Resource
from my_app.resources.csv import csv_export
from my_app.resources.endpoint import (
    arguments,
    authenticated,
    body,
    declaration,
    operation,
    other_responses,
    response,
    stacked,
)
from my_app.resources.idempotency import idempotent
from my_app.schemas.booking import (
    BookingCreateSchema,
    BookingDecisionSchema,
    BookingIdSchema,
    BookingSchema,
    BookingsQuerySchema,
    DeletedBookingSchema,
    HistorySchema,
    MyBookingsQuerySchema,
)
from my_app.schemas.booking_list import BookingPageSchema, BookingRowSchema
from my_app.services import bookings, followups

TAGS = ("bookings",)
ETAG = {"ETag": "The request's version; send it back as `If-Match` to decide only on what you saw"}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": "An `ETag` from `GET /request/{booking_id}`: act only if the request is "
    "unchanged since (412 otherwise)",
    "schema": {"type": "string"},
}

# Where a booking's id goes next. Swagger UI shows these links; schemathesis
# follows them, so its accept/reject/cancel calls meet real, pending requests.
_BY_PATH = {"parameters": {"booking_id": "$response.body#/id"}}
_BY_BODY = {"requestBody": {"id": "$response.body#/id"}}
NEXT = {
    "Read": {"operationId": "get_request", **_BY_PATH},
    "History": {"operationId": "get_request_history", **_BY_PATH},
    "Accept": {"operationId": "accept_request", **_BY_BODY},
    "Reject": {"operationId": "reject_request", **_BY_BODY},
    "Cancel": {"operationId": "cancel_request", **_BY_BODY},
    "Delete": {"operationId": "delete_request", **_BY_PATH},
}
NEXT_AFTER_ACCEPT = {name: NEXT[name] for name in ("Cancel", "History")}


def _with_etag(booking: BookingRequest) -> Reply:
    return Reply(booking, headers={"ETag": bookings.etag(booking)})


def if_match(view: Callable) -> Callable:
    """The client's `If-Match` header as the `if_match` argument (None without one)."""
    declaration(view).request_headers.append(IF_MATCH)

    @wraps(view)
    def run(self, *args, **kwargs):
        return view(self, *args, if_match=request.headers.get("If-Match"), **kwargs)

    return run


def decision(operation_id: str, who: str, schema, *statuses: int, links=None) -> Callable:
    """A decision on a request named in the body, made under the client's `If-Match` and
    answered with the request's new `ETag`."""
    return stacked(
        operation(operation_id, tags=TAGS),
        authenticated(who),
        body(schema),
        if_match,
        response(BookingSchema, headers=ETAG, links=links),
        other_responses(404, 409, 412, *statuses),
    )


class SubmitRequest(Resource):
    @operation("submit_request", tags=TAGS)
    @authenticated()
    @idempotent
    @body(BookingCreateSchema)
    @response(BookingSchema, 201, links=NEXT)
    @other_responses(404, 409)
    def post(self, data):
        """Ask for a booking; the requester is the token's user."""
        return bookings.submit(current_user, **data)


class ListRequests(Resource):
    @operation("list_requests", tags=TAGS)
    @authenticated()
    @arguments(BookingsQuerySchema)
    @response(BookingPageSchema)
    @other_responses(403)
    @csv_export(BookingRowSchema, "bookings.csv")
    def get(self, filters):
        """Every booking request, filtered, by event time then id (admin or approver).

        An approver sees the requests of the resources they approve (a `resource_id` of
        another resource is 403).

        With `Accept: text/csv`: every matching request (all pages, from `cursor` on),
        streamed as CSV with a header row and nested fields flattened (`address.country`).
        """
        return bookings.list_all(current_user, **filters)


class MyRequests(Resource):
    @operation("list_my_requests", tags=TAGS)
    @authenticated()
    @arguments(MyBookingsQuerySchema)
    @response(BookingPageSchema)
    @csv_export(BookingRowSchema, "my_bookings.csv")
    def get(self, filters):
        """The caller's own booking requests, by event time then id.

        With `Accept: text/csv`: all of them (from `cursor` on), streamed as CSV.
        """
        return bookings.list_own(current_user, **filters)


class RequestItem(Resource):
    @operation("get_request", tags=TAGS)
    @authenticated()
    @response(BookingSchema, headers=ETAG)
    @other_responses(403, 404)
    def get(self, booking_id: int):
        """One booking request (its owner, an admin or its resource's approver), with its `ETag`."""
        return _with_etag(bookings.visible_booking(current_user, booking_id))


class RequestHistory(Resource):
    @operation("get_request_history", tags=TAGS)
    @authenticated()
    @response(HistorySchema)
    @other_responses(403, 404)
    def get(self, booking_id: int):
        """Every status change of a request, oldest first (its owner, an admin or an approver)."""
        return {"history": bookings.history(current_user, booking_id)}


class AcceptRequest(Resource):
    @decision("accept_request", "access", BookingIdSchema, 403, links=NEXT_AFTER_ACCEPT)
    def post(self, data, if_match: str | None):
        """Accept a pending request (admin or the resource's approver).

        It may overlap no accepted request and no blackout of its resource.
        """
        return _with_etag(bookings.accept(current_user, data["id"], if_match=if_match))


class RejectRequest(Resource):
    @decision("reject_request", "access", BookingDecisionSchema, 403)
    def post(self, data, if_match: str | None):
        """Reject a pending request, optionally saying why (admin or the resource's approver)."""
        booking = bookings.reject(current_user, data["id"], data["reason"], if_match=if_match)
        return _with_etag(booking)


class CancelRequest(Resource):
    @decision("cancel_request", "access", BookingDecisionSchema, 403)
    def post(self, data, if_match: str | None):
        """Cancel a pending or accepted request (its owner, an admin or the resource's approver)."""
        booking = bookings.cancel(current_user, data["id"], data["reason"], if_match=if_match)
        return _with_etag(booking)


class CheckinRequest(Resource):
    @operation("checkin_request", tags=TAGS)
    @authenticated()
    @body(BookingIdSchema)
    @response(BookingSchema, headers=ETAG)
    @other_responses(403, 404, 409)
    def post(self, data):
        """Check in to your accepted booking, from 15 minutes before its start.

        Until the resource's `checkin_minutes` after the start (the end, when it sets
        none); a booking nobody checked in to by then is released. Checking in again
        changes nothing.
        """
        return _with_etag(followups.check_in(current_user, data["id"]))


class DeleteRequest(Resource):
    @operation("delete_request", tags=TAGS)
    @authenticated("admin")
    @response(DeletedBookingSchema)
    @other_responses(404)
    def delete(self, booking_id: int):
        """Delete a request and its history (admin)."""
        bookings.delete(current_user, booking_id)
        return {"message": f"Booking request {booking_id} deleted.", "id": booking_id}
