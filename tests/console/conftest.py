"""The console in headless Chromium (apt's chromium and chromium-driver) against a live app.

`console` serves this test's app on a loopback port; `browser()` opens a
Chromium driven by Selenium, its time zone set so that the time picked in
the browser and the UTC time the API stores differ. Screenshots go to
`SCREENSHOT_DIR` (default reports/screenshots).
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support import services

BROWSER_TZ = "America/New_York"
DESKTOP = (1280, 900)
PHONE = (375, 812)
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "reports/screenshots"))
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--lang=en-US", "--hide-scrollbars",
    # No name resolves but the loopback server's: the console must work with no internet.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]  # fmt: skip


@pytest.fixture
def stack():
    return ("sqlite", "database")


@pytest.fixture
def live(app) -> Iterator[str]:
    server = make_server("127.0.0.1", services.free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        services.unavailable("chromium and chromium-driver are not installed (apt-get install)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        services.unavailable("selenium is not installed (pip install -e '.[dev]')")
    return chromium, driver


@pytest.fixture
def browser(live, tmp_path) -> Iterator[Callable[[], Console]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = _binaries()
    opened: list[Console] = []

    def open_browser() -> Console:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in CHROMIUM_ARGS:
            options.add_argument(arg)
        options.add_argument(f"--user-data-dir={tmp_path / f'profile{len(opened)}'}")
        options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=chromedriver, env={**os.environ, "TZ": BROWSER_TZ})
        driver = webdriver.Chrome(options=options, service=service)
        driver.set_page_load_timeout(30)
        console = Console(driver, live)
        opened.append(console)
        return console

    yield open_browser
    for console in opened:
        console.driver.quit()


@dataclass
class Console:
    """A browser on the console, with the steps a person takes."""

    driver: object
    url: str

    def open(self, path: str) -> None:
        self.driver.get(self.url + path)
        self.wait_idle()

    def wait(self, condition, timeout: float = 10):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        # A row redrawn between finding it and reading it is simply looked up again.
        waiting = WebDriverWait(
            self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]
        )
        return waiting.until(condition)

    def find(self, css: str, timeout: float = 10):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait(ec.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)

    def all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def wait_text(self, text: str, css: str = "main", timeout: float = 10) -> None:
        self.wait(lambda d: text in self.find(css).text, timeout)

    def wait_idle(self) -> None:
        """Until the page has drawn (no "Loading…") and no request of ours is running."""
        self.wait(
            lambda d: d.execute_script(
                "return document.readyState === 'complete' && "
                "document.querySelector('main[data-ready]') !== null && "
                "!document.querySelector('button:disabled')"
            )
        )

    def field(self, label: str, form: str = "main"):
        """The control labelled `label` (exactly, optional marker aside)."""
        for element in self.all(f"{form} label"):
            if element.text.replace(" (optional)", "").strip() == label:
                return self.driver.find_element("id", element.get_attribute("for"))
        raise AssertionError(f"no field labelled {label!r}")

    def fill(self, values: dict[str, str], form: str = "main") -> None:
        from selenium.webdriver.support.ui import Select

        for label, value in values.items():
            control = self.field(label, form)
            if control.tag_name == "select":
                Select(control).select_by_value(value)
            elif control.get_attribute("type") == "datetime-local":
                self.driver.execute_script(
                    "arguments[0].value = arguments[1];"
                    "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
                    control, value,
                )  # fmt: skip
            else:
                control.clear()
                control.send_keys(value)

    def click(self, text: str, css: str = "main") -> None:
        """Click the button or link whose text is `text`, inside `css`."""
        for element in self.all(f"{css} button, {css} a"):
            if element.is_displayed() and element.text.strip() == text:
                element.click()
                self.wait_idle()
                return
        raise AssertionError(f"no visible button or link {text!r} in {css}")

    def sign_in(self, username: str, password: str) -> None:
        self.open("/app/sign-in")
        self.fill({"Username or e-mail": username, "Password": password})
        self.click("Sign in", "form")
        self.find("#sign-out")

    def sign_out(self) -> None:
        self.find("#sign-out").click()
        self.find("form button[type=submit]")
        self.wait(lambda d: d.current_url.endswith("/app/sign-in"))

    def active(self) -> str:
        return (
            self.driver.execute_script(
                "const e = document.activeElement;"
                "return e.labels && e.labels.length ? e.labels[0].textContent : e.textContent;"
            )
            .replace(" (optional)", "")
            .strip()
        )

    def csp_violations(self) -> list[str]:
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
        ]

    def screenshot(self, name: str) -> None:
        """Save the page at desktop size and at 375 px, and check nothing overflows sideways."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        self.driver.execute_script("document.activeElement && document.activeElement.blur()")
        self.driver.execute_script("document.getElementById('toast').hidden = true")
        stray = self.driver.execute_script(
            "const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);"
            "const found = [];"
            "while (walk.nextNode()) {"
            "  const t = walk.currentNode.textContent.trim();"
            "  if (t === 'null' || t === 'undefined' || t === 'NaN') found.push(t);"
            "}"
            "return found;"
        )
        assert stray == [], f"{name} shows {stray}"
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            self.driver.set_window_size(width, height)
            time.sleep(0.3)
            overflow = self.driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            shot = self.driver.execute_cdp_cmd(
                "Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip}
            )  # the whole page, not only what fits the window
            (SCREENSHOT_DIR / f"{name}-{label}.png").write_bytes(base64.b64decode(shot["data"]))
        self.driver.set_window_size(*DESKTOP)
