"""Bookable resources: rooms, speakers, vehicles."""

from flask import Response
from flask_jwt_extended import current_user

from my_app.resources.base import Resource, endpoint
from my_app.schemas.booking import (
    AvailabilityQuerySchema,
    AvailabilitySchema,
    ResourceCreateSchema,
    ResourceListSchema,
    ResourceSchema,
    ResourceUpdateSchema,
)
from my_app.services import calendar, catalog

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
