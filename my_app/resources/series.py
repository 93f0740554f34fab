"""Series of booking requests: submit (or try), read, and decide all occurrences at once."""

from flask_jwt_extended import current_user

from my_app.resources.base import Reply, Resource
from my_app.resources.endpoint import (
    alt_response,
    arguments,
    authenticated,
    body,
    operation,
    other_responses,
    response,
    stacked,
)
from my_app.schemas.series import (
    DryRunSchema,
    SeriesAcceptSchema,
    SeriesCreateSchema,
    SeriesDecisionSchema,
    SeriesSchema,
)
from my_app.services import series

TAGS = ("series",)
_BY_BODY = {"requestBody": {"id": "$response.body#/id"}}
NEXT = {
    "Read": {"operationId": "get_series", "parameters": {"series_id": "$response.body#/id"}},
    "Accept": {"operationId": "accept_series", **_BY_BODY},
    "Reject": {"operationId": "reject_series", **_BY_BODY},
    "Cancel": {"operationId": "cancel_series", **_BY_BODY},
}


def decision(operation_id: str, schema, *statuses: int):
    return stacked(
        operation(operation_id, tags=TAGS),
        authenticated(),
        body(schema),
        response(SeriesSchema),
        other_responses(403, 404, *statuses),
    )


class SubmitSeries(Resource):
    @operation("submit_series", tags=TAGS)
    @authenticated()
    @arguments(DryRunSchema)
    @body(SeriesCreateSchema)
    @response(SeriesSchema, 201, links=NEXT)
    @alt_response(200, SeriesSchema)
    @other_responses(404, 409)
    def post(self, data, query):
        """Ask for a recurring booking: one request per occurrence of `recurrence.rrule`.

        Each occurrence is checked like a one-off request. With `on_conflict: "fail"` one
        refused occurrence is a 409 (422 if only rules are broken) listing each under
        `occurrences`, and nothing is stored; with `"skip"` those are left out and listed
        under `skipped`. `?dry_run=true` answers 200 with what would be stored, storing nothing.
        """
        if query["dry_run"]:
            return Reply(series.submit(current_user, dry_run=True, **data), status=200)
        return series.submit(current_user, **data)


class SeriesItem(Resource):
    @operation("get_series", tags=TAGS)
    @authenticated()
    @response(SeriesSchema)
    @other_responses(403, 404)
    def get(self, series_id: int):
        """A series with its occurrences (its requester, an approver of its resource, an admin)."""
        return series.get_series(current_user, series_id)


class AcceptSeries(Resource):
    @decision("accept_series", SeriesAcceptSchema, 409)
    def post(self, data):
        """Accept every pending occurrence (from `from` on) at once (admin or approver).

        With `on_conflict: "fail"` one conflicting occurrence is a 409 listing each, and
        nothing changes; with `"skip"` the conflicting ones are rejected (reason `conflict`).
        """
        return series.accept(current_user, data["id"], data["from_"], data["on_conflict"])


class RejectSeries(Resource):
    @decision("reject_series", SeriesDecisionSchema)
    def post(self, data):
        """Reject every pending occurrence (from `from` on) (admin or approver)."""
        return series.reject(current_user, data["id"], data["from_"], data["reason"])


class CancelSeries(Resource):
    @decision("cancel_series", SeriesDecisionSchema)
    def post(self, data):
        """Cancel every pending or accepted occurrence (from `from` on) (its requester, an
        admin or an approver)."""
        return series.cancel(current_user, data["id"], data["from_"], data["reason"])
