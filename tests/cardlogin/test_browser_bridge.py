"""Must show: card login in headless Chromium through the card bridge, with the virtual card
on the real pcscd.  The portal page never sees the PIN: it is typed into the bridge's window
(another origin), and only the signed token comes back by postMessage."""
from __future__ import annotations

import time
from datetime import date
from urllib.parse import quote, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from portal.cards.models import CardBinding
from portal.sessions.models import UserSession
from tests.cards.conftest import CardClient, enroll_token
from tests.cardlogin.conftest import HOME, KIOSK_ID, PIN, PORT_A, READER_A, serve, stop

pytestmark = [pytest.mark.browser, pytest.mark.card]


def wait(driver, seconds: float = 10):
    return WebDriverWait(driver, seconds, poll_frequency=0.05)


def bind_in_advance(client, card) -> None:
    """An earlier enrollment (through the test client): the card is already bound."""
    cards = CardClient(client)
    first = cards.login(card).get_json()
    assert first["status"] == "enrollment_required", first
    assert cards.post("/auth/enroll", enroll_token(card, first["nonce"])).get_json()["status"] == "signed_in"


def adopt_session(page, client) -> None:
    """page.adopt_session without its /healthz visit: on SQLite that page opens a second
    connection whose BEGIN IMMEDIATE waits 30 s for the test's open write transaction."""
    cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    page.open("/static/js/portal.js")  # a page of the origin, so the cookie can be set
    page.driver.add_cookie({"name": cookie.key, "value": cookie.value, "path": "/", "secure": True,
                            "httpOnly": True, "sameSite": "Strict"})


class CardLogin:
    """The resident's hands: the portal window and the bridge window it opens."""

    def __init__(self, page):
        self.page, self.driver = page, page.driver
        self.portal = None

    def open_bridge(self, start_path: str = "/auth/login") -> None:
        driver = self.driver
        self.page.open(start_path)
        self.portal = driver.current_window_handle
        # (a kiosk page enables it once its bridge says it runs in kiosk mode)
        wait(driver).until(EC.element_to_be_clickable((By.ID, "card-login-start"))).click()
        wait(driver).until(lambda d: len(d.window_handles) == 2)
        driver.switch_to.window(next(h for h in driver.window_handles if h != self.portal))
        # a home bridge asks to confirm the site; a kiosk's goes on to the PIN pad
        wait(driver).until(EC.any_of(EC.visibility_of_element_located((By.ID, "step-origin")),
                                     EC.visibility_of_element_located((By.ID, "step-pin"))))

    def confirm_origin(self) -> None:
        # enabled once the portal page has answered the bridge's hello
        wait(self.driver).until(EC.element_to_be_clickable((By.ID, "confirm-origin"))).click()
        wait(self.driver).until(EC.visibility_of_element_located((By.ID, "pin")))

    def type_pin(self, pin: str) -> None:
        self.driver.find_element(By.ID, "pin").send_keys(pin)

    def tap_pin(self, pin: str) -> None:
        for digit in pin:
            self.driver.find_element(By.CSS_SELECTOR, f'#pinpad button[data-key="{digit}"]').click()

    def submit_pin(self) -> None:
        self.driver.find_element(By.ID, "submit-pin").click()

    def to_portal(self) -> None:
        self.driver.switch_to.window(self.portal)

    def to_bridge(self) -> None:
        self.driver.switch_to.window(next(h for h in self.driver.window_handles if h != self.portal))

    def wait_for_path(self, path: str, seconds: float = 15) -> None:
        wait(self.driver, seconds).until(lambda d: urlsplit(d.current_url).path == path)

    def wait_bridge_closed(self) -> None:
        wait(self.driver).until(lambda d: len(d.window_handles) == 1)

    def sign_in(self, pin: str, start_path: str = "/auth/login", lands_on: str = "/") -> None:
        """The whole card sign-in of a bound card: bridge, origin, PIN, back to the portal."""
        self.open_bridge(start_path)
        self.confirm_origin()
        self.type_pin(pin)
        self.submit_pin()
        self.to_portal()
        self.wait_for_path(lands_on)
        self.wait_bridge_closed()


