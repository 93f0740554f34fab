"""Safe retries: `Idempotency-Key` on POST /submit_request."""

import json
import threading
from datetime import timedelta

import sqlalchemy as sa

from my_app.extensions import db
from my_app.models import IdempotencyKey
from my_app.models.types import utcnow
from my_app.services import bookings, idempotency
from tests.support.api import booking_body
from tests.support.concurrency import at_once


def _submit(client, account, key, **overrides):
    headers = {**account.headers, "Idempotency-Key": key}
    return client.post("/submit_request", json=booking_body(**overrides), headers=headers)


def _my_count(api, account) -> int:
    response = api.client.get("/my_requests?limit=100", headers=account.headers)
    return len(response.json["bookings"])


def test_a_retry_with_the_same_key_gets_the_first_answer_and_books_nothing(api):
    requester = api.user()
    body = booking_body()
    first = _submit(api.client, requester, "order-42", **body)
    again = _submit(api.client, requester, "order-42", **body)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.mimetype == "application/json"
    assert _my_count(api, requester) == 1


def test_the_same_body_spelled_differently_is_the_same_request(api):
    requester = api.user()
    body = booking_body()
    first = _submit(api.client, requester, "k", **body)
    reordered = dict(reversed(list(body.items())))
    again = api.client.post(
        "/submit_request",
        data=json.dumps(reordered, indent=2),
        content_type="application/json",
        headers={**requester.headers, "Idempotency-Key": "k"},
    )
    assert again.status_code == 201
    assert again.json["id"] == first.json["id"]


def test_the_same_key_with_another_body_is_422_and_books_nothing(api):
    requester = api.user()
    assert _submit(api.client, requester, "k1", topic="First").status_code == 201
    reused = _submit(api.client, requester, "k1", topic="Second")
    assert reused.status_code == 422
    assert reused.mimetype == "application/problem+json"
    assert "Idempotency-Key" in reused.json["errors"]
    assert _my_count(api, requester) == 1


def test_keys_belong_to_their_user(api):
    alice, bob = api.user(), api.user()
    first = _submit(api.client, alice, "shared-key")
    other = _submit(api.client, bob, "shared-key")
    assert first.status_code == other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert other.json["id"] != first.json["id"]
    assert other.json["requested_by"]["id"] == bob.id


def test_a_key_must_be_1_to_255_printable_characters(api):
    requester = api.user()
    for key in ("", "x" * 256, "caf\u00e9"):
        response = _submit(api.client, requester, key)
        assert response.status_code == 422, key
        assert "Idempotency-Key" in response.json["errors"]
    assert _submit(api.client, requester, "~ ok: 1-255 printable! " + "x" * 232).status_code == 201
    assert _my_count(api, requester) == 1


def test_a_refusal_is_remembered_too(api):
    requester = api.user()
    first = _submit(api.client, requester, "r1", resource_id=999)
    again = _submit(api.client, requester, "r1", resource_id=999)
    assert first.status_code == again.status_code == 404
    assert again.json == first.json
    assert again.mimetype == "application/problem+json"
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_while_the_first_is_in_flight_is_409(app, api, monkeypatch):
    requester = api.user()
    entered, release = threading.Event(), threading.Event()
    real_submit = bookings.submit

    def slow_submit(*args, **kwargs):
        entered.set()
        assert release.wait(30)
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(bookings, "submit", slow_submit)
    body = booking_body()
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault(
            "first", _submit(app.test_client(), requester, "k", **body)
        )
    )
    first.start()
    try:
        assert entered.wait(30)
        busy = _submit(api.client, requester, "k", **body)
    finally:
        release.set()
        first.join()
    assert busy.status_code == 409
    assert busy.mimetype == "application/problem+json"
    assert results["first"].status_code == 201
    replay = _submit(api.client, requester, "k", **body)
    assert replay.status_code == 201 and replay.json == results["first"].json
    assert _my_count(api, requester) == 1


def test_ten_identical_submits_at_once_book_exactly_once(app, api):
    requester = api.user()
    body = booking_body()

    def submit(client):
        return _submit(client, requester, "burst-1", **body)

    responses = at_once(app, [submit] * 10)
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, [r.json for r in responses]
    created = [r.json for r in responses if r.status_code == 201]
    assert created and all(c == created[0] for c in created)
    assert _my_count(api, requester) == 1


def test_an_expired_key_is_free_again_and_pruned(app, api):
    requester = api.user()
    first = _submit(api.client, requester, "old")
    with app.app_context():
        db.session.execute(
            sa.update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    again = _submit(api.client, requester, "old")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json["id"] != first.json["id"]
    assert _submit(api.client, requester, "other").status_code == 201
    with app.app_context():
        db.session.execute(
            sa.update(IdempotencyKey)
            .where(IdempotencyKey.key == "other")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    result = api.runner.invoke(args=["prune-blacklist"])
    assert result.exit_code == 0, result.output
    assert "Pruned 1 expired idempotency keys." in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["old"]


def test_keys_are_remembered_for_idempotency_hours(app, api):
    requester = api.user()
    _submit(api.client, requester, "ttl")
    with app.app_context():
        row = db.session.scalars(sa.select(IdempotencyKey)).one()
        hours = (row.expires_at - row.created_at) / timedelta(hours=1)
    assert hours == app.config["IDEMPOTENCY_HOURS"] == 24


def test_a_claim_whose_worker_died_is_taken_over_after_a_while(app, api, monkeypatch):
    requester = api.user()
    body = booking_body()

    def dies(*args, **kwargs):
        raise RuntimeError("the worker is killed here")

    with monkeypatch.context() as patch:
        patch.setattr(bookings, "submit", dies)
        patch.setattr(idempotency, "release", lambda claimed: None)  # nobody cleans up
        assert _submit(api.client, requester, "k", **body).status_code == 500
    assert _submit(api.client, requester, "k", **body).status_code == 409  # maybe still running
    with app.app_context():
        db.session.execute(
            sa.update(IdempotencyKey).values(
                created_at=utcnow() - idempotency.ABANDONED_AFTER - timedelta(seconds=1)
            )
        )
        db.session.commit()
    taken_over = _submit(api.client, requester, "k", **body)
    assert taken_over.status_code == 201
    replay = _submit(api.client, requester, "k", **body)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == taken_over.json
    assert _my_count(api, requester) == 1


def test_a_failure_frees_the_key_for_the_retry(api, monkeypatch):
    requester = api.user()
    body = booking_body()
    with monkeypatch.context() as patch:
        patch.setattr(bookings, "submit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError()))
        assert _submit(api.client, requester, "k", **body).status_code == 500
    retry = _submit(api.client, requester, "k", **body)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    assert _my_count(api, requester) == 1


def test_a_body_nested_too_deep_is_400_with_a_key_too_and_its_retry_gets_the_same(api):
    requester = api.user()
    headers = {**requester.headers, "Idempotency-Key": "deep", "Content-Type": "application/json"}
    deep = "[" * 5000 + "]" * 5000
    first = api.client.post("/submit_request", data=deep, headers=headers)
    again = api.client.post("/submit_request", data=deep, headers=headers)
    assert first.status_code == again.status_code == 400
    assert first.mimetype == "application/problem+json"
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert _my_count(api, requester) == 0
