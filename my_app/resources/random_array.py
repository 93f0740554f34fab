"""A toy endpoint that shows an authenticated call end to end."""

from flask_jwt_extended import current_user

from my_app.resources.base import Resource, endpoint
from my_app.schemas.random_array import RandomArrayRequestSchema, RandomArraySchema
from my_app.services.random_array import random_array


class RandomArray(Resource):
    @endpoint(
        "generate_random_array",
        auth="access",
        body=RandomArrayRequestSchema,
        response=RandomArraySchema,
        tags=("misc",),
    )
    def post(self, data):
        """500 random floats in [0, 1), with a word count of the sentence sent."""
        return random_array(current_user, data["sentence"])