def test_resident_signs_in_at_home_through_the_bridge(page, start_bridge, client, hanako, hanako_card,
                                                      card_on_reader, live_server):
    bind_in_advance(client, hanako_card)
    start_bridge()
    login = CardLogin(page)
    login.open_bridge()
    driver = page.driver
    shown = driver.find_element(By.ID, "origin-shown").text
    assert live_server in shown  # the resident sees who asks before typing anything
    assert not driver.find_element(By.ID, "pin").is_displayed()
    page.shot("cardlogin-bridge-origin")
    login.confirm_origin()
    login.type_pin(PIN)
    page.shot("cardlogin-bridge-pin")
    login.to_portal()  # the portal page cannot look into the bridge's window (another origin)
    peek = driver.execute_script(
        "try { return window.open('', 'madoguchi-bridge').document.getElementById('pin').value; }"
        " catch (e) { return e.name; }")
    assert peek == "SecurityError"
    login.to_bridge()
    login.submit_pin()
    login.to_portal()
    login.wait_for_path("/")
    login.wait_bridge_closed()  # the portal said "done": the bridge window closed itself
    page.shot("cardlogin-signed-in")
    assert HOME in page.open("/me/").page_source
    assert PIN not in driver.current_url


def test_first_time_enrollment(page, start_bridge, hanako, hanako_card, card_on_reader, db, city):
    start_bridge()
    login = CardLogin(page)
    login.open_bridge()
    login.confirm_origin()
    login.type_pin(PIN)
    login.submit_pin()
    login.to_portal()
    status = page.driver.find_element(By.ID, "card-login-status")
    wait(page.driver).until(lambda d: "はじめてのご利用です" in status.text)
    page.shot("cardlogin-enrollment-asked")
    login.to_bridge()
    password = wait(page.driver).until(EC.visibility_of_element_located((By.ID, "password")))
    password.send_keys("abc123")  # typed in lower case: the bridge upper-cases it
    assert password.get_attribute("value") == "ABC123"
    page.shot("cardlogin-bridge-password")
    page.driver.find_element(By.ID, "submit-password").click()
    login.to_portal()
    login.wait_for_path("/")
    page.shot("cardlogin-enrolled")
    assert HOME in page.open("/me/").page_source
    with db.transaction(city.id) as s:
        binding = s.scalar(select(CardBinding))
        assert binding.resident_id == hanako.id
        assert binding.serial == format(hanako_card.meta["auth_serial"], "x")


def test_enrollment_refused_by_the_registry_is_explained_in_both_windows(page, start_bridge, card_pki,
                                                                         city, pcsc_stack):
    """A card whose holder the registry does not know: the portal refuses and says why."""
    stranger = card_pki.issue_card(name="土佐　次郎", birth_date=date(1977, 7, 7), sex="1",
                                   address="高知県高知市本町１丁目", pin=PIN, password="ABC123")
    server = serve(stranger, PORT_A, READER_A, pcsc_stack)
    try:
        start_bridge()
        login = CardLogin(page)
        login.open_bridge()
        login.confirm_origin()
        login.type_pin(PIN)
        login.submit_pin()
        login.to_bridge()
        wait(page.driver).until(EC.visibility_of_element_located((By.ID, "password"))).send_keys("ABC123")
        page.driver.find_element(By.ID, "submit-password").click()
        message = wait(page.driver).until(EC.visibility_of_element_located((By.ID, "message")))
        wait(page.driver).until(lambda d: "住民登録が見つかりません" in message.text)
        page.shot("cardlogin-enrollment-refused-bridge")
        login.to_portal()
        status = page.driver.find_element(By.ID, "card-login-status")
        assert "住民登録が見つかりません" in status.text and "窓口" in status.text
        assert urlsplit(page.driver.current_url).path == "/auth/login"  # nobody signed in
    finally:
        stop(server, READER_A, pcsc_stack)


