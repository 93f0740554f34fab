"""Bookable resources: rooms, speakers, vehicles."""

from collections.abc import Callable
from functools import wraps

from flask import request
from flask_jwt_extended import current_user

from my_app.resources.base import Reply, Resource
from my_app.resources.csv import CSV_MIMETYPE, csv_sheet
from my_app.resources.endpoint import (
    arguments,
    authenticated,
    body,
    declaration,
    operation,
    other_responses,
    response,
    text_body,
)
from my_app.schemas.approver import ApproversSchema
from my_app.schemas.base import MessageSchema
from my_app.schemas.blackout import (
    BlackoutCreateSchema,
    BlackoutListSchema,
    BlackoutSchema,
    BlackoutsQuerySchema,
)
from my_app.schemas.booking import (
    FEED_TOKEN,
    AvailabilityQuerySchema,
    AvailabilitySchema,
    ImportReportSchema,
    ResourceCreateSchema,
    ResourceListSchema,
    ResourceSchema,
    ResourceUpdateSchema,
)
from my_app.services import approvers, blackouts, calendar, catalog, resource_sheet

TAGS = ("resources",)


def bearer_or_feed_link(view: Callable) -> Callable:
    """An access token, or the resource's secret feed link (`?token=`, its `calendar_url`),
    which calendar apps follow without one: the method gets it as `feed_token`."""
    bearer = authenticated()(view)
    declaration(view).security.append({"calendarToken": []})

    @wraps(bearer)
    def run(self, *args, **kwargs):
        token = request.args.get(FEED_TOKEN)
        if token is None:
            return bearer(self, *args, **kwargs)
        return view(self, *args, feed_token=token, **kwargs)

    return run


class ResourceList(Resource):
    @operation("list_resources", tags=TAGS)
    @authenticated()
    @response(ResourceListSchema)
    @csv_sheet(resource_sheet.export_sheet, "resources.csv")
    def get(self):
        """Every bookable resource; admins may ask for `text/csv`, the sheet of the import.

        The sheet has the columns of `POST /resources/import`, one resource a line, so it
        can be edited and imported back; a round trip changes nothing.
        """
        return {"resources": catalog.list_resources(current_user)}

    @operation("create_resource", tags=TAGS)
    @authenticated("admin")
    @body(ResourceCreateSchema)
    @response(ResourceSchema, 201)
    @other_responses(409)
    def post(self, data):
        """Add a resource (admin)."""
        return catalog.create_resource(current_user, **data)


SHEET = """A header line naming the columns (`name`, then any of `description`, `active`,
`time_zone`, `approval`, `min_notice_minutes`, `max_advance_days`, `min_duration_minutes`,
`max_duration_minutes`, `buffer_minutes`, `opening_hours`, `quota`), then one resource a line.
An empty cell is the column's default: no rule, no description, `true`, `UTC`, `required`.
`opening_hours`: `mon=08:00-12:00 13:00-18:00;tue=08:00-18:00` (a day left out is closed);
`quota`: hours per period, `10/week` or `1.5/day`. A leading `'` (a spreadsheet's text mark,
as the export writes before `=`, `+`, `-`, `@`) is not part of the value."""


class ResourceImport(Resource):
    @operation("import_resources", tags=TAGS)
    @authenticated("admin")
    @text_body(CSV_MIMETYPE, SHEET)
    @response(ImportReportSchema)
    @other_responses(409)
    def post(self, sheet: str):
        """Create and update resources from a CSV sheet, all or none (admin).

        Rows are matched to resources by `name`, ignoring case. If any line is wrong nothing
        is stored: `created` and `updated` are 0 and `errors` names each line (its first
        physical line, the header being line 1) with PATCH's messages by column (`_line`:
        the line as a whole); at most 100 lines are named. A row that changes nothing is
        counted in neither.
        """
        return resource_sheet.import_sheet(current_user, sheet)


