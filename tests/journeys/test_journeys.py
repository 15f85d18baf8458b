"""Browser journeys, kept as tests with a screenshot per step: the resident at home, the
kiosk, the nurse, the store terminal and the joint-cloud operator, each in Japanese and in
English (the language switch of the page header). Every step's page must be axe-clean and,
in English, free of Japanese outside the data; each step's outcome is asserted as the
person sees it. Screenshots: test-artifacts/journeys/<journey>/<lang>/NN-step.png."""
from __future__ import annotations

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from sqlalchemy import select

from portal.registry.models import Resident
from portal.staff.models import StaffAccount
from portal.tenancy.models import Municipality
from tests.conftest import STAFF_PASSWORD
from tests.journeys.conftest import KIOSK_ID, LANGS, PIN, SHOTS
from tests.journeys.journey import Journey, wait
from tests.maternal_health.test_browser_checkup import fill

pytestmark = [pytest.mark.browser, pytest.mark.card]
MH = "/services/maternal_health"


def words(lang: str, ja: str, en: str) -> str:
    return ja if lang == "ja" else en


@pytest.fixture(scope="module")
def data_words(app, demo) -> tuple[str, ...]:
    """What an English page may show in Japanese: people's and places' names, addresses,
    and what pharmacies and nurses wrote (the demo's records)."""
    from portal.db import across_municipalities
    from portal.jointcloud.models import ApportionmentBasis, CostLine
    from portal.registry.models import Household
    from services.convenience_issuance.models import IssuedCertificate
    from tests.medication.helpers import TABLES
    database = app.extensions["madoguchi.db"]
    found: set[str] = set()
    with database.transaction() as s:
        for model in (Resident, Household, Municipality, StaffAccount, CostLine, ApportionmentBasis,
                      IssuedCertificate, *TABLES):     # people, places, and what pharmacies and operators wrote
            for row in s.scalars(across_municipalities(select(model))):
                found |= {v for c in model.__table__.columns
                          if isinstance(v := getattr(row, c.key, None), str)}
    found |= {"南国市 中央公民館", "南国市保健福祉センター", "高知中央こどもクリニック", "高知県"}
    return tuple(w for w in found if w)


@pytest.fixture
def journey(page, data_words, request):
    made = []

    def start(lang: str) -> Journey:
        made.append(Journey(page, request.node.originalname.removeprefix("test_"), lang, SHOTS,
                            data_words))
        return made[-1]
    yield start


def sign_in_at_home(j: Journey, pin: str = PIN, card=None) -> None:
    j.open_bridge()
    confirm = wait(j.driver).until(EC.element_to_be_clickable((By.ID, "confirm-origin")))
    j.step("bridge-site", bilingual=True)
    confirm.click()
    pin_field = wait(j.driver).until(EC.visibility_of_element_located((By.ID, "pin")))
    if card is not None:                       # a wrong PIN first: the card counts it
        pin_field.send_keys("0000")
        j.driver.find_element(By.ID, "submit-pin").click()
        message = wait(j.driver).until(EC.visibility_of_element_located((By.ID, "message")))
        wait(j.driver).until(lambda d: "あと2回" in message.text and "2 more" in message.text)
        assert card.counters.auth_pin == 2 and pin_field.get_attribute("value") == ""
        j.step("bridge-wrong-pin", bilingual=True)
    pin_field.send_keys(pin)
    j.step("bridge-pin", bilingual=True)
    j.driver.find_element(By.ID, "submit-pin").click()
    j.to_portal()
    j.wait_for_path("/")
    j.wait_bridge_closed()