def test_a_clerk_binds_their_own_card_through_the_bridge(page, start_bridge, card_pki, city, make_staff,
                                                        sign_in_as, db, pcsc_stack):
    clerk = make_staff(city, roles=["registry_clerk"], username="clerk")
    card = card_pki.issue_card(name="窓口　一郎", birth_date=date(1980, 1, 15), sex="1",
                               address="高知県南国市大そね2番地", pin=PIN, password="ABC123")
    server = serve(card, PORT_A, READER_A, pcsc_stack)
    try:
        adopt_session(page, sign_in_as(clerk))
        start_bridge()
        login = CardLogin(page)
        login.open_bridge("/auth/staff-card")
        login.confirm_origin()
        login.type_pin(PIN)
        login.submit_pin()
        login.to_portal()
        login.wait_for_path("/staff/")
        page.shot("cardlogin-staff-card-bound")
    finally:
        stop(server, READER_A, pcsc_stack)
    with db.transaction(city.id) as s:
        binding = s.scalar(select(CardBinding))
        assert binding.staff_id == clerk.id and binding.resident_id is None
        assert binding.serial == format(card.meta["auth_serial"], "x")


def test_wrong_pin_shows_the_tries_left(page, start_bridge, client, hanako, hanako_card, card_on_reader):
    bind_in_advance(client, hanako_card)
    start_bridge()
    login = CardLogin(page)
    login.open_bridge()
    login.confirm_origin()
    login.type_pin("0000")
    login.submit_pin()
    message = wait(page.driver).until(EC.visibility_of_element_located((By.ID, "message")))
    assert "暗証番号が違います。あと2回間違えると暗証番号がロックされます。" in message.text
    assert "2 more wrong tries" in message.text
    pin = page.driver.find_element(By.ID, "pin")
    assert pin.is_displayed() and pin.get_attribute("value") == ""  # cleared, ready for another try
    page.shot("cardlogin-wrong-pin")
    assert hanako_card.counters.auth_pin == 2  # the card really counted the wrong try
    login.to_portal()               # meanwhile the portal says where the PIN goes, not "opening…"
    status = page.driver.find_element(By.ID, "card-login-status").text
    assert "暗証番号を入力してください" in status and "開いています" not in status
    login.to_bridge()
    login.type_pin(PIN)
    login.submit_pin()
    login.to_portal()
    login.wait_for_path("/")
    assert hanako_card.counters.auth_pin == 3


def test_kiosk_card_removal_ends_the_session_within_two_seconds(page, start_bridge, client, db, hanako,
                                                                hanako_card, card_on_reader):
    bind_in_advance(client, hanako_card)
    bridge = start_bridge(kiosk=True)
    login = CardLogin(page)
    page.open(f"/kiosk/{KIOSK_ID}")
    page.shot("cardlogin-kiosk-start")
    login.open_bridge(start_path=f"/kiosk/{KIOSK_ID}")     # one tap: the PIN pad
    wait(page.driver).until(EC.visibility_of_element_located((By.ID, "pinpad")))
    assert page.driver.find_element(By.ID, "pin").get_attribute("readonly") is not None
    login.tap_pin(PIN)
    page.shot("cardlogin-kiosk-pinpad")
    login.submit_pin()
    login.to_portal()
    login.wait_for_path("/")
    login.wait_bridge_closed()
    assert HOME in page.open("/me/").page_source
    page.shot("cardlogin-kiosk-signed-in")
    # the portal page now listens to the bridge's card events
    wait(page.driver).until(lambda d: len(bridge.hub._subscribers) >= 1)

    removed_at = time.monotonic()
    card_on_reader.remove()
    wait(page.driver, 5).until(lambda d: d.execute_script(
        "return location.pathname === arguments[0] && !document.getElementById('kiosk-config')",
        f"/kiosk/{KIOSK_ID}"))
    elapsed = time.monotonic() - removed_at
    page.shot("cardlogin-kiosk-after-removal")
    print(f"kiosk: session ended {elapsed:.2f} s after the card left the reader")
    assert elapsed < 2.0, f"session ended {elapsed:.2f} s after the card left"
    with db.transaction() as s:
        ended = s.scalars(select(UserSession).where(UserSession.kiosk.is_(True))).all()
        assert ended and all(r.ended_at is not None for r in ended)
        assert any(r.end_reason == "card_removed" for r in ended)
    # nothing of the resident comes back, not even with the back button
    page.driver.back()
    assert HOME not in page.driver.page_source
    assert HOME not in page.open("/me/").page_source


