"""HS256 checks each signing key once per process (my_app/auth.py), with PyJWT's verdicts."""

import jwt
import pytest
from jwt.exceptions import InvalidKeyError

from my_app.auth import HS256, CheckedKeyHS256

KEY = "k" * 48
PEM = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"


def test_pyjwt_signs_and_verifies_hs256_with_it():
    assert jwt.api_jws._jws_global_obj._algorithms["HS256"] is HS256
    token = jwt.encode({"sub": "1"}, KEY, algorithm="HS256")
    assert jwt.decode(token, KEY, algorithms=["HS256"]) == {"sub": "1"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY + "x", algorithms=["HS256"])


def counted(monkeypatch, method: str) -> list:
    """The keys PyJWT's own HMACAlgorithm.`method` is called with, from now on."""
    calls = []
    original = getattr(jwt.algorithms.HMACAlgorithm, method)
    monkeypatch.setattr(
        jwt.algorithms.HMACAlgorithm,
        method,
        lambda self, key: calls.append(key) or original(self, key),
    )
    return calls


def test_a_key_is_checked_once_then_remembered(monkeypatch):
    algorithm = CheckedKeyHS256()
    checks = counted(monkeypatch, "prepare_key")
    assert algorithm.prepare_key(KEY) == KEY.encode()
    assert algorithm.prepare_key(KEY) == KEY.encode()
    assert checks == [KEY]


def test_a_refused_key_is_refused_every_time():
    algorithm = CheckedKeyHS256()
    for _ in range(2):
        with pytest.raises(InvalidKeyError):
            algorithm.prepare_key(PEM)
    assert algorithm._checked == {}


def test_it_remembers_a_bounded_number_of_keys():
    algorithm = CheckedKeyHS256()
    for n in range(CheckedKeyHS256.KEYS_REMEMBERED + 5):
        assert (
            algorithm.prepare_key(f"key number {n:02d} " * 3) == f"key number {n:02d} ".encode() * 3
        )
    assert len(algorithm._checked) == CheckedKeyHS256.KEYS_REMEMBERED


def test_a_long_enough_key_is_remembered_and_a_short_one_warned_of_every_time(monkeypatch):
    algorithm = CheckedKeyHS256()
    checks = counted(monkeypatch, "check_key_length")
    for _ in range(2):
        assert algorithm.check_key_length(KEY.encode()) is None
        assert "below the minimum" in algorithm.check_key_length(b"short")
    assert checks == [KEY.encode(), b"short", b"short"]
