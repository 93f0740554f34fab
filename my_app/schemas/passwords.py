"""What a password must be (NIST SP 800-63B): long enough, not common, not the account's name.

One rule for register, reset, change and `create-admin`: the schemas apply it
where the account's name is in the body, the services where it is not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH, MAX_LENGTH = 8, 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower-cased; read once per process."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def password_problems(password: str, username: str = "", email: str = "") -> list[str]:
    """Why `password` may not be used by the account `username` / `email`; empty when it may.

    Length is counted in characters, every one of them (spaces too). No
    composition rules: a long passphrase is better than `P@ssw0rd!`.
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    folded = password.casefold()
    problems = []
    if folded.lower() in common_passwords():
        problems.append("This is one of the 10,000 most common passwords; choose another.")
    account_names = {name.strip().casefold() for name in (username, email) if name}
    if folded in account_names or folded.strip() in account_names:
        problems.append("The password must not be your username or e-mail address.")
    return problems