@pytest.mark.parametrize("lang", LANGS)
def test_resident_at_home(journey, demo, bridges, lang):
    j = journey(lang)
    mother = demo["mother"]
    j.open("/")
    j.choose_language()
    assert words(lang, "ようこそ", "Welcome") in j.text("h1")
    j.step("home")
    j.click_link("/auth/login")
    j.step("card-login")
    sign_in_at_home(j, card=demo["card"])
    assert mother.name in j.text(".tools .who")                     # signed in, by name
    assert demo["card"].counters.auth_pin == 3                      # the right PIN reset the count
    j.step("signed-in")

    j.click_link(MH + "/")
    assert words(lang, "母子健康手帳", "handbook") in j.text("h1")
    j.step("handbook")
    j.click_link(MH + "/children/")
    assert j.driver.find_elements(By.CSS_SELECTOR, "#checkups tbody tr")       # checkups
    assert j.driver.find_elements(By.CSS_SELECTOR, "#schedule tbody tr")       # the dose schedule
    chart = j.driver.find_element(By.CSS_SELECTOR, "figure.growth-chart svg")   # growth chart
    assert chart.size["width"] > 300
    j.step("child")

    j.open("/")
    j.click_link("/services/medication/")
    j.step("medication")
    j.click_link(f"/services/medication/people/{mother.id}/")
    assert j.driver.find_elements(By.CSS_SELECTOR, ".med-visit")
    j.step("medication-timeline")

    j.open("/")
    j.click_link("/me/")
    assert mother.address in j.text()
    j.click_link("/me/access-log/")
    log = j.text("table")
    assert "保健 さくら" in log                  # the demo nurse wrote in the children's handbooks
    j.step("access-log")

    j.follow(j.driver.find_element(By.CSS_SELECTOR, ".tools button"))
    assert words(lang, "ログアウトしました", "signed out") in j.text("h1")
    assert j.absent(".tools .who")
    j.step("signed-out")
    j.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_kiosk(journey, demo, bridges, card_on_reader, lang):
    j = journey(lang)
    kiosk = f"/kiosk/{KIOSK_ID}"
    j.open(kiosk)
    j.choose_language()
    assert j.path() == kiosk
    start = wait(j.driver).until(EC.element_to_be_clickable((By.ID, "card-login-start")))  # kiosk bridge found
    j.step("start")
    j.portal = j.driver.current_window_handle
    start.click()                                                      # one tap: the PIN pad
    j.to_bridge()
    wait(j.driver).until(EC.visibility_of_element_located((By.ID, "pinpad")))
    for digit in PIN:
        j.driver.find_element(By.CSS_SELECTOR, f'#pinpad button[data-key="{digit}"]').click()
    j.step("pinpad", bilingual=True)
    j.driver.find_element(By.ID, "submit-pin").click()
    j.to_portal()
    j.wait_for_path("/")
    j.wait_bridge_closed()
    assert demo["mother"].name in j.text(".tools .who")
    j.step("signed-in")
    j.click_link("/me/")
    address = demo["mother"].address
    assert address in j.text()
    wait(j.driver).until(lambda d: d.execute_script(   # the page listens to the card's events
        "const c = document.getElementById('kiosk-config'); return c && c.dataset.listening === '1';"))
    j.step("my-record")
    card_on_reader.remove()
    try:
        wait(j.driver, 5).until(lambda d: d.execute_script(
            "return location.pathname === arguments[0] && !document.getElementById('kiosk-config')"
            " && document.readyState === 'complete'", kiosk))
        assert address not in j.driver.page_source and demo["mother"].name not in j.driver.page_source
        assert j.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang  # still theirs
        j.step("wiped")
    finally:
        card_on_reader.insert()
    j.assert_clean()


def staff_sign_in(j: Journey, account, code: str) -> None:
    j.open("/staff/login")
    j.choose_language()
    j.driver.find_element(By.ID, "municipality_code").send_keys(code)
    j.driver.find_element(By.ID, "username").send_keys(account.username)
    j.driver.find_element(By.ID, "password").send_keys(STAFF_PASSWORD)
    j.step("password")
    j.follow(j.driver.find_element(By.ID, "password"), Keys.ENTER)
    assert j.path() == "/staff/login/totp"
    j.step("totp")
    j.follow(j.driver.find_element(By.ID, "code"), pyotp.TOTP(account.totp_secret).now() + Keys.ENTER)
    assert account.display_name in j.text(".tools .who")


@pytest.mark.parametrize("lang", LANGS)
def test_nurse(journey, demo, lang):
    from portal.clock import today_jst
    j = journey(lang)
    baby, nurse = demo[lang]["baby"], demo[lang]["nurse"]
    staff_sign_in(j, nurse, "392049")
    j.step("staff-menu")
    j.click_link(MH + "/staff/")
    search = j.driver.find_element(By.CSS_SELECTOR, "form[role=search] input[name=q]")
    search.send_keys(baby.name.replace("\u3000", " "))
    j.follow(search, Keys.ENTER)
    j.step("search")
    j.follow(j.driver.find_element(By.LINK_TEXT, baby.name))
    j.step("child-record")
    j.click_link("/records/checkup/new")
    j.step("checkup-form")
    fill(j.driver, {"occasion": "m3_4", "checked_on": str(today_jst()), "weight_kg": "65",
                    "height_cm": "70.5", "head_cm": "41.2"})
    j.follow(j.driver.find_element(By.CSS_SELECTOR, "form.mh-form button[type=submit]"))
    error = j.driver.find_element(By.ID, "weight_kg-error")
    assert error.is_displayed() and "65" in error.text                      # refused beside the field
    assert j.driver.find_element(By.ID, "height_cm").get_attribute("value") == "70.5"  # kept
    j.step("checkup-refused")
    fill(j.driver, {"weight_kg": "7.1"})        # 70.5 cm at almost 4 months: above the 97th percentile
    j.follow(j.driver.find_element(By.CSS_SELECTOR, "form.mh-form button[type=submit]"))
    flashes = [e.text for e in j.driver.find_elements(By.CSS_SELECTOR, ".flash")]
    assert len(flashes) >= 2 and any("97" in f for f in flashes), flashes   # saved, and the warning
    assert j.driver.find_element(By.CSS_SELECTOR, "#checkups .mh-flag").is_displayed()
    j.step("checkup-warned")
    j.follow(j.driver.find_element(By.CSS_SELECTOR, "#checkups a[href*='/amend']"))
    j.step("amend-form")
    reason = words(lang, "身長の転記誤り", "height copied wrongly")
    fill(j.driver, {"height_cm": "63.5", "reason": reason})
    j.follow(j.driver.find_element(By.CSS_SELECTOR, "form.mh-form button[type=submit]"))
    history = j.text("#amendments")
    assert "70.5" in history and "63.5" in history and reason in history and nurse.display_name in history
    assert j.absent("#checkups .mh-flag")                        # 63.5 cm is in range
    j.step("amended")
    j.assert_clean()


