"""Consent is remembered per partner and scope set (so single sign-on and prompt=none work),
and the resident's page 「連携しているサービス」 shows each partner, what it may see and when
it last used it; 「連携をやめる」 ends the consent and the partner's tokens at once."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update

from portal.audit.models import AccessLogEntry
from portal.oidc.models import OidcConsent
from tests.oidc.conftest import callback_of


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_remembered_consent_answers_at_once(rp, resident, sign_in_as):
    sign_in_as(resident)
    rp.tokens(rp.authorization(scope="openid profile"))
    again = rp.authorization(scope="openid profile")
    response = rp.http.get(again.url)
    code = rp.code_from(response, again)  # a redirect with a code, no consent screen
    assert rp.exchange(code, again.verifier).status_code == 200


def test_prompt_none_succeeds_for_a_signed_in_resident_who_agreed(rp, resident, sign_in_as):
    sign_in_as(resident)
    rp.tokens(rp.authorization(scope="openid"))
    silent = rp.authorization(scope="openid", prompt="none")
    assert rp.code_from(rp.http.get(silent.url), silent)


def test_wider_scopes_and_prompt_consent_ask_again(rp, resident, sign_in_as):
    sign_in_as(resident)
    rp.tokens(rp.authorization(scope="openid"))
    for auth in (rp.authorization(scope="openid address"), rp.authorization(scope="openid", prompt="consent")):
        page = rp.http.get(auth.url)
        assert page.status_code == 200 and "同意して連携する" in page.get_data(as_text=True)
    error = rp.http.get(rp.authorization(scope="openid address", prompt="none").url)
    assert "error=consent_required" in error.headers["Location"]


def test_the_connections_page_lists_partners_what_they_see_and_last_use(rp, resident, sign_in_as):
    sign_in_as(resident)
    page = rp.http.get("/me/connections").get_data(as_text=True)
    assert "連携しているサービスはありません" in page
    rp.tokens(rp.authorization(scope="openid birthdate"))
    page = rp.http.get("/me/connections").get_data(as_text=True)
    table = page.split('id="connections"')[1].split("</table>")[0]
    assert "こうち子育てアプリ" in table and "生年月日" in table and "住所" not in table
    assert "まだ使われていません" not in table
    assert "連携をやめる" in table
    assert "連携しているサービス" in rp.http.get("/").get_data(as_text=True)


def test_the_last_use_is_shown_in_japan_time(rp, resident, sign_in_as, db):
    sign_in_as(resident)
    rp.tokens(rp.authorization(scope="openid"))
    with db.transaction(resident.municipality_id) as s:  # 20:30 UTC is 05:30 the next day in Japan
        s.execute(update(OidcConsent).values(last_used_at=datetime(2026, 3, 31, 20, 30)))
    table = rp.http.get("/me/connections").get_data(as_text=True).split('id="connections"')[1]
    assert "2026-04-01 05:30" in table
    assert "2026-03-31" not in table and "UTC" not in table


def test_withdrawing_ends_consent_and_tokens_and_is_logged(rp, resident, sign_in_as, db):
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization(scope="openid profile"))
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    page = rp.http.get("/me/connections").get_data(as_text=True)
    action = re.search(r'action="(/me/connections/\d+/withdraw)"', page).group(1)
    assert rp.http.post(action, data={}).status_code == 400  # no CSRF token: refused
    done = rp.http.post(action, data={"csrf_token": _csrf(page)}, follow_redirects=True)
    assert "との連携をやめました" in done.get_data(as_text=True)
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    asked = rp.http.get(rp.authorization(scope="openid profile").url)
    assert asked.status_code == 200 and "同意して連携する" in asked.get_data(as_text=True)
    with db.transaction(resident.municipality_id) as s:
        assert s.scalar(select(OidcConsent)) is None
        actions = [e.action for e in s.scalars(select(AccessLogEntry).where(
            AccessLogEntry.resource == f"oidc.{rp.client_id}"))]
    assert "delete" in actions


def test_a_resident_cannot_withdraw_anothers_consent(rp, resident, make_resident, cities, sign_in_as):
    sign_in_as(resident)
    rp.tokens(rp.authorization(scope="openid"))
    page = rp.http.get("/me/connections").get_data(as_text=True)
    action = re.search(r'action="(/me/connections/\d+/withdraw)"', page).group(1)
    sign_in_as(make_resident(cities[0], family="土佐", given="一郎"))
    other = rp.http.get("/me/connections").get_data(as_text=True)
    assert rp.http.post(action, data={"csrf_token": _csrf(other)}).status_code == 404


def test_partner_access_is_in_the_residents_access_log(rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization(scope="openid profile"))
    rp.userinfo(tokens["access_token"])
    log = rp.http.get("/me/access-log/").get_data(as_text=True)
    assert "こうち子育てアプリへの登録情報の提供" in log
    assert "こうち子育てアプリへのログイン情報の提供" in log
