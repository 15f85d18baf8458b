"""The public verification page in headless Chromium: type the code from the paper."""
from __future__ import annotations

from selenium.webdriver.common.by import By


def test_typed_code_is_confirmed(page, terminal, hanako, bind_card):
    terminal.start(bind_card(hanako))
    terminal.quote("juminhyo")
    code = terminal.pay("browser-key-01", 200).get_json()["certificate"]["verification_code"]
    browser = page.open("/services/convenience_issuance/verify")
    field = browser.find_element(By.ID, "code")
    field.send_keys(code.replace("-", "").lower())
    page.follow(browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    result = browser.find_element(By.ID, "verification-result")
    assert "南国市が交付したもの" in result.text
    assert "住民票の写し" in result.text and "高＊" in result.text
    page.shot("convenience-issuance-verify")
    assert browser.execute_script("return document.querySelectorAll('script:not([src])').length") == 0


def test_reference_terminal_page_loads_its_script(page, city, clock):
    browser = page.open(f"/services/convenience_issuance/terminal?municipality={city.code}")
    assert browser.find_element(By.ID, "start").is_displayed()
    assert browser.find_element(By.ID, "step-choose").is_displayed() is False
    logs = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
    assert logs == [], logs
    page.shot("convenience-issuance-terminal")
