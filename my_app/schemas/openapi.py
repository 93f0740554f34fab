"""The shape of the OpenAPI document itself, as far as a client relies on it."""

from marshmallow import fields

from my_app.extensions import ma


class OpenAPIDocumentSchema(ma.Schema):
    openapi = fields.String(required=True, metadata={"example": "3.0.3"})
    info = fields.Dict(required=True)
    paths = fields.Dict(required=True)
    components = fields.Dict(required=True)
