"""The console end to end in headless Chromium: requesters submit, admins decide on overlaps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.console.conftest import BROWSER_TZ
from tests.support.api import PASSWORD

XSS = "<img src=x onerror=alert(1)>"


def _a_future_slot(days: int = 3) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )


def _local_picker_value(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(BROWSER_TZ)).strftime("%Y-%m-%dT%H:%M")


def _register_and_confirm(page, mailbox, username: str) -> str:
    email = f"{username}@example.com"
    page.open("/app/register")
    page.fill({"Username": username, "E-mail": email, "Password": PASSWORD})
    page.click("Register", "form")
    page.wait_text("We sent a confirmation link")
    token = mailbox.confirmation_link(email).rsplit("/", 1)[1]
    page.open(f"/app/confirm?token={token}")
    page.wait_text("confirmed")
    assert "token" not in page.driver.current_url  # the token leaves the address bar
    return email


def test_requester_submits_admin_sees_overlap_then_accepts_and_requester_sees_it(
    browser, api, mailbox
):
    admin = api.admin()
    other = api.user()
    slot = _a_future_slot()
    blocker = api.booking(other, topic="Board meeting", event_time=slot.isoformat(),
                          duration_minutes=60)  # fmt: skip
    assert api.decide(admin, "accept", blocker["id"]).status_code == 200

    page = browser()
    page.open("/app/")
    page.wait(lambda d: d.current_url.endswith("/app/sign-in"))
    page.screenshot("sign-in")
    page.open("/app/register")
    page.screenshot("register")
    _register_and_confirm(page, mailbox, "river")
    page.sign_in("river", PASSWORD)

    # The requester picks 10:30 in New York for 60 minutes: half an hour into the board meeting.
    wanted = slot - timedelta(minutes=30)
    page.open("/app/submit")
    page.fill({
        "Topic": XSS, "Starts": _local_picker_value(wanted), "Duration in minutes": "60",
        "Street": "1 Main Street", "City": "Springfield", "Country": "US",
    })  # fmt: skip
    page.screenshot("submit")
    page.click("Submit request", "form")
    page.wait(lambda d: d.current_url.endswith("/app/requests"))
    card = page.find("#my-requests li.booking")
    assert XSS in card.text and "pending" in card.text
    assert not page.all("main img"), "the topic was rendered as HTML"
    page.screenshot("my-requests")

    mine = api.client.get("/list_requests?status=pending", headers=admin.headers).json["bookings"]
    (submitted,) = [b for b in mine if b["topic"] == XSS]
    assert submitted["event_time"] == wanted.strftime("%Y-%m-%dT%H:%M:%SZ")  # sent with its offset
    assert submitted["address"]["country"] == "US"
    page.sign_out()

    page.sign_in(admin.username, admin.password)
    page.wait(lambda d: d.current_url.endswith("/app/queue"))
    card = page.find(f"#queue li[data-id='{submitted['id']}']")
    overlap = card.find_element("css selector", ".overlap")
    assert "Overlaps 1 accepted request" in overlap.text
    assert f"#{blocker['id']}" in overlap.text and "Board meeting" in overlap.text
    page.screenshot("queue")

    # Accepting over the board meeting is refused, and the answer names it.
    card.find_element("xpath", ".//button[normalize-space()='Accept']").click()
    error = page.find(f"#queue li[data-id='{submitted['id']}'] .action-error")
    page.wait(lambda d: str(blocker["id"]) in error.text)

    assert api.decide(admin, "cancel", blocker["id"], reason="moved").status_code == 200
    page.open("/app/queue")
    card = page.find(f"#queue li[data-id='{submitted['id']}']")
    assert "No overlap with accepted requests" in card.text
    card.find_element("xpath", ".//button[normalize-space()='Accept']").click()
    page.wait(lambda d: not page.all(f"#queue li[data-id='{submitted['id']}']"))

    page.open(f"/app/calendar?resource=1&week={wanted.astimezone(ZoneInfo(BROWSER_TZ)):%Y-%m-%d}")
    page.wait_text(XSS, ".week")
    assert not page.all("main img")
    page.screenshot("calendar")
    page.sign_out()

    page.sign_in("river", PASSWORD)
    page.open("/app/requests?status=accepted")
    card = page.find("#my-requests li.booking")
    assert "accepted" in card.text and admin.username in card.text
    card.find_element("xpath", ".//button[normalize-space()='History']").click()
    page.wait(lambda d: "pending → accepted" in card.text)
    assert page.csp_violations() == []


def test_requester_cancels_with_a_reason_and_sees_the_history(browser, api):
    requester = api.user()
    booking = api.booking(requester, topic="Team lunch talk")
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    card = page.find(f"#my-requests li[data-id='{booking['id']}']")
    card.find_element("xpath", ".//button[normalize-space()='Cancel request']").click()
    reason = card.find_element("css selector", "form.inline input")
    assert page.driver.switch_to.active_element == reason
    reason.send_keys("Plans changed")
    card.find_element("css selector", "form.inline button[type=submit]").click()
    card = page.find(f"#my-requests li[data-id='{booking['id']}'][data-status='cancelled']")
    assert "Plans changed" in card.text
    assert (
        api.client.get(f"/request/{booking['id']}", headers=requester.headers).json["status"]
        == "cancelled"
    )


def test_validation_errors_appear_next_to_their_fields(browser, api):
    requester = api.user()
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    page.open("/app/submit")
    page.fill({"Topic": "   ", "Street": "1 Main Street", "City": "Springfield",
               "Country": "FR", "Duration in minutes": "99999"})  # fmt: skip
    page.click("Submit request", "form")
    topic_error = page.find("[data-error-for='topic']")
    duration_error = page.find("[data-error-for='duration_minutes']")
    assert topic_error.text and duration_error.text
    assert page.field("Topic").get_attribute("aria-invalid") == "true"
    assert page.driver.current_url.endswith("/app/submit")


def test_admin_manages_resources_and_users(browser, api):
    admin = api.admin()
    someone = api.user()
    page = browser()
    page.sign_in(admin.username, admin.password)

    page.open("/app/resources")
    page.fill(
        {"Name": "Room <b>A</b>", "Description": "Second floor"},
        "form[aria-labelledby=new-resource]",
    )
    page.click("Add resource", "form[aria-labelledby=new-resource]")
    item = page.find("#resources li:last-child")
    page.wait(lambda d: "Room <b>A</b>" in item.text)
    assert not page.all("#resources b")
    resource_id = item.get_attribute("data-id")

    item.find_element("xpath", ".//button[normalize-space()='Rename']").click()
    name = item.find_element("css selector", "form.inline input[name=name]")
    name.clear()
    name.send_keys("Room A")
    item.find_element("css selector", "form.inline button[type=submit]").click()
    page.wait(lambda d: "Room A" in page.find(f"#resources li[data-id='{resource_id}']").text)

    # A taken name is reported next to the form.
    page.fill({"Name": "Main calendar"}, "form[aria-labelledby=new-resource]")
    page.click("Add resource", "form[aria-labelledby=new-resource]")
    page.wait(
        lambda d: "exists" in page.find("form[aria-labelledby=new-resource] .form-error").text
    )

    page.find(f"#resources li[data-id='{resource_id}']").find_element(
        "xpath", ".//button[normalize-space()='Deactivate']"
    ).click()
    page.wait(lambda d: "inactive" in page.find(f"#resources li[data-id='{resource_id}']").text)
    resources = api.client.get("/resources", headers=admin.headers).json["resources"]
    assert {"id": int(resource_id), "name": "Room A", "active": False}.items() <= next(
        r for r in resources if r["id"] == int(resource_id)
    ).items()
    page.screenshot("resources")

    page.open("/app/users")
    row = page.find(f"#users li[data-id='{someone.id}']")
    row.find_element("xpath", ".//button[normalize-space()='Disable']").click()
    page.wait(lambda d: "disabled" in page.find(f"#users li[data-id='{someone.id}']").text)
    row = page.find(f"#users li[data-id='{someone.id}']")
    row.find_element("xpath", ".//button[normalize-space()='Make admin']").click()
    page.wait(lambda d: "Make requester" in page.find(f"#users li[data-id='{someone.id}']").text)
    user = api.client.get(f"/user/{someone.id}", headers=admin.headers).json
    assert (user["role"], user["status"]) == ("admin", "disabled")
    page.screenshot("users")

    # The last active admin cannot demote themselves: the refusal shows at the row.
    api.client.patch(f"/user/{someone.id}", json={"role": "requester"}, headers=admin.headers)
    page.open("/app/users?role=admin")
    mine = page.find(f"#users li[data-id='{admin.id}']")
    mine.find_element("xpath", ".//button[normalize-space()='Make requester']").click()
    page.wait(lambda d: "admin" in page.find(f"#users li[data-id='{admin.id}'] .action-error").text)
    assert page.csp_violations() == []


def test_cookie_refresh_survives_a_reload_and_no_token_is_stored(browser, api):
    requester = api.user()
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    page.open("/app/requests")
    page.driver.refresh()
    page.wait_idle()
    assert page.find("nav a.who").text == requester.username
    page.find("#my-requests")
    storage = page.driver.execute_script(
        "return [localStorage.length, sessionStorage.length, document.cookie]"
    )
    assert storage[:2] == [0, 0]
    assert "refresh_token_cookie" not in storage[2]  # HttpOnly: no script can read it
    assert "csrf_refresh_token=" in storage[2]
    page.sign_out()
    page.driver.refresh()
    page.wait_idle()
    assert page.driver.current_url.endswith("/app/sign-in")
    assert not page.all("#sign-out")


def test_keyboard_alone_signs_in_and_submits(browser, api):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    requester = api.user()
    page = browser()
    page.open("/app/sign-in")
    keys = ActionChains(page.driver)

    def tab_to(label: str, limit: int = 40) -> None:
        for _ in range(limit):
            ActionChains(page.driver).send_keys(Keys.TAB).perform()
            if page.active() == label:
                return
        raise AssertionError(f"Tab never reached {label!r}")

    tab_to("Username or e-mail")
    keys.send_keys(requester.username).perform()
    tab_to("Password")
    ActionChains(page.driver).send_keys(PASSWORD, Keys.ENTER).perform()
    page.find("#sign-out")
    page.wait_idle()

    tab_to("New request")
    ActionChains(page.driver).send_keys(Keys.ENTER).perform()
    page.wait(lambda d: d.current_url.endswith("/app/submit"))
    page.wait_idle()
    for label, text in [("Topic", "Typed with the keyboard"), ("Street", "2 Side Road"),
                        ("City", "Lyon"), ("Country", "France")]:  # fmt: skip
        tab_to(label)
        ActionChains(page.driver).send_keys(text).perform()
    tab_to("Submit request")
    ActionChains(page.driver).send_keys(Keys.ENTER).perform()
    page.wait(lambda d: d.current_url.endswith("/app/requests"))
    page.wait_text("Typed with the keyboard")
    (booking,) = api.client.get("/my_requests", headers=requester.headers).json["bookings"]
    assert booking["address"]["country"] == "FR"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", booking["event_time"])
    assert datetime.fromisoformat(booking["event_time"]) > datetime.now(UTC)


def test_admin_cancels_an_accepted_request_with_a_reason(browser, api):
    from selenium.webdriver.common.keys import Keys

    admin = api.admin()
    requester = api.user()
    booking = api.booking(requester, topic="Launch party")
    assert api.decide(admin, "accept", booking["id"]).status_code == 200
    page = browser()
    page.sign_in(admin.username, admin.password)
    page.click("Accepted", "nav")
    card = page.find(f"#accepted li[data-id='{booking['id']}']")
    card.find_element("xpath", ".//button[normalize-space()='Cancel']").click()
    reason = card.find_element("css selector", "form.inline input")
    reason.send_keys(Keys.ESCAPE)  # Escape closes the reason form, back on its button
    assert not reason.is_displayed()
    card.find_element("xpath", ".//button[normalize-space()='Cancel']").click()
    reason.send_keys("Venue closed", Keys.ENTER)
    page.wait(lambda d: "cancelled" in page.find(f"#accepted li[data-id='{booking['id']}']").text)
    done = api.client.get(f"/request/{booking['id']}", headers=admin.headers).json
    assert (done["status"], done["reason"]) == ("cancelled", "Venue closed")


def test_requester_checks_in_during_the_window(browser, api):
    from tests.support.api import future

    requester, admin = api.user(), api.admin()
    soon = api.booking(requester, topic="Stand-up", event_time=future(0, 10))
    later = api.booking(requester, topic="Retro", event_time=future(48))
    for booking in (soon, later):
        assert api.decide(admin, "accept", booking["id"]).status_code == 200
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    page.find(f"#my-requests li[data-id='{later['id']}']")
    assert not page.all(f"#my-requests li[data-id='{later['id']}'] button.primary")
    card = page.find(f"#my-requests li[data-id='{soon['id']}']")
    card.find_element("xpath", ".//button[normalize-space()='Check in']").click()
    page.wait(lambda d: "Checked in" in page.find(f"#my-requests li[data-id='{soon['id']}']").text)
    seen = api.client.get(f"/request/{soon['id']}", headers=requester.headers).json
    assert seen["checked_in_at"] is not None
