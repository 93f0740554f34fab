"""Bookable resources: rooms, speakers, vehicles."""

from flask_jwt_extended import current_user

from my_app.apidoc import documented
from my_app.auth import ensure_admin
from my_app.resources.base import AdminResource, AuthResource, load_body
from my_app.schemas.booking import (
    ResourceCreateSchema,
    ResourceListSchema,
    ResourceSchema,
    ResourceUpdateSchema,
)
from my_app.services import catalog

resource_schema = ResourceSchema()
TAGS = ("resources",)


class ResourceList(AuthResource):
    @documented(auth="access", response=ResourceListSchema, tags=TAGS)
    def get(self):
        """Every bookable resource."""
        return {"resources": resource_schema.dump(catalog.list_resources(), many=True)}

    @documented(
        auth="admin", body=ResourceCreateSchema, response=ResourceSchema, status=201,
        errors=(409,), tags=TAGS,
    )  # fmt: skip
    def post(self):
        """Add a resource (admin)."""
        ensure_admin(current_user)
        data = load_body(ResourceCreateSchema())
        return resource_schema.dump(catalog.create_resource(**data)), 201


class ResourceItem(AdminResource):
    @documented(
        auth="admin", body=ResourceUpdateSchema, response=ResourceSchema, errors=(404, 409),
        tags=TAGS,
    )  # fmt: skip
    def patch(self, resource_id: int):
        """Rename, describe, retire or reactivate a resource (admin)."""
        data = load_body(ResourceUpdateSchema())
        return resource_schema.dump(catalog.update_resource(resource_id, **data))
