"""The reference store terminal in headless Chromium, the whole way: the card bridge signs
with the virtual card on the real pcscd (PIN on the bridge's on-screen pad), the terminal
page chooses a 住民票, pays, receives the signed PDF and reports the print; and when the
PDF cannot be made, the resident is told the fee is handed back."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select

from portal.tenancy.models import Municipality
from services.convenience_issuance.models import IssuanceRequest, Payment
from services.convenience_issuance.signing import KeyRing
from tests.browser.test_accessibility import axe_violations
from tests.cardlogin.test_browser_bridge import bind_in_advance, wait
from tests.cardlogin.conftest import PIN
from tests.convenience_issuance.conftest import clock, keys, municipal_keys  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.card]
TERMINAL = "/services/convenience_issuance/terminal?municipality=392049"


def sign_in_at_the_terminal(page) -> str:
    """Start, tap the PIN on the bridge's pad (a kiosk bridge goes straight to it once the
    terminal page has answered its hello): back at the terminal's offers."""
    driver = page.open(TERMINAL)
    terminal = driver.current_window_handle
    driver.find_element(By.ID, "start").click()
    wait(driver).until(lambda d: len(d.window_handles) == 2)
    driver.switch_to.window(next(h for h in driver.window_handles if h != terminal))
    wait(driver).until(EC.visibility_of_element_located((By.ID, "pinpad")))
    for digit in PIN:
        driver.find_element(By.CSS_SELECTOR, f'#pinpad button[data-key="{digit}"]').click()
    driver.find_element(By.ID, "submit-pin").click()
    driver.switch_to.window(terminal)
    wait(driver, 15).until(EC.visibility_of_element_located((By.ID, "step-choose")))
    return terminal


def choose_juminhyo_and_pay(page) -> str:
    driver = page.driver
    offer = next(b for b in driver.find_elements(By.CSS_SELECTOR, "#offers button")
                 if "住民票の写し" in b.text)
    offer.click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "step-options")))
    driver.find_element(By.ID, "options-next").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "step-pay")))
    quote = driver.find_element(By.ID, "quote").text
    driver.find_element(By.ID, "pay").click()
    status = driver.find_element(By.ID, "status")
    wait(driver, 20).until(lambda d: "印刷" in status.text and "印刷しています" not in status.text)
    return quote, status.text


def test_terminal_issues_a_juminhyo_with_the_card(page, start_bridge, client, db, hanako,
                                                  hanako_card, card_on_reader, clock, keys):
    bind_in_advance(client, hanako_card)
    start_bridge(kiosk=True)
    sign_in_at_the_terminal(page)
    holder = page.driver.find_element(By.ID, "holder").text
    assert "南国市" in holder and "花子" not in holder          # the name is masked on screen
    page.shot("terminal-offers")
    quote, status = choose_juminhyo_and_pay(page)
    assert "住民票の写し" in quote and "円" in quote
    assert "印刷が終わりました" in status
    assert page.driver.find_element(By.ID, "start").is_displayed()   # ready for the next person
    page.shot("terminal-printed")
    with db.transaction(hanako.municipality_id) as s:
        request = s.scalar(select(IssuanceRequest).where(IssuanceRequest.resident_id == hanako.id))
        assert request.state.value == "printed"
        assert s.scalar(select(Payment).where(Payment.request_id == request.id)) is not None


@pytest.mark.parametrize("lang, nankoku", [("ja", "南国市"), ("en", "Nankoku")])
def test_the_holder_line_names_the_city_in_the_pages_language(page, start_bridge, client, db, city,
                                                              hanako, hanako_card, card_on_reader,
                                                              clock, lang, nankoku):
    with db.transaction() as s:
        s.get(Municipality, city.id).name_en = "Nankoku"
    bind_in_advance(client, hanako_card)
    start_bridge(kiosk=True)
    page.open(f"/lang/{lang}?next=/")
    sign_in_at_the_terminal(page)
    holder = page.driver.find_element(By.ID, "holder").text
    assert holder.endswith(f" — {nankoku}") and "花子" not in holder
    page.shot(f"terminal-holder-{lang}")


def test_terminal_says_the_fee_is_returned_when_no_pdf_can_be_made(app, page, start_bridge, client,
                                                                   db, hanako, hanako_card,
                                                                   card_on_reader, clock):
    """No signing key for the city: the PDF fails, the terminal reports it, the fee goes back."""
    app.extensions["convenience_issuance.keys"] = KeyRing({}, allow_development=False)
    bind_in_advance(client, hanako_card)
    start_bridge(kiosk=True)
    sign_in_at_the_terminal(page)
    _, status = choose_juminhyo_and_pay(page)
    assert "印刷できませんでした" in status and "お返しします" in status
    page.shot("terminal-refunded")
    with db.transaction(hanako.municipality_id) as s:
        request = s.scalar(select(IssuanceRequest).where(IssuanceRequest.resident_id == hanako.id))
        assert request.state.value == "failed"


CONTRAST = """
const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
const lum = (c) => { const [r, g, b] = rgb(c).map((v) => { v /= 255;
  return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const style = getComputedStyle(arguments[0]);
const [a, b] = [lum(style.color), lum(style.backgroundColor)];
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);"""


def test_terminal_states_are_readable_and_reasons_are_text(page, start_bridge, client, hanako,
                                                           hanako_card, card_on_reader, clock, keys):
    """Hover, focus and unavailable at 4.5:1 or better; why 印鑑登録証明書 cannot be had
    (no seal registration) is text on screen, not a tooltip; the 記載事項 appear only once
    a certificate is chosen, as finger-sized rows with the box beside its words."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    bind_in_advance(client, hanako_card)
    start_bridge(kiosk=True)
    sign_in_at_the_terminal(page)
    driver = page.driver
    assert not driver.find_element(By.ID, "certificate-options").is_displayed()
    tiles = {b.text.split("　")[0]: b for b in driver.find_elements(By.CSS_SELECTOR, "#offers button")}
    inkan = tiles["印鑑登録証明書"]
    assert not inkan.is_enabled() and not inkan.get_attribute("title")
    reason = driver.find_element(By.ID, inkan.get_attribute("aria-describedby"))
    assert reason.is_displayed() and "印鑑登録がないため" in reason.text
    assert driver.execute_script(CONTRAST, inkan) >= 4.5
    juminhyo = tiles["住民票の写し"]
    assert driver.execute_script(CONTRAST, juminhyo) >= 4.5
    ActionChains(driver).move_to_element(juminhyo).perform()
    hovered = driver.execute_script(CONTRAST, juminhyo)
    assert hovered >= 4.5, hovered
    driver.execute_script("arguments[0].focus()", juminhyo)   # then by keyboard: :focus-visible
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT) \
        .send_keys(Keys.TAB).perform()
    assert driver.switch_to.active_element == juminhyo
    assert driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", juminhyo) == "solid"
    assert axe_violations(driver) == []
    page.shot("terminal-offers-states")
    juminhyo.click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "step-options")))
    labels = [l for l in driver.find_elements(By.CSS_SELECTOR, "#certificate-options label")
              if l.is_displayed()]
    assert len(labels) == 3 and "世帯全員" in labels[0].text
    for label in labels:
        box = label.find_element(By.TAG_NAME, "input").rect
        row = label.rect
        assert row["height"] >= 44 and box["width"] <= 40
        assert box["y"] >= row["y"] and box["y"] + box["height"] <= row["y"] + row["height"]  # beside, not above
    assert axe_violations(driver) == []
    page.shot("terminal-options")
