"""How and when the resident signed in, as a partner may demand it: max_age and auth_time,
prompt=login|none|consent, acr/amr saying card with PIN / staff password + TOTP / demo, and
acr_values or a registration that requires the card (OIDC Core 3.1.2.1, 2)."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
from sqlalchemy import select

from portal.oidc.services import ACR, ACR_CARD, AMR
from portal.sessions.models import UserSession
from portal.sessions.services import CARD_PIN, DEMO, PASSWORD_TOTP
from tests.oidc.conftest import callback_of, consent
from tests.oidc.openid_client import path_of


def age_sessions(db, seconds: int) -> None:
    """Make every session look as if it had started `seconds` ago."""
    with db.transaction() as s:
        for row in s.scalars(select(UserSession)):
            row.created_at -= timedelta(seconds=seconds)


def login_redirect(response) -> dict:
    """The card-login page the provider sent the browser to, and the request to resume."""
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    target = urlsplit(response.headers["Location"])
    assert target.path == "/auth/login"
    resume = urlsplit(parse_qs(target.query)["next"][0])
    assert resume.path == "/oidc/authorize"
    return {k: v[0] for k, v in parse_qs(resume.query).items()} | {"_next": resume.geturl()}


def at_client(response, rp) -> dict:
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.startswith(rp.redirect_uri), target
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def test_discovery_lists_the_acr_values_and_claims(rp):
    meta = rp.metadata()
    assert set(meta["acr_values_supported"]) == set(ACR.values())
    assert {"acr", "amr", "auth_time"} <= set(meta["claims_supported"])


# --- max_age and auth_time ----------------------------------------------------------------

def test_sign_in_older_than_max_age_goes_back_to_the_card_login(rp, resident, sign_in_as, db):
    sign_in_as(resident)
    age_sessions(db, 35)
    response = rp.http.get(rp.authorization(max_age="1").url)
    resume = login_redirect(response)
    assert "max_age" not in resume and resume["client_id"] == rp.client_id
    assert "Refresh" not in response.headers  # no code went anywhere


def test_after_the_new_sign_in_the_request_resumes_without_looping(rp, resident, sign_in_as, db):
    sign_in_as(resident)
    age_sessions(db, 35)
    resume = login_redirect(rp.http.get(rp.authorization(max_age="1", prompt="login").url))
    assert "prompt" not in resume
    sign_in_as(resident)  # the card sign-in the login page does
    page = rp.http.get(resume["_next"])
    assert page.status_code == 200 and "同意して連携する" in page.get_data(as_text=True)


def test_max_age_that_is_not_a_number_is_invalid_request(rp, resident, sign_in_as):
    sign_in_as(resident)
    for value in ("soon", "-1", "1e3", "9" * 30):
        error = at_client(rp.http.get(rp.authorization(max_age=value).url), rp)
        assert error["error"] == "invalid_request", value


def test_prompt_none_with_a_sign_in_older_than_max_age_is_login_required(rp, resident, sign_in_as, db):
    sign_in_as(resident)
    age_sessions(db, 35)
    error = at_client(rp.http.get(rp.authorization(max_age="1", prompt="none").url), rp)
    assert error["error"] == "login_required"


def test_openid_client_accepts_auth_time_within_max_age(make_openid_client, cities, resident,
                                                        sign_in_as, db):
    orp = make_openid_client(cities[0])
    http = sign_in_as(resident)
    age_sessions(db, 35)
    request = orp.authorize(max_age="600")
    answer = orp.grant(request, callback_of(consent(http, path_of(request["url"]))), max_age=600)
    assert "error" not in answer, answer["error"]
    assert 30 <= answer["claims"]["iat"] - answer["claims"]["auth_time"] <= 600


def test_prompt_login_always_goes_back_to_the_card_login(rp, resident, sign_in_as):
    sign_in_as(resident)  # signed in this very second
    resume = login_redirect(rp.http.get(rp.authorization(prompt="login").url))
    assert "prompt" not in resume


def test_prompt_consent_shows_the_consent_screen(rp, resident, sign_in_as):
    sign_in_as(resident)
    page = rp.http.get(rp.authorization(prompt="consent").url)
    assert page.status_code == 200 and "同意して連携する" in page.get_data(as_text=True)


# --- acr / amr ---------------------------------------------------------------------------

def _claims_after(orp, http):
    request = orp.authorize()
    answer = orp.grant(request, callback_of(consent(http, path_of(request["url"]))))
    assert "error" not in answer, answer["error"]
    return answer["claims"]


def test_card_sign_in_is_acr_card_pin_with_amr_sc_hwk_pin(make_openid_client, cities, resident,
                                                           sign_in_as):
    claims = _claims_after(make_openid_client(cities[0]), sign_in_as(resident, method=CARD_PIN))
    assert claims["acr"] == ACR_CARD == "urn:madoguchi:acr:card-pin"
    assert set(claims["amr"]) == {"sc", "hwk", "pin", "mfa"}


def test_demo_sign_in_is_said_to_be_a_demo(make_openid_client, cities, resident, sign_in_as):
    claims = _claims_after(make_openid_client(cities[0]), sign_in_as(resident, method=DEMO))
    assert claims["acr"] == "urn:madoguchi:acr:demo"
    assert claims["amr"] == ["demo"]


def test_staff_sign_in_values_say_password_and_totp():
    assert ACR[PASSWORD_TOTP] == "urn:madoguchi:acr:password-totp"
    assert AMR[PASSWORD_TOTP] == ["pwd", "otp", "mfa"]


def test_acr_values_asking_for_the_card_after_a_demo_sign_in_go_to_the_card_login(
        rp, resident, sign_in_as):
    sign_in_as(resident, method=DEMO)
    resume = login_redirect(rp.http.get(rp.authorization(acr_values=ACR_CARD).url))
    assert resume["acr_values"] == ACR_CARD
    sign_in_as(resident, method=CARD_PIN)
    assert rp.http.get(resume["_next"]).status_code == 200


def test_acr_values_the_session_meets_need_no_new_sign_in(rp, resident, sign_in_as):
    sign_in_as(resident, method=CARD_PIN)
    page = rp.http.get(rp.authorization(acr_values=ACR_CARD).url)
    assert page.status_code == 200


def test_client_registered_to_require_the_card_refuses_other_sign_ins(make_rp, cities, resident,
                                                                      sign_in_as):
    strict = make_rp(cities[0], require_card=True)
    sign_in_as(resident, method=DEMO)
    login_redirect(strict.http.get(strict.authorization().url))
    error = at_client(strict.http.get(strict.authorization(prompt="none").url), strict)
    assert error["error"] == "login_required"
    sign_in_as(resident, method=CARD_PIN)
    assert strict.http.get(strict.authorization().url).status_code == 200


# --- the sign-in views record how the session was opened ----------------------------------

def _methods(db) -> list[str]:
    with db.transaction() as s:
        return list(s.scalars(select(UserSession.auth_method).order_by(UserSession.id)))


def test_the_card_login_records_a_card_and_pin_sign_in(client, cities, make_resident, card_pki, db):
    from tests.cards.conftest import CardClient, enroll_token
    home = "高知県南国市大そね1番地"
    make_resident(cities[0], family="高知", given="花子", birth=date(1990, 4, 1), address=home)
    card = card_pki.issue_card(name="高知　花子", birth_date=date(1990, 4, 1), sex="2", address=home,
                               pin="1234", password="ABC123")
    cards = CardClient(client)
    first = cards.login(card).get_json()
    assert cards.post("/auth/enroll", enroll_token(card, first["nonce"])).get_json()["status"] == "signed_in"
    assert _methods(db) == [CARD_PIN]


def test_the_staff_login_records_a_password_and_totp_sign_in(client, cities, make_staff, db):
    from tests.core.test_staff_auth import password_step, totp_step
    from tests.conftest import STAFF_PASSWORD
    account = make_staff(cities[0], username="clerk")
    password_step(client, cities[0].code, "clerk", STAFF_PASSWORD)
    assert totp_step(client, pyotp.TOTP(account.totp_secret).now()).status_code == 302
    assert _methods(db) == [PASSWORD_TOTP]