def test_kiosk_card_removed_before_the_pin_closes_the_bridge_window(page, start_bridge, hanako,
                                                                   hanako_card, card_on_reader):
    """Nothing of the resident stays: the bridge window goes and the portal page says why."""
    bridge = start_bridge(kiosk=True)
    login = CardLogin(page)
    login.open_bridge(start_path=f"/kiosk/{KIOSK_ID}")
    wait(page.driver).until(EC.visibility_of_element_located((By.ID, "pinpad")))
    login.tap_pin(PIN[:2])
    wait(page.driver).until(lambda d: len(bridge.hub._subscribers) >= 1)  # the bridge page listens
    login.to_portal()
    card_on_reader.remove()
    login.wait_bridge_closed()
    status = page.driver.find_element(By.ID, "card-login-status")
    wait(page.driver).until(lambda d: "カードが取り外されました" in status.text)
    page.shot("cardlogin-kiosk-removed-before-pin")
    # The kiosk returns to its start page; this also uses up any connection Chromium opened
    # speculatively, which would otherwise hold the one-request-at-a-time live server.
    page.open(f"/kiosk/{KIOSK_ID}")


def test_bridge_opened_by_a_page_of_another_site_never_asks_for_the_pin(page, start_bridge,
                                                                        bridge_port, live_server):
    """A page that is not the portal opens the bridge naming the portal's origin (as a
    phishing page would): the bridge's hello cannot reach it, so the PIN is never asked."""
    start_bridge()
    driver = page.driver
    bridge = f"http://127.0.0.1:{bridge_port}"
    driver.get(f"{bridge}/")                      # some page that is not the portal
    opener = driver.current_window_handle
    driver.execute_script("window.open(arguments[0], 'madoguchi-bridge')",
                          f"{bridge}/sign?origin={quote(live_server, safe='')}"
                          f"&nonce=AAAAAAAAAAAAAAAAAAAAAAAA&purpose=login")
    wait(driver).until(lambda d: len(d.window_handles) == 2)
    driver.switch_to.window(next(h for h in driver.window_handles if h != opener))
    assert live_server in driver.find_element(By.ID, "origin-shown").text
    assert not driver.find_element(By.ID, "confirm-origin").is_enabled()
    message = wait(driver, 10).until(EC.visibility_of_element_located((By.ID, "message")))
    assert "確認できませんでした" in message.text
    assert not driver.find_element(By.ID, "pin").is_displayed()
    page.shot("cardlogin-bridge-foreign-opener")


def test_a_kiosk_page_refuses_a_bridge_not_in_kiosk_mode(page, start_bridge, hanako):
    """Without the bridge's card events, pulling the card would leave the resident's pages
    on screen: the kiosk page says why and offers no sign-in."""
    start_bridge()                                   # a home bridge
    driver = page.open(f"/kiosk/{KIOSK_ID}")
    status = driver.find_element(By.ID, "card-login-status")
    wait(driver).until(lambda d: "キオスクモードで起動していない" in status.text)
    assert not driver.find_element(By.ID, "card-login-start").is_enabled()
    page.shot("cardlogin-kiosk-refuses-home-bridge")

