"""SHA-256 and HMAC-SHA256 for the app, computed by CPython's own SHA-256, not OpenSSL's.

The digests are the same. The difference is memory: the first digest a process asks
OpenSSL 3 for runs about 0.7 MB of its code (fetching the algorithm from its provider),
and those pages then count in the resident memory of every uWSGI worker that ran it
(make bench: about 0.9 MB per worker, from a login's JWT and password pre-hash). CPython's
SHA-256 is a few kB. The inputs here are short (keys, tokens, passwords, request bodies),
so its speed makes no difference. No module of my_app imports hashlib but this one
(tests/test_architecture.py).
"""

from __future__ import annotations

import hmac

try:
    from _sha2 import sha256  # CPython 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:  # a Python built without its own SHA-256
        from hashlib import sha256

__all__ = ["hmac_sha256", "sha256"]


def hmac_sha256(key: bytes, message: bytes) -> hmac.HMAC:
    """HMAC-SHA256 of `message` under `key` (`.digest()`, `.hexdigest()`)."""
    return hmac.new(key, message, sha256)
