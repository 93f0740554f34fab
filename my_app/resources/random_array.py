"""A toy endpoint that shows an authenticated call end to end."""

import random

from flask_jwt_extended import current_user

from my_app.apidoc import documented
from my_app.resources.base import AuthResource, load_body
from my_app.schemas.random_array import RandomArrayRequestSchema, RandomArraySchema

ARRAY_LENGTH = 500


class RandomArray(AuthResource):
    @documented(
        auth="access", body=RandomArrayRequestSchema, response=RandomArraySchema, tags=("misc",)
    )
    def post(self):
        """500 random floats in [0, 1), with a word count of the sentence sent."""
        sentence = load_body(RandomArrayRequestSchema())["sentence"]
        return RandomArraySchema().dump(
            {
                "user": current_user.username,
                "input_sentence": sentence,
                "word_count": len(sentence.split()),
                "random_array": [random.random() for _ in range(ARRAY_LENGTH)],
            }
        )
