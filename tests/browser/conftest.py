"""Headless Chromium (Debian's chromium + chromedriver) against the portal served on
127.0.0.1. The server shares the test's connection, so the outer-transaction rollback
isolates browser tests like every other test; it serves one request at a time."""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import WSGIRequestHandler, make_server

ARTIFACTS = Path(os.environ.get("MADOGUCHI_ARTIFACTS", "test-artifacts"))


class _Handler(WSGIRequestHandler):
    # One request at a time (the test's connection is shared); an idle keep-alive socket
    # from Chromium must not hold the server, so give up on silent sockets quickly.
    timeout = 5


@pytest.fixture
def live_server(app):
    with serving(app) as base:
        yield base


@contextmanager
def serving(app):
    """The app on a free loopback port, one request at a time, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    for path in (browser, driver):
        if not Path(path).exists():
            pytest.fail(f"{path} missing: run scripts/system-deps.sh (Debian chromium, chromium-driver)")
    return browser, driver


@pytest.fixture(scope="session")
def browser():
    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,900", "--lang=ja", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.implicitly_wait(3)
    yield chrome
    chrome.quit()


@pytest.fixture
def page(browser, live_server, request):
    """The browser, cookies cleared, with `page.open(path)`, `page.follow(element)` and
    `page.shot(name)`."""
    browser.delete_all_cookies()

    class Page:
        driver = browser
        base = live_server

        def open(self, path: str):
            browser.get(live_server + path)
            return browser

        def follow(self, element, keys: str | None = None):
            """Click a link or submit button (or type `keys` ending in Enter into a field) and
            wait for the page it loads. The click returns before the next page replaces the
            old one, and a lookup made in between finds elements of the old page that go
            stale under it. The old page is marked; the wait ends when a page without the
            mark has loaded. Chromedriver may answer any error while the document changes,
            so errors during the wait are retried, not raised."""
            browser.execute_script("window.__madoguchiLeaving = true;")
            if keys is None:
                element.click()
            else:
                element.send_keys(keys)
            WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
                lambda d: d.execute_script("return !window.__madoguchiLeaving"
                                           " && document.readyState === 'complete';"))
            return browser

        def shot(self, name: str) -> Path:
            db = "postgresql" if os.environ.get("MADOGUCHI_TEST_DATABASE_URL") else "sqlite"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            path = ARTIFACTS / f"{name}-{db}.png"
            browser.save_screenshot(str(path))
            return path

        def adopt_session(self, client):
            """Give the browser the test client's signed-in session cookie."""
            cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
            self.open("/static/css/portal.css")  # a page of the origin, so the cookie can be set
            browser.add_cookie({"name": cookie.key, "value": cookie.value, "path": "/",
                                "secure": True, "httpOnly": True, "sameSite": "Strict"})

    yield Page()
    browser.delete_all_cookies()
