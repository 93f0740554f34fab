"""Shapes of the health probes."""

from marshmallow import fields

from my_app.extensions import ma


class HealthSchema(ma.Schema):
    status = fields.String(required=True)


class ReadinessSchema(ma.Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    migrations = fields.String(required=True)
    revision = fields.String(allow_none=True, required=True)
