"""The JSON of GET /list_requests and GET /my_requests as a client sees it: each listed request
is, field for field and byte for byte, what GET /request/<id> answers for it, whatever its
status, decider, series or missing fields; filters, pages and approvers as the contract says."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.bookings.series_steps import series_body, series_of
from tests.support.api import assert_problem, future, monday_in

BOOKING_FIELDS = [
    "id", "resource_id", "topic", "event_time", "duration_minutes", "end_time", "address",
    "status", "requested_by", "decided_by", "decided_at", "reason", "created_at", "updated_at",
    "checked_in_at", "series_id",
]  # fmt: skip
ADDRESS_FIELDS = ["street", "city", "state", "postal_code", "country"]
USER_FIELDS = ["id", "username", "email"]


def _later(minutes: float):
    return freeze_time(datetime.now(UTC) + timedelta(minutes=minutes), tick=True)


def _log_in_again(api, *accounts):
    for account in accounts:  # access tokens last 15 minutes
        account.tokens = api.login(account.username).json


def _ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def scene(api):
    """Requests in every status, on two resources, one-offs and a series, some decided by an
    approver, one by an account deleted since; evaluated two hours later, when the early ones
    have expired, been released or checked in to."""
    admin, alice, bob, carol = api.admin(), api.user(), api.user(), api.user()
    room = api.resource(admin, rules={"checkin_minutes": 10})
    assert api.client.put(
        f"/resources/{room['id']}/approvers", json={"user_ids": [bob.id, carol.id]},
        headers=admin.headers,
    ).status_code == 200  # fmt: skip
    made = {}
    made["pending"] = api.booking(
        alice,
        topic='Café ☕ "quoted" \\ back, ünïcødé — 東京',
        address={"street": "2 Rue de l'Église", "city": "Zürich", "country": "CH"},
    )  # no state, no postal code: nulls
    made["rejected"] = api.booking(bob, resource_id=room["id"], event_time=future(30))
    made["cancelled_by_owner"] = api.booking(alice, event_time=future(50))
    made["cancelled_by_admin"] = api.booking(alice, resource_id=room["id"])
    made["accepted"] = api.booking(bob, event_time=future(72), duration_minutes=10080)
    made["decider_deleted"] = api.booking(alice, resource_id=room["id"], event_time=future(90))
    made["to_expire"] = api.booking(alice, event_time=future(1))
    made["to_release"] = api.booking(bob, resource_id=room["id"], event_time=future(0, 5))
    made["checked_in"] = api.booking(alice, event_time=future(0, 10))
    series = series_of(api, alice, series_body(room["id"], monday_in(3), "FREQ=WEEKLY;COUNT=3"))

    def decide(account, action, name, **body):
        assert api.decide(account, action, made[name]["id"], **body).status_code == 200

    decide(bob, "reject", "rejected", reason="Line one\nline two\ttabbed")
    decide(alice, "cancel", "cancelled_by_owner", reason=None)
    decide(admin, "cancel", "cancelled_by_admin", reason="Double booked")
    decide(admin, "accept", "accepted")
    decide(carol, "accept", "decider_deleted")
    decide(bob, "accept", "to_release")
    decide(admin, "accept", "checked_in")
    first, second, _ = (o["id"] for o in series["occurrences"])
    assert api.decide(admin, "accept", first).status_code == 200
    assert api.decide(bob, "reject", second).status_code == 200
    checkin = {"id": made["checked_in"]["id"]}
    response = api.client.post("/checkin_request", json=checkin, headers=alice.headers)
    assert response.status_code == 200
    assert api.client.delete(f"/user/{carol.id}", headers=admin.headers).status_code == 200

    with _later(120):
        for command in ("expire-requests", "release-no-shows"):
            assert api.runner.invoke(args=[command]).exit_code == 0
        _log_in_again(api, admin, alice, bob)
        ids = {name: booking["id"] for name, booking in made.items()}
        ids |= {f"series_{i}": o["id"] for i, o in enumerate(series["occurrences"])}
        yield admin, alice, bob, room, series, ids


def _read(api, account, booking_id) -> dict:
    return _ok(api.client.get(f"/request/{booking_id}", headers=account.headers))


def _pages(api, path, account, **query):
    cursor, pages = None, []
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = api.client.get(path, query_string=params, headers=account.headers)
        pages.append(response)
        cursor = _ok(response)["next_cursor"]
        if cursor is None:
            return pages


def _listed(api, path, account, **query) -> list[dict]:
    return [b for page in _pages(api, path, account, **query) for b in page.json["bookings"]]


def _assert_as_read(api, account, response):
    """The page is, byte for byte, its requests as GET /request/<id> shows each."""
    body = response.json
    assert list(body) == ["bookings", "next_cursor"]
    expected = {
        "bookings": [_read(api, account, b["id"]) for b in body["bookings"]],
        "next_cursor": body["next_cursor"],
    }
    assert body == expected
    encoded = json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert response.get_data(as_text=True) == encoded
    assert response.mimetype == "application/json"


def _listed_as_read(api, path, account, **query) -> list[dict]:
    """`_listed`, each page checked by `_assert_as_read` on the way."""
    pages = _pages(api, path, account, **query)
    for response in pages:
        _assert_as_read(api, account, response)
    return [b for page in pages for b in page.json["bookings"]]


def test_every_listed_request_is_what_reading_it_answers(api, scene):
    admin, _, _, _, _, ids = scene
    listed = _listed_as_read(api, "/list_requests", admin, limit=4)
    assert sorted(b["id"] for b in listed) == sorted(ids.values())
    keys = [(b["event_time"], b["id"]) for b in listed]
    assert keys == sorted(keys)


def test_each_status_decider_and_series_shows_as_stored(api, scene):
    admin, alice, bob, room, series, ids = scene
    by_id = {b["id"]: b for b in _listed(api, "/list_requests", admin, limit=100)}
    seen = {name: by_id[booking_id] for name, booking_id in ids.items()}
    for booking in seen.values():
        assert list(booking) == BOOKING_FIELDS
        assert list(booking["address"]) == ADDRESS_FIELDS
        assert list(booking["requested_by"]) == USER_FIELDS
    statuses = {name: booking["status"] for name, booking in seen.items()}
    assert statuses == {
        "pending": "pending", "rejected": "rejected", "cancelled_by_owner": "cancelled",
        "cancelled_by_admin": "cancelled", "accepted": "accepted", "decider_deleted": "accepted",
        "to_expire": "expired", "to_release": "released", "checked_in": "accepted",
        "series_0": "accepted", "series_1": "rejected", "series_2": "pending",
    }  # fmt: skip
    pending = seen["pending"]
    assert pending["address"]["state"] is None and pending["address"]["postal_code"] is None
    assert pending["topic"] == 'Café ☕ "quoted" \\ back, ünïcødé — 東京'
    assert (pending["decided_by"], pending["decided_at"], pending["reason"]) == (None, None, None)
    assert pending["series_id"] is None and pending["checked_in_at"] is None
    assert pending["requested_by"] == {"id": alice.id, "username": alice.username,
                                       "email": alice.email}  # fmt: skip
    rejected = seen["rejected"]
    assert rejected["decided_by"] == {"id": bob.id, "username": bob.username, "email": bob.email}
    assert rejected["reason"] == "Line one\nline two\ttabbed"
    assert rejected["decided_at"].endswith("Z") and rejected["resource_id"] == room["id"]
    assert seen["cancelled_by_owner"]["decided_by"]["id"] == alice.id
    assert seen["decider_deleted"]["decided_by"] is None
    assert seen["decider_deleted"]["decided_at"] is not None
    assert seen["to_expire"]["decided_by"] is None and seen["to_expire"]["reason"]
    assert seen["checked_in"]["checked_in_at"].endswith("Z")
    assert seen["accepted"]["duration_minutes"] == 10080
    assert {seen[f"series_{i}"]["series_id"] for i in range(3)} == {series["id"]}
    assert seen["series_0"]["decided_by"]["id"] == admin.id


@pytest.mark.parametrize(
    "query",
    [{"status": "accepted"}, {"status": "released"}, {"resource_id": 1}, {"series_id": 0},
     {"requested_by": 0}, {"from": 0, "to": 0}, {"status": "rejected", "resource_id": 0}],
)  # fmt: skip
def test_filtered_pages_are_the_matching_requests_as_read(api, scene, query):
    admin, alice, _, room, series, _ = scene
    values = {"resource_id": room["id"], "series_id": series["id"], "requested_by": alice.id,
              "from": future(0), "to": future(80)}  # fmt: skip
    query = {name: value or values[name] for name, value in query.items()}
    everything = _listed(api, "/list_requests", admin, limit=100)
    listed = _listed_as_read(api, "/list_requests", admin, limit=2, **query)

    def matches(booking):
        return all(
            {"status": booking["status"], "resource_id": booking["resource_id"],
             "series_id": booking["series_id"], "requested_by": booking["requested_by"]["id"]}
            .get(name, value) == value
            for name, value in query.items() if name not in ("from", "to")
        ) and query.get("from", "") <= booking["event_time"] < query.get("to", "~")  # fmt: skip

    assert listed == [b for b in everything if matches(b)]
    assert listed


def test_my_requests_lists_the_callers_own_as_read(api, scene):
    _, alice, _, _, _, _ = scene
    mine = _listed_as_read(api, "/my_requests", alice, limit=3)
    assert mine and {b["requested_by"]["id"] for b in mine} == {alice.id}


def test_an_approver_lists_the_requests_of_the_resources_they_approve(api, scene):
    admin, _, bob, room, _, _ = scene
    listed = _listed_as_read(api, "/list_requests", bob, limit=3)
    everything = _listed(api, "/list_requests", admin, limit=100)
    assert listed == [b for b in everything if b["resource_id"] == room["id"]]
    assert _listed(api, "/list_requests", bob, resource_id=room["id"]) == listed
    assert_problem(
        api.client.get("/list_requests", query_string={"resource_id": 1}, headers=bob.headers),
        403,
    )


def test_the_csv_export_has_the_json_values_flattened(api, scene):
    admin, _, _, _, _, _ = scene
    listed = _listed(api, "/list_requests", admin, limit=100)
    response = api.client.get("/list_requests", headers={**admin.headers, "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, rows = rows[0], rows[1:]
    assert header[:7] == [*BOOKING_FIELDS[:6], "address.street"]
    assert "requested_by.email" in header and "decided_by.username" in header
    assert len(rows) == len(listed)
    for booking, row in zip(listed, rows, strict=True):
        flat = {}
        for name, value in booking.items():
            if isinstance(value, dict):
                flat |= {f"{name}.{inner}": item for inner, item in value.items()}
            elif name in ("address", "decided_by"):
                continue
            else:
                flat[name] = value
        cells = dict(zip(header, row, strict=True))
        for column, cell in cells.items():
            value = flat.get(column)
            assert cell == ("" if value is None else str(value)), column


def test_a_pretty_printing_app_writes_the_same_list_indented(app, api, scene, monkeypatch):
    admin, _, _, _, _, _ = scene
    compact = api.client.get("/list_requests", headers=admin.headers)
    monkeypatch.setattr(app.json, "compact", False)  # as in debug mode
    pretty = api.client.get("/list_requests", headers=admin.headers)
    assert pretty.status_code == 200 and pretty.mimetype == "application/json"
    assert pretty.get_data(as_text=True) == json.dumps(compact.json, indent=2) + "\n"
