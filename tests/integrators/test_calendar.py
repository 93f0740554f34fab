"""Availability and the iCalendar feed of a resource."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar

from tests.support.api import future


def _at(hours: float) -> str:
    return future(hours)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _accepted(api, admin, requester, hours, minutes=60, **fields):
    booking = api.booking(requester, event_time=_at(hours), duration_minutes=minutes, **fields)
    assert api.decide(admin, "accept", booking["id"]).status_code == 200
    return booking


def _availability(api, account, resource_id=1, **query):
    return api.client.get(
        f"/resources/{resource_id}/availability", query_string=query, headers=account.headers
    )


def test_availability_merges_accepted_bookings_in_order_and_shows_only_times(api):
    admin, requester = api.admin(), api.user()
    _accepted(api, admin, requester, 52)
    _accepted(api, admin, requester, 49)  # back to back with the next: one busy interval
    _accepted(api, admin, requester, 48)
    api.booking(requester, event_time=_at(55))  # pending: not busy
    cancelled = _accepted(api, admin, requester, 56)
    assert api.decide(admin, "cancel", cancelled["id"]).status_code == 200
    room = api.client.post("/resources", json={"name": "Room B"}, headers=admin.headers).json
    _accepted(api, admin, requester, 60, resource_id=room["id"])

    response = _availability(api, api.user(), **{"from": _at(24), "to": _at(72)})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["resource_id"] == 1
    assert (body["from"], body["to"]) == (_at(24), _at(72))
    assert body["busy"] == [
        {"start": _at(48), "end": _at(50)},
        {"start": _at(52), "end": _at(53)},
    ]
    other = _availability(api, requester, room["id"], **{"from": _at(24), "to": _at(72)})
    assert other.json["busy"] == [{"start": _at(60), "end": _at(61)}]


def test_availability_is_clipped_to_the_window_half_open(api):
    admin, requester = api.admin(), api.user()
    _accepted(api, admin, requester, 48, minutes=120)
    inside = _availability(api, requester, **{"from": _at(48.5), "to": _at(49)})
    assert inside.json["busy"] == [{"start": _at(48.5), "end": _at(49)}]
    after = _availability(api, requester, **{"from": _at(50), "to": _at(51)})  # ends at 50
    assert after.json["busy"] == []


def test_availability_needs_a_window_of_at_most_366_days(api):
    requester = api.user()
    start = datetime.now(UTC).replace(microsecond=0)
    iso = lambda moment: moment.isoformat()  # noqa: E731
    for query in (
        {},
        {"from": iso(start)},
        {"from": iso(start), "to": iso(start)},
        {"from": iso(start), "to": iso(start - timedelta(days=1))},
        {"from": iso(start), "to": iso(start + timedelta(days=367))},
        {"from": "yesterday", "to": iso(start)},
        {"from": "2027-01-01T00:00:00", "to": "2027-01-02T00:00:00"},  # no offset
    ):
        response = _availability(api, requester, **query)
        assert response.status_code == 422, query
        assert response.json["errors"]
    ok = _availability(api, requester, **{"from": iso(start), "to": iso(start + timedelta(366))})
    assert ok.status_code == 200


def test_availability_needs_a_token_and_a_resource(api):
    requester = api.user()
    window = {"from": _at(1), "to": _at(2)}
    assert api.client.get("/resources/1/availability", query_string=window).status_code == 401
    assert _availability(api, requester, 999, **window).status_code == 404


def _feed(api, account, resource_id=1):
    response = api.client.get(f"/resources/{resource_id}/calendar.ics", headers=account.headers)
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def _events(calendar):
    return list(calendar.walk("VEVENT"))


def test_the_feed_has_one_event_per_accepted_booking_with_a_stable_uid(api):
    admin, requester = api.admin(), api.user()
    booking = _accepted(api, admin, requester, 48, minutes=90, topic="Board meeting")
    api.booking(requester, event_time=_at(50))  # pending: not in the feed
    calendar = _feed(api, admin)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    (event,) = _events(calendar)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == _parse(booking["event_time"]) and start.utcoffset() == timedelta(0)
    assert end - start == timedelta(minutes=90)
    assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
    assert str(event["SUMMARY"]) == "Board meeting"
    assert "Springfield" in str(event["LOCATION"])
    assert b"DTSTART:" in event.to_ical() and b"Z\r\n" in event.to_ical()  # UTC form
    again = _events(_feed(api, requester))
    assert [str(e["UID"]) for e in again] == [str(event["UID"])]
    assert str(again[0]["SUMMARY"]) == "Booked"  # other users see times, not topics
    assert "LOCATION" not in again[0]


def test_a_cancelled_booking_disappears_from_the_feed(api):
    admin, requester = api.admin(), api.user()
    kept = _accepted(api, admin, requester, 48)
    gone = _accepted(api, admin, requester, 50)
    uids = {str(e["UID"]) for e in _events(_feed(api, admin))}
    assert len(uids) == 2
    assert api.decide(requester, "cancel", gone["id"]).status_code == 200
    (left,) = _events(_feed(api, admin))
    assert str(left["UID"]) in uids
    assert left.decoded("DTSTART") == _parse(kept["event_time"])


def _calendar_url(api, admin, resource_id=1) -> str:
    resources = api.client.get("/resources", headers=admin.headers).json["resources"]
    return next(r for r in resources if r["id"] == resource_id)["calendar_url"]


def _get_link(api, url):
    parts = urlsplit(url)
    return api.client.get(f"{parts.path}?{parts.query}")


def test_admins_see_a_secret_feed_link_that_needs_no_token(api):
    admin, requester = api.admin(), api.user()
    _accepted(api, admin, requester, 48, topic="Offsite")
    url = _calendar_url(api, admin)
    assert url.startswith("http://bookings.test/resources/1/calendar.ics?token=")
    plain = api.client.get("/resources", headers=requester.headers).json["resources"]
    assert all("calendar_url" not in resource for resource in plain)
    response = _get_link(api, url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    (event,) = _events(Calendar.from_ical(response.data))
    assert str(event["SUMMARY"]) == "Offsite"
    created = api.client.post("/resources", json={"name": "Van"}, headers=admin.headers).json
    assert f"/resources/{created['id']}/calendar.ics?token=" in created["calendar_url"]
    assert _get_link(api, created["calendar_url"]).status_code == 200


def test_without_a_token_or_with_a_wrong_one_the_feed_is_401(api):
    api.admin()
    assert api.client.get("/resources/1/calendar.ics").status_code == 401
    wrong = api.client.get("/resources/1/calendar.ics?token=guess")
    assert wrong.status_code == 401 and wrong.mimetype == "application/problem+json"
    assert api.client.get("/resources/999/calendar.ics?token=guess").status_code == 404


def test_rotating_the_link_revokes_the_old_one(api):
    admin, requester = api.admin(), api.user()
    old = _calendar_url(api, admin)
    refused = api.client.post("/resources/1/calendar_token", headers=requester.headers)
    assert refused.status_code == 403
    rotated = api.client.post("/resources/1/calendar_token", headers=admin.headers)
    assert rotated.status_code == 200
    new = rotated.json["calendar_url"]
    assert new != old and _calendar_url(api, admin) == new
    assert _get_link(api, old).status_code == 401
    assert _get_link(api, new).status_code == 200
    assert (
        api.client.post("/resources/999/calendar_token", headers=admin.headers).status_code == 404
    )


def test_each_accepted_occurrence_of_a_series_is_its_own_event_related_to_its_series(api):
    from tests.bookings.series_steps import decide_series, series_body, series_of
    from tests.support.api import monday_in

    admin, requester = api.admin(), api.user()
    series = series_of(api, requester, series_body(1, monday_in(3), "FREQ=WEEKLY;COUNT=3"))
    assert decide_series(api, admin, "accept", series["id"]).status_code == 200
    one_off = _accepted(api, admin, requester, 48)
    events = _events(_feed(api, admin))
    related = {str(e["UID"]): str(e.get("RELATED-TO", "")) for e in events}
    assert len(related) == 4
    occurrences = [f"booking-{o['id']}@" for o in series["occurrences"]]
    grouped = {uid: group for uid, group in related.items() if uid.startswith(tuple(occurrences))}
    [group] = set(grouped.values())
    assert len(grouped) == 3 and group.startswith(f"series-{series['id']}@")
    assert (
        related[next(uid for uid in related if uid.startswith(f"booking-{one_off['id']}@"))] == ""
    )
