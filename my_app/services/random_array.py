"""The toy computation behind `POST /generate_random_array`."""

from __future__ import annotations

import random
from typing import Any

from my_app.models import User

ARRAY_LENGTH = 500


def random_array(user: User, sentence: str) -> dict[str, Any]:
    return {
        "user": user.username,
        "input_sentence": sentence,
        "word_count": len(sentence.split()),
        # Sample numbers for a demo endpoint, never a secret.
        "random_array": [random.random() for _ in range(ARRAY_LENGTH)],  # nosec B311  # demo data
    }
