"""Concurrent edits: `ETag` on GET /request/<id>, `If-Match` on accept, reject and cancel."""

from tests.support.concurrency import at_once


def _read(api, account, booking_id):
    response = api.client.get(f"/request/{booking_id}", headers=account.headers)
    assert response.status_code == 200
    return response


def _decide(api, account, action, booking_id, if_match=None, **body):
    headers = dict(account.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    return api.client.post(f"/{action}_request", json={"id": booking_id, **body}, headers=headers)


def _history_length(api, account, booking_id) -> int:
    response = api.client.get(f"/request/{booking_id}/history", headers=account.headers)
    return len(response.json["history"])


def test_the_etag_changes_with_every_change_and_the_answer_carries_the_new_one(api):
    admin, requester = api.admin(), api.user()
    booking = api.booking(requester)
    pending = _read(api, requester, booking["id"]).headers["ETag"]
    assert pending.startswith('"') and pending.endswith('"')
    assert _read(api, admin, booking["id"]).headers["ETag"] == pending  # same for every reader
    accepted = _decide(api, admin, "accept", booking["id"], if_match=pending)
    assert accepted.status_code == 200
    after_accept = _read(api, requester, booking["id"]).headers["ETag"]
    assert after_accept != pending
    assert accepted.headers["ETag"] == after_accept
    cancelled = _decide(api, requester, "cancel", booking["id"], if_match=after_accept)
    assert cancelled.status_code == 200
    assert _read(api, requester, booking["id"]).headers["ETag"] not in {pending, after_accept}


def test_a_stale_if_match_is_412_and_changes_nothing(api):
    admin, requester = api.admin(), api.user()
    booking = api.booking(requester)
    seen = _read(api, admin, booking["id"]).headers["ETag"]
    assert _decide(api, admin, "accept", booking["id"]).status_code == 200  # someone else acts
    for action, account in (("cancel", requester), ("cancel", admin), ("reject", admin)):
        response = _decide(api, account, action, booking["id"], if_match=seen, reason="late")
        assert response.status_code == 412, (action, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == 412
    current = _read(api, admin, booking["id"]).json
    assert current["status"] == "accepted" and current["reason"] is None
    assert _history_length(api, admin, booking["id"]) == 2


def test_an_if_match_naming_no_version_of_the_request_is_412(api):
    admin = api.admin()
    booking = api.booking(api.user())
    etag = _read(api, admin, booking["id"]).headers["ETag"]
    for value in ('"999.abc"', f"W/{etag}", "garbage"):
        assert _decide(api, admin, "accept", booking["id"], if_match=value).status_code == 412
        assert _decide(api, admin, "reject", booking["id"], if_match=value).status_code == 412
    assert _read(api, admin, booking["id"]).json["status"] == "pending"
    assert _history_length(api, admin, booking["id"]) == 1


def test_a_matching_list_or_star_lets_the_change_through(api):
    admin = api.admin()
    first, second = api.booking(api.user()), api.booking(api.user())
    etag = _read(api, admin, first["id"]).headers["ETag"]
    listed = _decide(api, admin, "reject", first["id"], if_match=f'"0.0", {etag}')
    assert listed.status_code == 200 and listed.json["status"] == "rejected"
    star = _decide(api, admin, "reject", second["id"], if_match="*")
    assert star.status_code == 200


def test_without_if_match_nothing_changes_and_409_stays_409(api):
    admin = api.admin()
    booking = api.booking(api.user())
    assert _decide(api, admin, "reject", booking["id"]).status_code == 200
    assert _decide(api, admin, "accept", booking["id"]).status_code == 409


def test_two_admins_deciding_on_the_same_version_at_once_one_wins_one_gets_412(app, api):
    admin, other = api.admin(), api.admin()
    booking = api.booking(api.user())
    etag = _read(api, admin, booking["id"]).headers["ETag"]

    def decide(account, action):
        headers = {**account.headers, "If-Match": etag}
        return lambda client: client.post(
            f"/{action}_request", json={"id": booking["id"]}, headers=headers
        )

    responses = at_once(app, [decide(admin, "accept"), decide(other, "reject")])
    assert sorted(r.status_code for r in responses) == [200, 412], [r.json for r in responses]
    assert _history_length(api, admin, booking["id"]) == 2
