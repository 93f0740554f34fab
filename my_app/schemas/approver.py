"""Shapes of a resource's approvers."""

from marshmallow import fields, validate

from my_app.schemas.base import BodySchema, Id


class ApproversSchema(BodySchema):
    user_ids = fields.List(
        Id(),
        required=True,
        validate=validate.Length(max=100),
        metadata={"description": "Every approver of the resource: the whole list, replaced"},
    )
