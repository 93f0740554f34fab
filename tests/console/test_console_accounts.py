"""The console's account pages in headless Chromium: password reset, change, sessions, feeds.

These use `/forgot_password`, `/reset_password`, `/change_password`,
`/sessions` and the resources' `calendar_url`, which the contract fixes and
the accounts and integrators work provides.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.support.api import PASSWORD, bearer

NEW_PASSWORD = "a brand new passphrase"


def _reset_link(mailbox, email: str) -> str:
    """The e-mailed link (sent after the answer, so waited for), on the live test server."""
    link = urlsplit(mailbox.reset_link(email))
    assert link.path == "/app/reset-password", link
    return f"{link.path}?{link.query}"


def test_password_reset_through_the_emailed_link(browser, api, mailbox):
    requester = api.user()
    page = browser()
    page.open("/app/sign-in")
    page.click("Forgot your password?")
    page.fill({"E-mail": requester.email})
    page.click("E-mail me a reset link", "form")
    page.find(".notice")
    page.screenshot("forgot-password")

    page.open(_reset_link(mailbox, requester.email))
    assert "token" not in page.driver.current_url  # kept out of history and referrers
    page.fill({"New password": NEW_PASSWORD, "New password again": NEW_PASSWORD})
    page.screenshot("reset-password")
    page.click("Set the new password", "form")
    page.wait_text("Your password is changed")

    assert api.login(requester.username, PASSWORD).status_code == 401
    page.sign_in(requester.username, NEW_PASSWORD)
    assert page.csp_violations() == []


def test_a_used_reset_link_says_so_and_offers_a_new_one(browser, api, mailbox):
    requester = api.user()
    assert api.client.post("/forgot_password", json={"email": requester.email}).status_code == 202
    link = _reset_link(mailbox, requester.email)
    token = link.split("token=", 1)[1]
    body = {"token": token, "password": NEW_PASSWORD}
    assert api.client.post("/reset_password", json=body).status_code == 200
    page = browser()
    page.open(link)
    page.fill(
        {"New password": "another new passphrase", "New password again": "another new passphrase"}
    )
    page.click("Set the new password", "form")
    page.wait(lambda d: "forgot-password page" in page.find(".form-error").text)


def test_change_password_keeps_this_session_and_ends_the_others(browser, api):
    requester = api.user()  # logged in through the API too: another session
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    page.open("/app/account")
    form = "form[aria-labelledby=password-title]"
    page.fill({"Current password": "not my password", "New password": NEW_PASSWORD}, form)
    page.click("Change password", form)
    page.wait(lambda d: page.find("[data-error-for='current_password']").text != "")

    page.fill({"Current password": PASSWORD, "New password": NEW_PASSWORD}, form)
    page.click("Change password", form)
    page.wait_text("Password changed", "#toast")

    assert api.client.get("/me", headers=requester.headers).status_code == 401
    page.driver.refresh()  # the new refresh cookie carries this session on
    page.wait_idle()
    assert page.find("nav a.who").text == requester.username
    assert api.login(requester.username, NEW_PASSWORD).status_code == 200


def test_sessions_are_listed_and_can_be_ended(browser, api):
    requester = api.user()  # session one: the API client
    page = browser()
    page.sign_in(requester.username, PASSWORD)  # session two: this browser
    page.open("/app/account")
    section = "section[aria-labelledby=sessions-title]"
    page.wait_idle()
    page.wait(lambda d: len(page.all(f"{section} li")) == 2)
    assert "this session" in page.text(section)
    page.screenshot("account")

    page.click("End session", section)
    page.wait(lambda d: len(page.all(f"{section} li")) == 1)
    assert api.client.get("/me", headers=requester.headers).status_code == 401
    assert api.client.post("/refresh", headers=requester.refresh_headers).status_code == 401

    page.click("Sign out here", section)
    page.wait(lambda d: d.current_url.endswith("/app/sign-in"))
    page.driver.refresh()
    page.wait_idle()
    assert not page.all("#sign-out")
    assert page.csp_violations() == []


def test_sign_out_everywhere_ends_every_session(browser, api):
    requester = api.user()
    page = browser()
    page.sign_in(requester.username, PASSWORD)
    page.open("/app/account")
    page.click("Sign out everywhere")
    page.wait(lambda d: d.current_url.endswith("/app/sign-in"))
    assert (
        api.client.get("/me", headers=bearer(requester.tokens["access_token"])).status_code == 401
    )


def test_admin_copies_a_resources_calendar_feed_link(browser, api):
    admin = api.admin()
    resource = next(
        r
        for r in api.client.get("/resources", headers=admin.headers).json["resources"]
        if r["id"] == 1
    )
    page = browser()
    page.driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": page.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    page.sign_in(admin.username, admin.password)
    page.open("/app/resources")
    card = page.find("#resources li[data-id='1']")
    assert (
        page.field("Calendar feed (subscribe in a calendar app; keep it secret)").get_attribute(
            "value"
        )
        == resource["calendar_url"]
    )
    card.find_element("xpath", ".//button[normalize-space()='Copy feed link']").click()
    page.wait_text("copied", "#toast")
    copied = page.driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))"
    )
    assert copied == resource["calendar_url"]
