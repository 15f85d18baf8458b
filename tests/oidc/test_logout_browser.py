"""RP-initiated logout in headless Chromium, as the resident meets it: a partner's link
without an ID token of theirs asks first, in Japanese or in English (the English page
free of Japanese but for names), axe-clean; confirming signs the resident out, and with a
registered post-logout URI the browser is back at the partner with its `state`."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import ARTIFACTS, browser, page  # noqa: F401
from tests.journeys.journey import Journey, wait
from tests.oidc.conftest import OFFLINE_SCOPES

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "oidc"
ASKED = {"ja": ("ログアウトの確認", "ログアウトする"), "en": ("Confirm sign-out", "Sign out")}
DONE = {"ja": "ログアウトしました", "en": "You have signed out"}


@pytest.fixture
def signed_in_browser(page, client, sign_in_as, resident):
    """The browser with the resident's portal session (signed in with the card)."""
    sign_in_as(resident)
    page.adopt_session(client)
    return page


def names(resident, cities, rp_name="こうち子育てアプリ") -> tuple[str, ...]:
    """What an English page may show in Japanese: the partner's, the resident's and the
    cities' names."""
    return (rp_name, resident.name, *(city.name for city in cities))


def is_signed_in(page) -> bool:
    page.open("/me/")
    return urlsplit(page.driver.current_url).path == "/me/"


def ask_to_sign_out(j: Journey, **params) -> None:
    """The partner's logout link, followed by the resident: the question, in j's language."""
    j.open("/")
    j.choose_language()
    j.open("/oidc/logout?" + urlencode(params))
    j.step("asked")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_question_reads_in_the_residents_language_and_confirming_signs_out(
        signed_in_browser, offline_rp, resident, cities, lang):
    j = Journey(signed_in_browser, "logout", lang, SHOTS, names(resident, cities))
    ask_to_sign_out(j, client_id=offline_rp.client_id)
    title, confirm = ASKED[lang]
    assert j.text("h1") == title and "こうち子育てアプリ" in j.text()
    button = j.driver.find_element(By.CSS_SELECTOR, "#logout-confirm button[name=confirm]")
    assert button.text == confirm
    j.follow(button)
    j.step("signed-out")
    assert j.text("#logged-out") == DONE[lang]
    j.assert_clean()
    assert not is_signed_in(signed_in_browser)


def test_declining_keeps_the_resident_signed_in(signed_in_browser, offline_rp, resident, cities):
    j = Journey(signed_in_browser, "logout-declined", "ja", SHOTS, names(resident, cities))
    ask_to_sign_out(j, client_id=offline_rp.client_id)
    j.follow(j.driver.find_element(By.CSS_SELECTOR, "#logout-confirm a.secondary"))
    assert is_signed_in(signed_in_browser)


def test_confirming_returns_to_the_partner_with_its_state(signed_in_browser, live_server, make_rp,
                                                         resident, cities):
    """The partner's post-logout URI is a loopback page here, so the browser can land on it."""
    back = live_server + "/healthz"
    rp = make_rp(cities[0], scopes=OFFLINE_SCOPES, post_logout_redirect_uris=[back])
    j = Journey(signed_in_browser, "logout-return", "en", SHOTS, names(resident, cities))
    ask_to_sign_out(j, client_id=rp.client_id, post_logout_redirect_uri=back, state="s-9")
    j.driver.find_element(By.CSS_SELECTOR, "#logout-confirm button[name=confirm]").click()
    wait(j.driver).until(lambda d: d.current_url == back + "?state=s-9")
    j.assert_clean()
    assert not is_signed_in(signed_in_browser)