# The terminal shows the PDF it received in a window of its own (a blob: address that
# window cannot fetch again): keep each blob the page makes an address for, to read it back.
KEEP_BLOBS = """
const make = URL.createObjectURL;
window.__blobs = [];
URL.createObjectURL = (blob) => { window.__blobs.push(blob); return make(blob); };"""
LAST_BLOB = """
const done = arguments[arguments.length - 1];
window.__blobs.at(-1).arrayBuffer().then(b => {
  let s = ''; for (const x of new Uint8Array(b)) s += String.fromCharCode(x); done(btoa(s));
}, e => done('failed: ' + e));"""


@pytest.mark.parametrize("lang", LANGS)
def test_terminal(journey, demo, bridges, municipal_keys, lang):
    import base64
    import io
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    j = journey(lang)
    j.open("/services/convenience_issuance/terminal?municipality=392049")
    j.choose_language()
    j.step("start")
    j.portal = j.driver.current_window_handle
    j.driver.find_element(By.ID, "start").click()
    j.to_bridge()
    wait(j.driver).until(EC.element_to_be_clickable((By.ID, "confirm-origin"))).click()
    wait(j.driver).until(EC.visibility_of_element_located((By.ID, "pin"))).send_keys(PIN)
    j.step("bridge-pin", bilingual=True)
    j.driver.find_element(By.ID, "submit-pin").click()
    j.to_portal()
    wait(j.driver, 15).until(EC.visibility_of_element_located((By.ID, "step-choose")))
    j.wait_bridge_closed()
    holder = j.text("#holder")
    assert words(lang, "南国市", "Nankoku") in holder and "美咲" not in holder   # the name masked
    j.step("offers")
    offers = [b for b in j.driver.find_elements(By.CSS_SELECTOR, "#offers button") if b.is_enabled()]
    offers[0].click()                                               # the first: 住民票の写し
    wait(j.driver).until(EC.visibility_of_element_located((By.ID, "step-options")))
    j.step("options")
    j.driver.find_element(By.ID, "options-next").click()
    wait(j.driver).until(EC.visibility_of_element_located((By.ID, "step-pay")))
    quote = j.text("#quote")
    assert words(lang, "住民票の写し", "residence") in quote and words(lang, "円", "yen") in quote
    j.step("quote")
    j.driver.execute_script(KEEP_BLOBS)
    j.driver.find_element(By.ID, "pay").click()
    status = j.driver.find_element(By.ID, "status")
    printed = j.driver.find_element(By.ID, "terminal-messages").get_attribute("data-printed")
    wait(j.driver, 20).until(lambda d: status.text == printed and len(d.window_handles) == 2)
    assert j.driver.find_element(By.ID, "start").is_displayed()     # ready for the next person
    j.step("printed")
    pdf = base64.b64decode(j.driver.execute_async_script(LAST_BLOB))
    j.to_bridge()                                                   # the certificate's own window
    wait(j.driver).until(lambda d: d.current_url.startswith("blob:"))
    j.driver.close()
    j.to_portal()
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    trusted = ValidationContext(trust_roots=list(load_certs_from_pemder_data(
        municipal_keys["392049"].certificate_pem)))
    checked = validate_pdf_signature(signature, trusted)
    assert checked.intact and checked.valid and checked.trusted   # the city's seal on the 住民票
    j.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_operator(journey, demo, lang):
    j = journey(lang)
    staff_sign_in(j, demo[lang]["operator"], "392049")
    j.step("signed-in")
    j.open("/operator/")
    rows = j.driver.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    assert len(rows) == 3 and all(code in j.text("main table") for code in ("392049", "392111", "392120"))
    j.step("cities")
    j.click_link("/operator/usage")
    assert j.driver.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    j.step("usage")
    j.click_link("/operator/apportionment")
    table = j.driver.find_element(By.CSS_SELECTOR, "table.apportionment")
    heads = table.find_elements(By.CSS_SELECTOR, "thead th")
    assert len(heads) >= 5 + 3                                   # a column per city
    assert table.find_elements(By.CSS_SELECTOR, "tbody tr")      # the cost lines apportioned
    chart = j.driver.find_element(By.CSS_SELECTOR, "img.chart")
    assert j.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", chart) > 0
    j.step("apportionment")
    j.assert_clean()
