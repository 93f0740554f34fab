"""Writes api_usage.ipynb from the cells below (then `make notebook` runs and saves it)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    (
        "md",
        """# my_app: the booking-request API, step by step

This notebook walks through every endpoint of a running my_app server, the way a REST client
would use it: health checks, registration and e-mail confirmation, login and tokens, booking
requests, an admin's decisions, paging, history, sessions, changing and resetting a password,
logging out and deleting an account.

It talks to the server at `MY_APP_BASE_URL` (default `http://127.0.0.1:5000`). Confirmation
links are read from the mail the server sent: set `MY_APP_MAILDIR` to a Maildir that receives
it, or paste the link printed by `make start`. An admin made with
`flask --app wsgi create-admin` is named by `MY_APP_ADMIN_USERNAME` / `MY_APP_ADMIN_PASSWORD`.
`make notebook` starts a throwaway server with all of that and re-runs this notebook.""",
    ),
    (
        "code",
        """import json
import mailbox
import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests

BASE = os.environ.get("MY_APP_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
MAILDIR = os.environ.get("MY_APP_MAILDIR")
ADMIN = (os.environ.get("MY_APP_ADMIN_USERNAME", "admin"), os.environ.get("MY_APP_ADMIN_PASSWORD", ""))


def show(response, keys=None):
    \"\"\"Print a response the way a client sees it: status, content type, body.\"\"\"
    body = response.json() if response.content else None
    if keys and isinstance(body, dict):
        body = {k: body[k] for k in keys if k in body}
    print(response.status_code, response.headers.get("Content-Type"))
    print(json.dumps(body, indent=2)[:1500])
    return response


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def future(hours):
    moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    return moment.isoformat().replace("+00:00", "Z")


print("server:", BASE)""",
    ),
    (
        "md",
        """## Health

`/health` says the process is up (liveness); `/ping` says it is ready: the database answers and
its schema is at the newest migration.""",
    ),
    (
        "code",
        """show(requests.get(f"{BASE}/health"))
show(requests.get(f"{BASE}/ping"));""",
    ),
    (
        "md",
        """## Register

Anyone may register. The account starts unconfirmed, with the `requester` role, and a
confirmation link is e-mailed. Bad input is a `422` problem that names each field.""",
    ),
    (
        "code",
        """suffix = uuid.uuid4().hex[:6]
alice = {"username": f"alice_{suffix}", "email": f"alice_{suffix}@example.com", "password": "correct horse battery"}
show(requests.post(f"{BASE}/register", json=alice))
show(requests.post(f"{BASE}/register", json={"username": "x", "email": "nope", "password": "short"}));""",
    ),
    (
        "md",
        """## Confirm the e-mail address

The link is signed and expires; it carries nothing guessable. Here we read it from the mail
the server sent. Logging in before confirming is refused with `403`.""",
    ),
    (
        "code",
        """show(requests.post(f"{BASE}/login", json={"username": alice["username"], "password": alice["password"]}))


def confirmation_link(address):
    for message in mailbox.Maildir(MAILDIR):
        if message["To"] == address:
            body = message.get_payload(decode=True).decode()
            return next(line.strip() for line in body.splitlines() if "/user_confirm/" in line)
    raise LookupError(f"no mail to {address} yet")


link = confirmation_link(alice["email"]) if MAILDIR else input("confirmation link: ")
print(link)
show(requests.get(f"{BASE}{urlsplit(link).path}"));""",
    ),
    (
        "md",
        """## Log in

`username` may also be the e-mail address. The answer is a pair of JWTs: a short-lived access
token for every call and a refresh token for `/refresh`. Unknown user and wrong password get
the very same `401`.""",
    ),
    (
        "code",
        """login = show(requests.post(f"{BASE}/login", json={"username": alice["email"], "password": alice["password"]})).json()
access, refresh = login["access_token"], login["refresh_token"]
show(requests.post(f"{BASE}/login", json={"username": alice["username"], "password": "wrong"}))
show(requests.get(f"{BASE}/me", headers=bearer(access)));""",
    ),
    (
        "md",
        """## An authenticated call: a random array

`POST /generate_random_array` answers 500 floats in [0, 1) and the word count of a sentence.""",
    ),
    (
        "code",
        """result = requests.post(f"{BASE}/generate_random_array", json={"sentence": "book the big room"}, headers=bearer(access)).json()
print(result["user"], result["word_count"], len(result["random_array"]), result["random_array"][:3])""",
    ),
    (
        "md",
        """## Refresh

`/refresh` spends the refresh token and answers the next pair of the same session. A refresh
token is good once: presenting a spent one again is treated as theft and ends the session.""",
    ),
    (
        "code",
        """pair = show(requests.post(f"{BASE}/refresh", headers=bearer(refresh)), keys=["token_type", "expires_in"]).json()
show(requests.post(f"{BASE}/refresh", headers=bearer(refresh)))  # the spent token again
show(requests.get(f"{BASE}/me", headers=bearer(pair["access_token"])))  # the whole session ended
access = requests.post(f"{BASE}/login", json={"username": alice["username"], "password": alice["password"]}).json()["access_token"]""",
    ),
    (
        "md",
        """## Ask for bookings

The requester comes from the token. `event_time` must carry a UTC offset and lie in the future;
`country` may be an alpha-2 or alpha-3 code or an English name and comes back as alpha-2.""",
    ),
    (
        "code",
        """address = {"street": "1 Main Street", "city": "Springfield", "state": "IL", "postal_code": "62701", "country": "usa"}
bookings = []
for hours, topic in [(48, "Team offsite"), (48, "Board meeting"), (72, "Customer demo"), (96, "Retrospective")]:
    body = {"topic": topic, "event_time": future(hours), "duration_minutes": 90, "address": address}
    bookings.append(requests.post(f"{BASE}/submit_request", json=body, headers=bearer(access)).json())
show(requests.post(f"{BASE}/submit_request", json={"topic": "Lunch and learn", "event_time": future(5), "duration_minutes": 60, "address": address}, headers=bearer(access)), keys=["id", "status", "event_time", "end_time", "address", "requested_by"])
show(requests.post(f"{BASE}/submit_request", json={**body, "address": {**address, "country": "Atlantis"}}, headers=bearer(access)));""",
    ),
    (
        "md",
        """## An admin decides

Admins accept, reject (optionally with a reason) or cancel; the requester is e-mailed. Accepted
requests of one resource never overlap: the second of two overlapping requests gets `409`,
naming the conflict. Requesters may not decide.""",
    ),
    (
        "code",
        """admin = requests.post(f"{BASE}/login", json={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
show(requests.post(f"{BASE}/accept_request", json={"id": bookings[0]["id"]}, headers=bearer(access)))
show(requests.post(f"{BASE}/accept_request", json={"id": bookings[0]["id"]}, headers=bearer(admin)), keys=["id", "status", "decided_by", "decided_at"])
show(requests.post(f"{BASE}/accept_request", json={"id": bookings[1]["id"]}, headers=bearer(admin)))  # same slot
show(requests.post(f"{BASE}/reject_request", json={"id": bookings[1]["id"], "reason": "The slot is taken."}, headers=bearer(admin)), keys=["id", "status", "reason"])
show(requests.post(f"{BASE}/cancel_request", json={"id": bookings[2]["id"], "reason": "Plans changed."}, headers=bearer(access)), keys=["id", "status", "reason"]);""",
    ),
    (
        "md",
        """## Lists and paging

Lists are ordered by event time, then id. Each page carries `next_cursor`; pass it back as
`cursor` until it is `null`. Admins filter every request; requesters see their own.""",
    ),
    (
        "code",
        """cursor, page = None, 0
while True:
    params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
    body = requests.get(f"{BASE}/list_requests", params=params, headers=bearer(admin)).json()
    page += 1
    print(f"page {page}:", [(b["id"], b["topic"], b["status"]) for b in body["bookings"]])
    cursor = body["next_cursor"]
    if cursor is None:
        break
mine = requests.get(f"{BASE}/my_requests", params={"status": "pending"}, headers=bearer(access)).json()
print("alice's pending:", [b["topic"] for b in mine["bookings"]])
show(requests.get(f"{BASE}/resources", headers=bearer(access)));""",
    ),
    (
        "md",
        """## History

Every change of a request, submission included, oldest first.""",
    ),
    (
        "code",
        """for entry in requests.get(f"{BASE}/request/{bookings[0]['id']}/history", headers=bearer(access)).json()["history"]:
    print(entry["at"], entry["from_status"], "->", entry["to_status"], "by", entry["by"]["username"])""",
    ),
    (
        "md",
        """## Sessions you can see

Every login is a session: `GET /sessions` lists the caller's, newest first, with when it
started, when it was last refreshed, the client address and user agent; `current` marks the
one asking. A lost laptop's session is ended from another device with `DELETE /sessions/<id>`:
its tokens stop working at once, everywhere. Another user's session id is simply `404`.""",
    ),
    (
        "code",
        """laptop = requests.post(f"{BASE}/login", json={"username": alice["username"], "password": alice["password"]}, headers={"User-Agent": "Laptop/1.0"}).json()
sessions = show(requests.get(f"{BASE}/sessions", headers=bearer(access))).json()["sessions"]
lost = next(s for s in sessions if s["user_agent"] == "Laptop/1.0")
show(requests.delete(f"{BASE}/sessions/{lost['id']}", headers=bearer(access)))
show(requests.get(f"{BASE}/me", headers=bearer(laptop["access_token"])))  # the laptop is signed out
print([(s["id"], s["current"]) for s in requests.get(f"{BASE}/sessions", headers=bearer(access)).json()["sessions"]])""",
    ),
    (
        "md",
        """## Change the password

`POST /change_password` needs the current password (a wrong one is a `422` on
`current_password`, and wrong guesses are throttled like failed logins). The new one must be
8 to 128 characters and neither one of the 10,000 most common passwords nor the username or
e-mail address; the `422` says why. Every other session ends; this one gets a new pair.""",
    ),
    (
        "code",
        """other = requests.post(f"{BASE}/login", json={"username": alice["username"], "password": alice["password"]}).json()
show(requests.post(f"{BASE}/change_password", json={"current_password": "not it", "new_password": "a new passphrase"}, headers=bearer(access)))
show(requests.post(f"{BASE}/change_password", json={"current_password": alice["password"], "new_password": "password1"}, headers=bearer(access)))
pair = show(requests.post(f"{BASE}/change_password", json={"current_password": alice["password"], "new_password": "a new passphrase"}, headers=bearer(access)), keys=["token_type", "expires_in"]).json()
alice["password"], access = "a new passphrase", pair["access_token"]
show(requests.get(f"{BASE}/me", headers=bearer(other["access_token"])))  # the other session ended
print(requests.get(f"{BASE}/me", headers=bearer(access)).json()["username"], "carries on")""",
    ),
    (
        "md",
        """## Forgotten password

`POST /forgot_password` answers `202` whether or not the address has an account (and takes
as long either way: the mail leaves after the answer). The mail links to `PASSWORD_RESET_URL`
with a `token`; `POST /reset_password` with that token and a new password ends every session.
The link works once, and only for `RESET_TOKEN_MINUTES`.""",
    ),
    (
        "code",
        """import time
from urllib.parse import parse_qs

show(requests.post(f"{BASE}/forgot_password", json={"email": "nobody@example.com"}))
show(requests.post(f"{BASE}/forgot_password", json={"email": alice["email"]}))


def reset_link(address, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mailbox.Maildir(MAILDIR):
            if message["To"] == address and message["Subject"] == "Reset your password":
                body = message.get_payload(decode=True).decode()
                return next(line.strip() for line in body.splitlines() if "token=" in line)
        time.sleep(0.2)
    raise LookupError(f"no reset mail to {address} yet")


link = reset_link(alice["email"]) if MAILDIR else input("reset link: ")
token = parse_qs(urlsplit(link).query)["token"][0]
print(link.split("?")[0], "?token=…")
show(requests.post(f"{BASE}/reset_password", json={"token": token, "password": alice["username"]}))
show(requests.post(f"{BASE}/reset_password", json={"token": token, "password": "a forgotten passphrase, renewed"}))
show(requests.get(f"{BASE}/me", headers=bearer(access)))  # every session ended
show(requests.post(f"{BASE}/reset_password", json={"token": token, "password": "yet another passphrase"}))  # used
alice["password"] = "a forgotten passphrase, renewed"
access = requests.post(f"{BASE}/login", json={"username": alice["username"], "password": alice["password"]}).json()["access_token"]""",
    ),
    (
        "md",
        """## Log out

Logging out revokes the access token and the refresh token of that login, on every worker
and every host. The revoked token then gets a `401` problem with `WWW-Authenticate`.""",
    ),
    (
        "code",
        """show(requests.post(f"{BASE}/logout", headers=bearer(access)))
revoked = show(requests.get(f"{BASE}/me", headers=bearer(access)))
print("WWW-Authenticate:", revoked.headers.get("WWW-Authenticate"))""",
    ),
    (
        "md",
        """## Delete the account

A user may delete their own account (admins any account); its tokens stop working at once,
and its booking requests go with it. An admin may also delete a single request.""",
    ),
    (
        "code",
        """show(requests.delete(f"{BASE}/delete_request/{bookings[3]['id']}", headers=bearer(admin)))
access = requests.post(f"{BASE}/login", json={"username": alice["username"], "password": alice["password"]}).json()["access_token"]
me = requests.get(f"{BASE}/me", headers=bearer(access)).json()
show(requests.delete(f"{BASE}/user/{me['id']}", headers=bearer(access)))
show(requests.get(f"{BASE}/me", headers=bearer(access)));""",
    ),
]


def build() -> nbformat.NotebookNode:
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


if __name__ == "__main__":
    nbformat.write(build(), Path(__file__).resolve().parents[1] / "api_usage.ipynb")
