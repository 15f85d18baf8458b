"""The sign-in page asks the bridge's /status first.  No bridge: it offers to start one through
the madoguchi-bridge: URL scheme and, when none comes, shows the help page in plain Japanese,
never a browser error.  A bridge older than CARD_BRIDGE_MIN_VERSION: the resident is told to
update.  (Signing in through a running bridge: test_browser_bridge.py.)"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from madoguchi_smartcard.bridge.version import VERSION
from tests.cardlogin.test_browser_bridge import wait

pytestmark = pytest.mark.browser


@pytest.fixture
def min_version() -> str:
    return VERSION


@pytest.fixture
def app_config(app_config, min_version):
    return {**app_config, "CARD_BRIDGE_LAUNCH_WAIT_S": 1, "CARD_BRIDGE_MIN_VERSION": min_version}


@pytest.fixture
def own_tab(page):
    """A tab of its own for a test that follows the madoguchi-bridge: link.  Headless Chromium
    keeps the "open this app?" prompt of an unknown scheme pending in that tab, and a tab
    with a pending prompt ignores later clicks: closing the tab ends it."""
    first = page.driver.current_window_handle
    page.driver.switch_to.new_window("tab")
    yield page
    page.driver.close()
    page.driver.switch_to.window(first)


def click_sign_in(page) -> None:
    page.open("/auth/login")
    wait(page.driver).until(EC.element_to_be_clickable((By.ID, "card-login-start"))).click()


def offer(page):
    """The offer to start the bridge, once the page has found none."""
    return wait(page.driver).until(EC.visibility_of_element_located((By.ID, "card-bridge-absent")))


def test_without_a_bridge_the_resident_lands_on_the_help_page(own_tab, live_server):
    page = own_tab
    click_sign_in(page)
    shown = offer(page)
    assert "カード用アプリが起動していません" in page.driver.find_element(By.ID, "card-login-status").text
    page.shot("cardlogin-bridge-absent")
    shown.find_element(By.ID, "card-bridge-launch").click()  # nothing handles the scheme here
    wait(page.driver).until(lambda d: urlsplit(d.current_url).path == "/auth/card-bridge/")
    assert page.driver.current_url.startswith(live_server)  # the portal's page, not an error page
    body = page.driver.find_element(By.TAG_NAME, "main").text
    assert "カード用アプリ（マイナンバーカード連携アプリ）をインストールしてください" in body
    assert "暗証番号はカード用アプリの画面だけで入力し" in body
    page.shot("cardlogin-bridge-help")


def test_a_bridge_started_after_the_offer_is_found(own_tab, start_bridge):
    page = own_tab
    click_sign_in(page)
    link = offer(page).find_element(By.ID, "card-bridge-launch")
    start_bridge()  # as the URL-scheme handler would
    link.click()
    status = page.driver.find_element(By.ID, "card-login-status")
    wait(page.driver).until(lambda d: "カード用アプリが起動しました" in status.text)
    assert not page.driver.find_element(By.ID, "card-bridge-absent").is_displayed()
    assert page.driver.find_element(By.ID, "card-login-start").is_enabled()
    assert urlsplit(page.driver.current_url).path == "/auth/login"


@pytest.mark.parametrize("min_version", ["99.0"])
def test_an_old_bridge_is_told_to_update(page, start_bridge):
    start_bridge()
    click_sign_in(page)
    wait(page.driver).until(lambda d: urlsplit(d.current_url).path == "/auth/card-bridge/")
    assert parse_qs(urlsplit(page.driver.current_url).query) == {"reason": ["outdated"], "found": [VERSION]}
    body = page.driver.find_element(By.TAG_NAME, "main").text
    assert f"お使いのカード用アプリ（バージョン {VERSION}）は古いため" in body and "99.0 以降" in body
