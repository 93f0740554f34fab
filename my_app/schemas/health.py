"""Shapes of the health probes."""

from marshmallow import Schema, fields


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadinessSchema(Schema):
    status = fields.String(required=True)
    database = fields.String(required=True)
    migrations = fields.String(required=True)
    revision = fields.String(allow_none=True, required=True)
