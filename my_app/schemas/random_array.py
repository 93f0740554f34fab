"""Shapes of the random-array toy endpoint."""

from marshmallow import fields, validate

from my_app.extensions import ma
from my_app.schemas.base import BodySchema, Floats, NonBlank


class RandomArrayRequestSchema(BodySchema):
    sentence = NonBlank(required=True, validate=validate.Length(max=10_000), multiline=True)


class RandomArraySchema(ma.Schema):
    user = fields.String()
    input_sentence = fields.String()
    word_count = fields.Integer()
    random_array = Floats()
