"""Accessibility in headless Chromium: axe-core (the rule engine of browsers' own audits)
against WCAG 2.1 A and AA — contrast, names of controls, labels, landmarks, language — on
the pages residents, nurses and clerks use, in Japanese and in English; and what axe does
not measure: touch-sized targets for the kiosk and keyboard use with a visible focus."""
from __future__ import annotations

from datetime import date

import pytest
from axe_core_python.base import AXE_SCRIPT
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from portal.registry.models import GuardianLink

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
KIOSK_ID = "a11y-kiosk"
TARGET_PX = 44  # WCAG 2.5.5: a finger, not a mouse pointer


def axe_violations(driver) -> list[str]:
    driver.execute_script(AXE_SCRIPT)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' +"
        " v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))),"
        "      e => done(['axe failed: ' + e]));", WCAG)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "KIOSKS": {KIOSK_ID: {"municipality": "392049", "name": "南国市立中央公民館"}}}


@pytest.fixture
def people(make_city, make_resident, make_staff, db):
    city = make_city("392049", "南国市")
    mother = make_resident(city, family="土佐", given="花子")
    child = make_resident(city, family="土佐", given="太郎", birth=date(2024, 6, 10),
                          household=mother.household_id, relationship="子")
    with db.transaction(city.id) as s:
        s.add(GuardianLink(guardian_id=mother.id, child_id=child.id))
    return {"mother": mother, "child": child,
            "clerk": make_staff(city, roles=["registry_clerk"], username="clerk"),
            "nurse": make_staff(city, roles=["health_staff"], username="hokenshi")}


def pages(people) -> dict:
    child, mother = people["child"].id, people["mother"].id
    return {
        None: ["/", "/staff/login", "/auth/login", "/auth/card-bridge/?reason=outdated&found=0.9",
               f"/kiosk/{KIOSK_ID}",
               "/services/convenience_issuance/verify",
               "/services/convenience_issuance/terminal?municipality=392049"],
        "mother": ["/me/", "/me/access-log/", "/services/maternal_health/",
                   f"/services/maternal_health/children/{child}", "/services/medication/",
                   f"/services/medication/people/{mother}/import"],
        "clerk": ["/staff/", "/registry/residents?q=土佐", f"/registry/residents/{mother}"],
        "nurse": ["/services/maternal_health/staff/",
                  f"/services/maternal_health/staff/residents/{child}/records/checkup/new"],
    }


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pages_pass_axe(page, sign_in_as, people, lang):
    found = {}
    for who, paths in pages(people).items():
        if who:
            page.adopt_session(sign_in_as(people[who]))
        for path in paths:
            driver = page.open(path + ("&" if "?" in path else "?") + f"lang={lang}")
            assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            assert "ログイン" not in driver.title or who is None, (path, driver.title)  # not bounced
            found[path] = axe_violations(driver)
    assert {path: v for path, v in found.items() if v} == {}


def test_axe_would_notice_a_violation(page, people):
    """The check above can fail: an unlabelled image and low-contrast text are reported."""
    driver = page.open("/")
    driver.execute_script(
        "const img = document.createElement('img'); img.src = '/static/none.png';"
        "const p = document.createElement('p'); p.textContent = '読みにくい文字';"
        "p.style.color = '#ddd'; document.querySelector('main').append(img, p);")
    found = " ".join(axe_violations(driver))
    assert "image-alt" in found and "color-contrast" in found


@pytest.mark.parametrize("path, who", [("/", None), (f"/kiosk/{KIOSK_ID}", None),
                                       ("/staff/login", None), ("/auth/login", None),
                                       ("/me/", "mother"), ("/services/maternal_health/", "mother")])
def test_controls_are_finger_sized(page, sign_in_as, people, path, who):
    if who:
        page.adopt_session(sign_in_as(people[who], kiosk=True))
    driver = page.open(path)
    small = driver.execute_script(
        "return [...document.querySelectorAll('main a, main button, main input, main select,"
        " header a, header button')]"
        ".filter(e => e.offsetParent !== null && !e.closest('p, li.inline, td'))"
        ".map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])"
        ".filter(([, r]) => r.height < arguments[0])"
        ".map(([html, r]) => html + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));",
        TARGET_PX)
    assert small == []


def test_keyboard_reaches_card_login_with_a_visible_focus(page, people):
    driver = page.open("/")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    first = driver.switch_to.active_element
    assert first.get_attribute("class") == "skip" and first.is_displayed()  # skip link first
    for _ in range(30):
        focused = driver.switch_to.active_element
        if "/auth/login" in (focused.get_attribute("href") or ""):
            break
        focused.send_keys(Keys.TAB)
    else:
        pytest.fail("Tab never reached the card sign-in link")
    outline = driver.execute_script(
        "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];")
    assert outline[0] != "none" and float(outline[1].rstrip("px")) >= 3
    page.follow(focused, Keys.ENTER)
    assert driver.current_url.endswith("/auth/login")
