"""The console's resource rules in headless Chromium: admins edit them, requesters see them
and the closed times, approvers decide their resources' requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from selenium.webdriver.common.keys import Keys

from tests.console.conftest import BROWSER_TZ
from tests.support.api import future


def _picker_value(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(BROWSER_TZ)).strftime("%Y-%m-%dT%H:%M")


def _row(page, day: str):
    return page.find(f"#rules tr[data-day='{day}']")


def test_admin_sets_opening_hours_and_a_buffer_and_adds_a_blackout(browser, api):
    admin = api.admin()
    room = api.resource(admin, rules={"opening_hours": {"mon": [["09:00", "17:00"]]}})
    page = browser()
    page.sign_in(admin.username, admin.password)
    page.open("/app/resources")
    page.click("Rules, approvers, blackouts", f"#resources li[data-id='{room['id']}']")
    page.wait_text("Booking rules")

    page.fill(
        {
            "Time zone": "Europe/Berlin",
            "Buffer between bookings (minutes)": "15",
            "Check in within (minutes after the start)": "10",
            "Escalate pending requests after (hours)": "0.5",
        },
        "#rules",
    )
    monday = _row(page, "mon")
    monday.find_element("css selector", "input[aria-label='Monday closes']").clear()
    monday.find_element("css selector", "input[aria-label='Monday closes']").send_keys("12:00")
    monday.find_element("xpath", ".//button[normalize-space()='Add hours']").click()
    opens = page.driver.switch_to.active_element  # the new span's first input has the focus
    opens.send_keys("13:00", Keys.TAB, "18:00")
    tuesday = _row(page, "tue")
    tuesday.find_element("xpath", ".//button[normalize-space()='Add hours']").send_keys(Keys.ENTER)
    page.driver.switch_to.active_element.send_keys("08:00", Keys.TAB, "24:00")
    page.click("Save rules", "#rules")
    page.wait_text("Rules saved.", "#toast")

    seen = api.client.get(f"/resources/{room['id']}", headers=admin.headers).json
    assert seen["time_zone"] == "Europe/Berlin"
    assert seen["rules"]["buffer_minutes"] == 15
    assert seen["rules"]["checkin_minutes"] == 10
    assert seen["rules"]["approval_deadline_hours"] == 0.5
    assert seen["rules"]["reminder_minutes"] is None  # left empty: no reminder
    assert seen["rules"]["opening_hours"]["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert seen["rules"]["opening_hours"]["tue"] == [["08:00", "24:00"]]
    assert seen["rules"]["opening_hours"]["wed"] == []

    # A span that ends before it starts is refused next to its day.
    wednesday = _row(page, "wed")
    wednesday.find_element("xpath", ".//button[normalize-space()='Add hours']").click()
    page.driver.switch_to.active_element.send_keys("18:00", Keys.TAB, "08:00")
    page.click("Save rules", "#rules")
    error = _row(page, "wed").find_element("css selector", ".field-error")
    page.wait(lambda d: "span" in error.text)

    start = (datetime.now(UTC) + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    page.fill(
        {
            "Blackout starts": _picker_value(start),
            "Blackout ends": _picker_value(start + timedelta(hours=3)),
            "Reason": "Floor cleaning",
        }
    )
    page.click("Add blackout")
    page.wait_text("Floor cleaning", "#blackouts")
    (blackout,) = api.client.get(f"/resources/{room['id']}/blackouts", headers=admin.headers).json[
        "blackouts"
    ]
    assert blackout["start"] == start.isoformat().replace("+00:00", "Z")
    assert blackout["reason"] == "Floor cleaning"
    page.screenshot("resource-rules")
    assert page.csp_violations() == []


def test_a_requester_sees_the_rules_before_submitting_and_closed_times_shaded(browser, api):
    admin, requester = api.admin(), api.user()
    weekdays = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    room = api.resource(
        admin, time_zone="Europe/Berlin", rules={"opening_hours": weekdays, "buffer_minutes": 30}
    )
    page = browser()
    page.sign_in(requester.username, requester.password)
    page.open("/app/submit")
    page.fill({"Resource": str(room["id"])})
    page.wait_text("Rules of " + room["name"], "#resource-rules")
    rules = page.text("#resource-rules")
    assert "Mon 08:00\u201318:00" in rules and "Sat closed" in rules and "Europe/Berlin" in rules
    assert "30 minutes free between bookings" in rules

    page.click("See when it is busy or closed", "#resource-rules")
    page.wait_text("Week calendar")
    closed = page.all("#week .slot-closed")
    assert closed, "closed times are shaded"
    saturday = page.all("#week section.day")[5]
    assert saturday.find_elements("css selector", ".slot-closed")  # closed all day
    assert "Closed" in saturday.text
    page.screenshot("calendar-closed")


def test_an_approver_decides_a_request_of_their_resource_from_their_queue(browser, api):
    admin, approver, requester = api.admin(), api.user(), api.user()
    room = api.resource(admin)
    other = api.resource(admin)
    path = f"/resources/{room['id']}/approvers"
    made = api.client.put(path, json={"user_ids": [approver.id]}, headers=admin.headers)
    assert made.status_code == 200, made.json
    mine = api.booking(requester, resource_id=room["id"], event_time=future(72))
    api.booking(requester, resource_id=other["id"], event_time=future(80))

    page = browser()
    page.sign_in(approver.username, approver.password)
    page.wait(lambda d: "Queue" in page.text("nav"))  # once the console knows they approve
    page.click("Queue", "nav")
    page.wait_text("Pending queue")
    cards = page.all("#queue li.booking")
    assert [card.get_attribute("data-id") for card in cards] == [str(mine["id"])]
    page.click("Accept", f"#queue li[data-id='{mine['id']}']")
    page.wait_text("Nothing is waiting for a decision.", "#queue")
    decided = api.client.get(f"/request/{mine['id']}", headers=requester.headers).json
    assert (decided["status"], decided["decided_by"]["id"]) == ("accepted", approver.id)
    page.screenshot("approver-queue")
