"""POST /generate_random_array."""

import pytest


def test_random_array_returns_500_floats_and_the_word_count(api):
    account = api.user("alice")
    response = api.client.post(
        "/generate_random_array",
        json={"sentence": "  the quick  brown fox  "},
        headers=account.headers,
    )
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"user", "input_sentence", "word_count", "random_array"}
    assert body["user"] == "alice"
    assert body["input_sentence"] == "the quick  brown fox"
    assert body["word_count"] == 4
    assert len(body["random_array"]) == 500
    assert all(isinstance(x, float) and 0 <= x < 1 for x in body["random_array"])
    assert len(set(body["random_array"])) > 400


def test_random_array_needs_a_token(api):
    assert api.client.post("/generate_random_array", json={"sentence": "hi"}).status_code == 401


@pytest.mark.parametrize(
    "body", [{}, {"sentence": ""}, {"sentence": "   "}, {"sentence": 5}, {"sentence": "hi", "n": 3}]
)
def test_random_array_missing_or_empty_sentence_is_422(api, body):
    account = api.user()
    response = api.client.post("/generate_random_array", json=body, headers=account.headers)
    assert response.status_code == 422
    assert "sentence" in response.json["errors"] or "n" in response.json["errors"]
