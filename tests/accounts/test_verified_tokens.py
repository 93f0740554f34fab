"""Access tokens a worker verified are remembered until they expire (auth.VerifiedTokens):
the same token is verified once, yet an expired, revoked or altered one is still refused."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
from flask import Flask
from freezegun import freeze_time

from my_app import auth
from my_app.auth import VerifiedTokens
from tests.support.api import bearer


def _verifications(monkeypatch) -> list[str]:
    """The tokens flask-jwt-extended verified with the key, one entry per verification."""
    verified: list[str] = []
    decode = auth._decode

    def counted(token, *args):
        verified.append(token)
        return decode(token, *args)

    monkeypatch.setattr(auth, "_decode", counted)
    return verified


def test_a_token_is_verified_once_and_answers_the_same(api, monkeypatch):
    account = api.user()
    verified = _verifications(monkeypatch)
    answers = [api.client.get("/me", headers=account.headers) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200] * 3
    assert answers[0].json == answers[1].json == answers[2].json
    assert verified == [account.tokens["access_token"]]


def test_a_remembered_token_is_refused_once_it_expires(api):
    account = api.user()
    assert api.client.get("/me", headers=account.headers).status_code == 200
    expires = pyjwt.decode(account.tokens["access_token"], options={"verify_signature": False})
    after = datetime.fromtimestamp(expires["exp"], UTC) + timedelta(seconds=1)
    with freeze_time(after, tick=True):
        refused = api.client.get("/me", headers=account.headers)
    assert refused.status_code == 401
    assert refused.json["detail"] == "The token has expired."


def test_a_remembered_token_is_still_refused_after_logout(api):
    account = api.user()
    assert api.client.get("/me", headers=account.headers).status_code == 200
    assert api.client.post("/logout", headers=account.headers).status_code == 200
    refused = api.client.get("/me", headers=account.headers)
    assert refused.status_code == 401
    assert refused.json["detail"] == "The token has been revoked."


def test_an_altered_copy_of_a_remembered_token_is_refused(api):
    account = api.user()
    token = account.tokens["access_token"]
    assert api.client.get("/me", headers=account.headers).status_code == 200
    header, payload, signature = token.split(".")
    altered = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    refused = api.client.get("/me", headers=bearer(f"{header}.{payload}.{altered}"))
    assert refused.status_code == 401


def test_each_app_remembers_its_own_tokens(make_app, api):
    """A token another app (another key) verified is verified again, and refused."""
    account = api.user()
    assert api.client.get("/me", headers=account.headers).status_code == 200
    other = make_app(JWT_SECRET_KEY="another-key-" + "x" * 40)
    refused = other.test_client().get("/me", headers=account.headers)
    assert refused.status_code == 401


def test_only_the_latest_tokens_are_remembered():
    verified = VerifiedTokens()
    later = datetime.now(UTC).timestamp() + 600
    with Flask(__name__).app_context() as context:
        context.app.config["JWT_DECODE_LEEWAY"] = 0
        for n in range(VerifiedTokens.SIZE + 1):
            verified.remember(f"token-{n}", {"exp": later, "n": n})
    assert verified.claims("token-0") is None  # the oldest went first
    assert verified.claims(f"token-{VerifiedTokens.SIZE}") == {
        "exp": later,
        "n": VerifiedTokens.SIZE,
    }
    claims = verified.claims("token-1")
    claims["n"] = "changed"  # a copy: what is remembered stays as verified
    assert verified.claims("token-1")["n"] == 1


def test_threads_remembering_and_forgetting_at_once_lose_nothing():
    """A worker's threads remember, read and evict at the same time (more tokens than are
    remembered, some already expired): no error, and every answer is a token's own claims."""
    verified = VerifiedTokens()
    now = datetime.now(UTC).timestamp()
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)
    app = Flask(__name__)
    app.config["JWT_DECODE_LEEWAY"] = 0

    def work(thread: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                for n in range(2_000):
                    token = f"token-{thread}-{n % 300}"
                    claims = verified.claims(token)
                    if claims is None:
                        expires = now + (600 if n % 7 else -1)  # some expired already
                        verified.remember(token, {"exp": expires, "token": token})
                    else:
                        assert claims["token"] == token
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns between almost every two steps
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert len(verified._claims) <= VerifiedTokens.SIZE
