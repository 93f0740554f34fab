"""A series in the console: the requester sees the dates before sending, an admin accepts all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.console.conftest import BROWSER_TZ
from tests.support.api import PASSWORD


def test_requester_sends_a_weekly_series_after_its_dry_run_and_an_admin_accepts_all(browser, api):
    admin = api.admin()
    room = api.resource(admin)
    requester = api.user()
    first = (datetime.now(UTC) + timedelta(days=3)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    # Someone else holds the room on the second week: that date is not free.
    other = api.user()
    blocker = api.booking(other, resource_id=room["id"], topic="Board meeting",
                          event_time=(first + timedelta(weeks=1)).isoformat(),
                          duration_minutes=60)  # fmt: skip
    assert api.decide(admin, "accept", blocker["id"]).status_code == 200

    page = browser()
    page.sign_in(requester.username, PASSWORD)
    page.open("/app/submit")
    page.fill({
        "Resource": str(room["id"]), "Topic": "Weekly review",
        "Starts": first.astimezone(ZoneInfo(BROWSER_TZ)).strftime("%Y-%m-%dT%H:%M"),
        "Duration in minutes": "60", "How often": "weekly", "How many times": "4",
        "Street": "1 Main Street", "City": "Springfield", "Country": "US",
    })  # fmt: skip
    weekday = first.astimezone(ZoneInfo(BROWSER_TZ)).strftime("%A")
    assert page.field(weekday).is_selected()  # the start's day is ticked for us
    page.click("Show the dates", "form")

    preview = page.find("#series-preview h2")
    assert preview.text == "4 dates, 1 not free"
    dates = page.all("#series-dates li")
    assert len(dates) == 4
    refused = page.all("#series-dates li.refused")
    assert len(refused) == 1 and f"#{blocker['id']}" in refused[0].text
    assert refused[0] == dates[1]
    mine = api.client.get(f"/my_requests?resource_id={room['id']}", headers=requester.headers).json[
        "bookings"
    ]
    assert mine == []  # the dry run stored nothing
    page.screenshot("series-dry-run")

    page.find("#leave-out").click()
    page.click("Send 3 requests", "#series-preview")
    page.wait(lambda d: "/app/series?id=" in d.current_url)
    series_id = int(page.driver.current_url.rsplit("=", 1)[1])
    page.wait_text("3 pending", "#series-counts")
    page.sign_out()

    page.sign_in(admin.username, admin.password)
    page.wait(lambda d: d.current_url.endswith("/app/queue"))
    card = page.find("#queue li.booking[data-status='pending']")
    assert "Weekly review" in card.text
    page.click(f"Series #{series_id}: all its dates", "#queue li.booking")
    page.wait(lambda d: d.current_url.endswith(f"/app/series?id={series_id}"))
    skipped = page.text("#series")
    assert "Left out when submitted" in skipped and "[object" not in skipped
    assert f"#{blocker['id']}" in page.text("#series-dates li.refused")
    page.screenshot("series")
    page.click("Accept all", "#series")
    page.wait_text("3 accepted", "#series-counts")
    statuses = [li.get_attribute("data-status") for li in page.all("#series-occurrences li")]
    assert statuses == ["accepted"] * 3
    assert "Accept all" not in page.text("#series")  # nothing is left to accept
    shown = api.client.get(f"/series/{series_id}", headers=admin.headers).json
    assert [o["status"] for o in shown["occurrences"]] == ["accepted"] * 3
    assert len(shown["skipped"]) == 1 and shown["skipped"][0]["conflicts"] == [blocker["id"]]
    assert page.csp_violations() == []
