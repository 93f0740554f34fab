"""GET /list_requests (admin) and GET /my_requests: filters, order, keyset pages."""

import pytest

from tests.support.api import assert_problem, future


def _all_pages(api, path, headers, **query):
    return [b["id"] for page in api.pages(path, headers, **query) for b in page["bookings"]]


@pytest.fixture
def scene(api):
    """Three requesters' bookings at shuffled times, two of them decided."""
    admin, alice, bob = api.admin(), api.user("alice"), api.user("bob")
    made = []
    for owner, hours in [(alice, 30), (bob, 10), (alice, 20), (bob, 40), (alice, 10)]:
        made.append(api.booking(owner, event_time=future(hours)))
    api.decide(admin, "accept", made[0]["id"])
    api.decide(admin, "reject", made[1]["id"])
    return admin, alice, bob, made


def test_list_requests_is_ordered_by_event_time_then_id(api, scene):
    admin, _, _, made = scene
    body = api.client.get("/list_requests", headers=admin.headers).json
    assert set(body) == {"bookings", "next_cursor"}
    assert body["next_cursor"] is None
    keys = [(b["event_time"], b["id"]) for b in body["bookings"]]
    assert keys == sorted(keys)
    assert len(keys) == len(made)


def test_list_requests_pages_exactly_with_the_cursor(api, scene):
    admin, _, _, _made = scene
    ids = _all_pages(api, "/list_requests", admin.headers, limit=2)
    full = [
        b["id"] for b in api.client.get("/list_requests", headers=admin.headers).json["bookings"]
    ]
    assert ids == full


def test_list_requests_filters(api, scene):
    admin, _alice, bob, made = scene
    by_status = _all_pages(api, "/list_requests", admin.headers, status="accepted")
    assert by_status == [made[0]["id"]]
    by_requester = _all_pages(api, "/list_requests", admin.headers, requested_by=bob.id)
    assert sorted(by_requester) == sorted([made[1]["id"], made[3]["id"]])
    window = _all_pages(
        api, "/list_requests", admin.headers, **{"from": future(15), "to": future(35)}
    )
    assert sorted(window) == sorted([made[0]["id"], made[2]["id"]])
    assert _all_pages(api, "/list_requests", admin.headers, resource_id=1) != []
    assert _all_pages(api, "/list_requests", admin.headers, resource_id=99) == []


def test_list_requests_is_admin_only(api, scene):
    _, alice, _, _ = scene
    assert api.client.get("/list_requests", headers=alice.headers).status_code == 403
    assert api.client.get("/list_requests").status_code == 401


def test_my_requests_lists_only_the_callers_own(api, scene):
    _, alice, _, made = scene
    ids = _all_pages(api, "/my_requests", alice.headers, limit=1)
    assert sorted(ids) == sorted(b["id"] for b in made if b["requested_by"]["id"] == alice.id)
    accepted = _all_pages(api, "/my_requests", alice.headers, status="accepted")
    assert accepted == [made[0]["id"]]


def test_my_requests_needs_a_token(api):
    assert api.client.get("/my_requests").status_code == 401


# The query schema's rules: tests/unit/test_booking_schemas.py; cursors: test_pagination.py.
@pytest.mark.parametrize(
    "query", ["limit=0", "cursor=abc", "cursor=WyIyMDMwLTAxLTAxVDAwOjAwOjAwIiwgMV0"]
)
def test_bad_list_query_is_422(api, query):
    admin = api.admin()
    assert_problem(api.client.get(f"/list_requests?{query}", headers=admin.headers), 422)


def test_forged_cursor_with_a_huge_id_is_422(api):
    from my_app.services.pagination import encode_cursor

    admin = api.admin()
    cursor = encode_cursor(["2030-01-01T00:00:00+00:00", 2**70])
    response = api.client.get(f"/list_requests?cursor={cursor}", headers=admin.headers)
    assert response.status_code == 422
