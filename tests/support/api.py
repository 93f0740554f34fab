"""A thin client for tests: the steps a user of the API takes, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

PASSWORD = "correct horse battery"
_serial = count(1)


@dataclass
class Account:
    id: int
    username: str
    email: str
    password: str
    tokens: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.tokens["access_token"])

    @property
    def refresh_headers(self) -> dict[str, str]:
        return bearer(self.tokens["refresh_token"])


def assert_problem(response, status: int) -> dict:
    """`response` is an RFC 9457 problem+json answer with `status`; its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert set(response.json) >= {"type", "title", "status", "detail"}
    assert response.json["status"] == status
    return response.json


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ApiClient:
    def __init__(self, client, runner, mailbox):
        self.client = client
        self.runner = runner
        self.mailbox = mailbox

    def register(self, username: str | None = None, password: str = PASSWORD, email=None):
        username = username or f"user{next(_serial)}"
        email = email or f"{username}@example.com"
        body = {"username": username, "email": email, "password": password}
        return self.client.post("/register", json=body)

    def confirm(self, email: str):
        link = self.mailbox.confirmation_link(email)
        return self.client.get(urlsplit(link).path)

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", json={"username": username, "password": password})

    def user(self, username: str | None = None, password: str = PASSWORD) -> Account:
        """A registered, confirmed, logged-in requester."""
        response = self.register(username, password)
        assert response.status_code == 201, response.json
        data = response.json
        assert self.confirm(data["email"]).status_code == 200
        account = Account(data["id"], data["username"], data["email"], password)
        account.tokens = self.login(account.username, password).json
        return account

    def submit(self, account: Account, **overrides):
        return self.client.post(
            "/submit_request", json=booking_body(**overrides), headers=account.headers
        )

    def booking(self, account: Account, **overrides) -> dict:
        """A submitted booking request, as returned."""
        response = self.submit(account, **overrides)
        assert response.status_code == 201, response.json
        return response.json

    def decide(self, account: Account, action: str, booking_id: int, **body):
        return self.client.post(
            f"/{action}_request", json={"id": booking_id, **body}, headers=account.headers
        )

    def pages(self, path: str, headers: dict[str, str], **query) -> Iterator[dict]:
        """Each page of a keyset-paged list, following `next_cursor` to the last."""
        cursor = None
        while True:
            params = {**query, **({"cursor": cursor} if cursor else {})}
            response = self.client.get(path, query_string=params, headers=headers)
            assert response.status_code == 200, response.json
            yield response.json
            cursor = response.json["next_cursor"]
            if cursor is None:
                return

    def admin(self, username: str | None = None, password: str = PASSWORD) -> Account:
        """An admin created with `flask create-admin`, logged in."""
        username = username or f"admin{next(_serial)}"
        email = f"{username}@example.com"
        result = self.runner.invoke(
            args=["create-admin", "--username", username, "--email", email, "--password", password]
        )
        assert result.exit_code == 0, result.output
        tokens = self.login(username, password).json
        me = self.client.get("/me", headers=bearer(tokens["access_token"])).json
        return Account(me["id"], username, email, password, tokens)

    def resource(self, admin: Account, **changes) -> dict:
        """A new resource, then `changes` (rules, time_zone, approval) made with PATCH."""
        name = f"Room {next(_serial)}"
        created = self.client.post("/resources", json={"name": name}, headers=admin.headers)
        assert created.status_code == 201, created.json
        if not changes:
            return created.json
        path = f"/resources/{created.json['id']}"
        changed = self.client.patch(path, json=changes, headers=admin.headers)
        assert changed.status_code == 200, changed.json
        return changed.json


def local_time(zone: str, day: date, clock: str) -> str:
    """Local `clock` ("HH:MM") of `day` in `zone`, as an ISO 8601 UTC time."""
    moment = datetime.combine(day, time.fromisoformat(clock), ZoneInfo(zone))
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def monday_in(month: int) -> date:
    """The first Monday of the next `month` (1-12) at least a week away: a winter or a
    summer day that stays in the future."""
    today = datetime.now(UTC).date() + timedelta(days=7)
    year = today.year if (today.month, today.day) <= (month, 1) else today.year + 1
    first = date(year, month, 1)
    return first + timedelta(days=-first.weekday() % 7)


def future(hours: float = 24, minutes: float = 0) -> str:
    """An ISO 8601 UTC time `hours` from now, to the minute."""
    moment = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(
        hours=hours, minutes=minutes
    )
    return moment.isoformat().replace("+00:00", "Z")


def booking_body(**overrides) -> dict:
    body = {
        "topic": "Quarterly planning talk",
        "event_time": future(48),
        "duration_minutes": 60,
        "address": {
            "street": "1 Main Street",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
        },
    }
    return {**body, **overrides}
