"""A toy endpoint that shows an authenticated call end to end."""

from flask_jwt_extended import current_user

from my_app.resources.base import Resource
from my_app.resources.endpoint import authenticated, body, operation, response
from my_app.schemas.random_array import RandomArrayRequestSchema, RandomArraySchema
from my_app.services.random_array import random_array


class RandomArray(Resource):
    @operation("generate_random_array", tags=("misc",))
    @authenticated()
    @body(RandomArrayRequestSchema)
    @response(RandomArraySchema)
    def post(self, data):
        """500 random floats in [0, 1), with a word count of the sentence sent."""
        return random_array(current_user, data["sentence"])
