"""The kiosk warns before its idle logout: a countdown over the page, a tap keeps the
session, and at zero the screen is wiped back to the kiosk's start page."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

KIOSK = "idle-kiosk"


@pytest.fixture
def app_config(app_config):
    # a short idle time: the warning takes its last half (20 s of the real 120 s)
    return {**app_config, "KIOSK_IDLE_SECONDS": 6,
            "KIOSKS": {KIOSK: {"municipality": "392049", "name": "南国市立中央公民館"}}}


def test_a_countdown_warns_then_the_kiosk_wipes_itself(page, client, sign_in_as, make_city,
                                                       make_resident):
    city = make_city("392049", "南国市")
    person = make_resident(city, address="南国市見えない町9番地")
    sign_in_as(person, kiosk=True)
    with client.session_transaction() as sess:
        sess["kiosk_id"] = KIOSK
    page.adopt_session(client)
    driver = page.open("/me/")
    assert "南国市見えない町9番地" in driver.page_source
    warning = driver.find_element(By.ID, "kiosk-warning")
    assert not warning.is_displayed()
    WebDriverWait(driver, 10).until(EC.visibility_of(warning))
    assert int(driver.find_element(By.ID, "kiosk-countdown").text) <= 3
    page.shot("kiosk-idle-warning")
    driver.find_element(By.ID, "kiosk-keep").click()          # a tap keeps the session
    assert not warning.is_displayed()
    WebDriverWait(driver, 10).until(EC.visibility_of(driver.find_element(By.ID, "kiosk-warning")))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return location.pathname === arguments[0]", f"/kiosk/{KIOSK}"))
    assert "南国市見えない町9番地" not in driver.page_source
