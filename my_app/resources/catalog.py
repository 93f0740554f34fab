"""Bookable resources: rooms, speakers, vehicles."""

from flask import Response
from flask_jwt_extended import current_user

from my_app.resources.base import Resource, endpoint
from my_app.schemas.approver import ApproversSchema
from my_app.schemas.base import MessageSchema
from my_app.schemas.blackout import (
    BlackoutCreateSchema,
    BlackoutListSchema,
    BlackoutSchema,
    BlackoutsQuerySchema,
)
from my_app.schemas.booking import (
    AvailabilityQuerySchema,
    AvailabilitySchema,
    ResourceCreateSchema,
    ResourceListSchema,
    ResourceSchema,
    ResourceUpdateSchema,
)
from my_app.services import approvers, blackouts, calendar, catalog

TAGS = ("resources",)


class ResourceList(Resource):
    @endpoint("list_resources", auth="access", response=ResourceListSchema, tags=TAGS)
    def get(self):
        """Every bookable resource."""
        return {"resources": catalog.list_resources(current_user)}

    @endpoint(
        "create_resource",
        auth="admin",
        body=ResourceCreateSchema,
        response=ResourceSchema,
        status=201,
        errors=(409,),
        tags=TAGS,
    )
    def post(self, data):
        """Add a resource (admin)."""
        return catalog.create_resource(current_user, **data)


class ResourceItem(Resource):
    @endpoint("get_resource", auth="access", response=ResourceSchema, errors=(404,), tags=TAGS)
    def get(self, resource_id: int):
        """One resource with its booking rules, so clients can check a request first."""
        return catalog.resource_for(current_user, resource_id)

    @endpoint(
        "update_resource",
        auth="admin",
        body=ResourceUpdateSchema,
        response=ResourceSchema,
        errors=(404, 409),
        tags=TAGS,
    )
    def patch(self, changes, resource_id: int):
        """Rename, describe, retire or reactivate a resource, or change its rules (admin).

        `rules` are merged key by key: a rule given is set, `null` clears it, the others
        stay. New rules apply to requests and decisions from now on; nothing accepted moves.
        """
        return catalog.update_resource(current_user, resource_id, **changes)


class ResourceAvailability(Resource):
    @endpoint(
        "get_resource_availability",
        auth="access",
        query=AvailabilityQuerySchema,
        response=AvailabilitySchema,
        errors=(404,),
        tags=TAGS,
    )
    def get(self, window, resource_id: int):
        """When the resource is booked or closed between `from` and `to` (at most 366 days apart).

        `busy`: the accepted bookings' intervals widened by the resource's buffer, and
        `closed`: the times outside its opening hours; each merged and in order, half-open
        like the overlap rule. Times only, so any signed-in user may ask.
        """
        return calendar.availability(resource_id, window["from_"], window["to"])


class ResourceCalendar(Resource):
    @endpoint(
        "get_resource_calendar",
        auth="access",
        errors=(404,),
        tags=TAGS,
        media_types=(calendar.MIMETYPE,),
        feed_token=True,
    )
    def get(self, resource_id: int, feed_token: str | None = None):
        """The resource's accepted bookings as an iCalendar (RFC 5545) feed.

        Read it with a Bearer access token, or subscribe a calendar app to the secret link
        admins see as the resource's `calendar_url` (`?token=…`, no Bearer token needed).
        """
        viewer = current_user if feed_token is None else None
        body = calendar.feed(resource_id, viewer=viewer, token=feed_token)
        return Response(
            body,
            mimetype=calendar.MIMETYPE,
            headers={"Content-Disposition": f'inline; filename="resource-{resource_id}.ics"'},
        )


class ResourceCalendarToken(Resource):
    @endpoint(
        "rotate_calendar_token",
        auth="admin",
        response=ResourceSchema,
        errors=(404,),
        tags=TAGS,
    )
    def post(self, resource_id: int):
        """Give the resource's calendar feed a new secret link (admin); the old one dies."""
        return catalog.rotate_calendar_token(current_user, resource_id)


class ResourceApprovers(Resource):
    @endpoint(
        "set_resource_approvers",
        auth="admin",
        body=ApproversSchema,
        response=ResourceSchema,
        errors=(404,),
        tags=TAGS,
    )
    def put(self, data, resource_id: int):
        """Make exactly these users the resource's approvers (admin).

        An approver may see, accept, reject and cancel the resource's requests, and manage
        its blackouts, from their very next request on.
        """
        return approvers.set_approvers(current_user, resource_id, data["user_ids"])


class ResourceBlackouts(Resource):
    @endpoint(
        "list_blackouts",
        auth="access",
        query=BlackoutsQuerySchema,
        response=BlackoutListSchema,
        errors=(404,),
        tags=TAGS,
    )
    def get(self, window, resource_id: int):
        """The resource's blackouts meeting [`from`, `to`) (either may be left out), by start."""
        found = blackouts.list_blackouts(resource_id, window.get("from_"), window.get("to"))
        return {"blackouts": found}

    @endpoint(
        "create_blackout",
        auth="access",
        body=BlackoutCreateSchema,
        response=BlackoutSchema,
        status=201,
        errors=(403, 404, 409),
        tags=TAGS,
    )
    def post(self, data, resource_id: int):
        """Black out a time of the resource (admin or its approver).

        No request may then be submitted or accepted overlapping it. Accepted bookings in
        the way are a 409 naming them: cancel them first.
        """
        return blackouts.create(current_user, resource_id, **data)


class ResourceBlackoutItem(Resource):
    @endpoint(
        "delete_blackout", auth="access", response=MessageSchema, errors=(403, 404), tags=TAGS
    )
    def delete(self, resource_id: int, blackout_id: int):
        """Lift a blackout (admin or the resource's approver)."""
        blackouts.delete(current_user, resource_id, blackout_id)
        return {"message": f"Blackout {blackout_id} of resource {resource_id} deleted."}