class ResourceItem(Resource):
    @operation("get_resource", tags=TAGS)
    @authenticated()
    @response(ResourceSchema)
    @other_responses(404)
    def get(self, resource_id: int):
        """One resource with its booking rules, so clients can check a request first."""
        return catalog.resource_for(current_user, resource_id)

    @operation("update_resource", tags=TAGS)
    @authenticated("admin")
    @body(ResourceUpdateSchema)
    @response(ResourceSchema)
    @other_responses(404, 409)
    def patch(self, changes, resource_id: int):
        """Rename, describe, retire or reactivate a resource, or change its rules (admin).

        `rules` are merged key by key: a rule given is set, `null` clears it, the others
        stay. New rules apply to requests and decisions from now on; nothing accepted moves.
        """
        return catalog.update_resource(current_user, resource_id, **changes)


class ResourceAvailability(Resource):
    @operation("get_resource_availability", tags=TAGS)
    @authenticated()
    @arguments(AvailabilityQuerySchema)
    @response(AvailabilitySchema)
    @other_responses(404)
    def get(self, window, resource_id: int):
        """When the resource is booked or closed between `from` and `to` (at most 366 days apart).

        `busy`: the accepted bookings' intervals widened by the resource's buffer, and
        `closed`: the times outside its opening hours; each merged and in order, half-open
        like the overlap rule. Times only, so any signed-in user may ask.
        """
        return calendar.availability(resource_id, window["from_"], window["to"])


class ResourceCalendar(Resource):
    @operation("get_resource_calendar", tags=TAGS)
    @bearer_or_feed_link
    @response(media_type=calendar.MIMETYPE)
    @other_responses(404)
    def get(self, resource_id: int, feed_token: str | None = None):
        """The resource's accepted bookings as an iCalendar (RFC 5545) feed.

        Read it with a Bearer access token, or subscribe a calendar app to the secret link
        admins see as the resource's `calendar_url` (`?token=…`, no Bearer token needed).
        """
        viewer = current_user if feed_token is None else None
        disposition = f'inline; filename="resource-{resource_id}.ics"'
        body = calendar.feed(resource_id, viewer=viewer, token=feed_token)
        return Reply(body, headers={"Content-Disposition": disposition})


class ResourceCalendarToken(Resource):
    @operation("rotate_calendar_token", tags=TAGS)
    @authenticated("admin")
    @response(ResourceSchema)
    @other_responses(404)
    def post(self, resource_id: int):
        """Give the resource's calendar feed a new secret link (admin); the old one dies."""
        return catalog.rotate_calendar_token(current_user, resource_id)


class ResourceApprovers(Resource):
    @operation("set_resource_approvers", tags=TAGS)
    @authenticated("admin")
    @body(ApproversSchema)
    @response(ResourceSchema)
    @other_responses(404)
    def put(self, data, resource_id: int):
        """Make exactly these users the resource's approvers (admin).

        An approver may see, accept, reject and cancel the resource's requests, and manage
        its blackouts, from their very next request on.
        """
        return approvers.set_approvers(current_user, resource_id, data["user_ids"])


class ResourceBlackouts(Resource):
    @operation("list_blackouts", tags=TAGS)
    @authenticated()
    @arguments(BlackoutsQuerySchema)
    @response(BlackoutListSchema)
    @other_responses(404)
    def get(self, window, resource_id: int):
        """The resource's blackouts meeting [`from`, `to`) (either may be left out), by start."""
        found = blackouts.list_blackouts(resource_id, window.get("from_"), window.get("to"))
        return {"blackouts": found}

    @operation("create_blackout", tags=TAGS)
    @authenticated()
    @body(BlackoutCreateSchema)
    @response(BlackoutSchema, 201)
    @other_responses(403, 404, 409)
    def post(self, data, resource_id: int):
        """Black out a time of the resource (admin or its approver).

        No request may then be submitted or accepted overlapping it. Accepted bookings in
        the way are a 409 naming them: cancel them first.
        """
        return blackouts.create(current_user, resource_id, **data)


class ResourceBlackoutItem(Resource):
    @operation("delete_blackout", tags=TAGS)
    @authenticated()
    @response(MessageSchema)
    @other_responses(403, 404)
    def delete(self, resource_id: int, blackout_id: int):
        """Lift a blackout (admin or the resource's approver)."""
        blackouts.delete(current_user, resource_id, blackout_id)
        return {"message": f"Blackout {blackout_id} of resource {resource_id} deleted."}
