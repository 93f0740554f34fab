"""Bookable resources: rooms, speakers, vehicles."""

from flask_jwt_extended import current_user

from my_app.resources.base import Resource, endpoint
from my_app.schemas.booking import (
    ResourceCreateSchema,
    ResourceListSchema,
    ResourceSchema,
    ResourceUpdateSchema,
)
from my_app.services import catalog

TAGS = ("resources",)


class ResourceList(Resource):
    @endpoint("list_resources", auth="access", response=ResourceListSchema, tags=TAGS)
    def get(self):
        """Every bookable resource."""
        return {"resources": catalog.list_resources()}

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
    @endpoint(
        "update_resource",
        auth="admin",
        body=ResourceUpdateSchema,
        response=ResourceSchema,
        errors=(404, 409),
        tags=TAGS,
    )
    def patch(self, changes, resource_id: int):
        """Rename, describe, retire or reactivate a resource (admin)."""
        return catalog.update_resource(current_user, resource_id, **changes)
