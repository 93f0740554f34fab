"""Steps shared by the series tests: a series body and its submission over HTTP."""

from __future__ import annotations

from datetime import date

from tests.support.api import ApiClient, booking_body, local_time

BERLIN = "Europe/Berlin"


def series_body(resource_id: int, day: date, rrule: str, clock: str = "10:00", **extra) -> dict:
    """A series on the resource whose first occurrence is `day` at `clock` Berlin time."""
    recurrence = {"rrule": rrule, **extra.pop("recurrence", {})}
    return booking_body(
        resource_id=resource_id,
        event_time=local_time(BERLIN, day, clock),
        recurrence=recurrence,
        **extra,
    )


def submit_series(api: ApiClient, account, body: dict, dry_run: bool = False):
    path = "/submit_series?dry_run=true" if dry_run else "/submit_series"
    return api.client.post(path, json=body, headers=account.headers)


def series_of(api: ApiClient, account, body: dict) -> dict:
    response = submit_series(api, account, body)
    assert response.status_code == 201, response.json
    return response.json


def decide_series(api: ApiClient, account, action: str, series_id: int, **body):
    return api.client.post(
        f"/{action}_series", json={"id": series_id, **body}, headers=account.headers
    )
