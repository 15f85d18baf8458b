"""Refresh tokens for offline_access: issued only with prompt=consent and the resident's
agreement (OIDC Core 11), rotated on every use, and a used one presented again revokes its
whole family — the refresh tokens and the access tokens descended from one code (RFC 9700
4.14.2). A refresh fails once the consent is withdrawn, the resident leaves the registry
or the card the sign-in used is revoked; each refresh is in the resident's access log."""
from __future__ import annotations

import re
from datetime import date, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from portal.oidc.models import OidcRefreshToken
from portal.oidc.services import utcnow
from portal.registry.models import Resident, ResidentStatus
from tests.oidc.conftest import OFFLINE_SCOPES


def refused(response, error="invalid_grant", status=400) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == error, response.get_json()


def refreshed(rp, refresh_token: str, **options) -> dict:
    response = rp.refresh(refresh_token, **options)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_offline_access_with_prompt_consent_gets_a_refresh_token_that_rotates(offline_rp, resident,
                                                                              sign_in_as):
    sign_in_as(resident)
    auth = offline_rp.authorization(scope="openid profile offline_access", prompt="consent")
    page = offline_rp.http.get(auth.url).get_data(as_text=True)
    assert "ログアウトしている間も" in page  # the consent screen says what offline access is
    first = offline_rp.tokens(auth)
    original = offline_rp.verify(first["id_token"], auth.nonce)
    second = refreshed(offline_rp, first["refresh_token"])
    assert second["refresh_token"] not in (first["refresh_token"], first["access_token"])
    assert second["access_token"] != first["access_token"]
    claims = jwt.decode(second["id_token"], options={"verify_signature": False})
    assert claims["sub"] == original["sub"] and claims["aud"] == offline_rp.client_id
    assert claims["auth_time"] == original["auth_time"] and "nonce" not in claims  # OIDC Core 12.2
    info = offline_rp.userinfo(second["access_token"])
    assert info.status_code == 200 and info.get_json()["name"] == resident.name
    third = refreshed(offline_rp, second["refresh_token"])
    assert third["refresh_token"] != second["refresh_token"]


def test_offline_access_without_prompt_consent_is_ignored(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = offline_rp.authorization(scope="openid profile offline_access")
    assert "ログアウトしている間も" not in offline_rp.http.get(auth.url).get_data(as_text=True)
    tokens = offline_rp.tokens(auth)
    assert "refresh_token" not in tokens and "offline_access" not in tokens["scope"]


def test_a_client_not_registered_for_offline_access_gets_no_refresh_token(rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization(scope="openid offline_access", prompt="consent"))
    assert "refresh_token" not in tokens


def test_denied_consent_gives_no_code_and_no_refresh_token(offline_rp, resident, sign_in_as, db):
    sign_in_as(resident)
    auth = offline_rp.authorization(scope="openid offline_access", prompt="consent")
    response = offline_rp.consent(auth, decision="deny")
    assert "error=access_denied" in response.headers["Refresh"]
    with db.transaction(resident.municipality_id) as s:
        assert s.scalar(select(OidcRefreshToken)) is None


def test_reusing_a_used_refresh_token_revokes_the_family(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    first = offline_rp.offline_tokens()
    second = refreshed(offline_rp, first["refresh_token"])
    refused(offline_rp.refresh(first["refresh_token"]))       # the copy an attacker kept
    refused(offline_rp.refresh(second["refresh_token"]))      # the family is gone
    for tokens in (first, second):
        assert offline_rp.userinfo(tokens["access_token"]).status_code == 401
    other_family = offline_rp.offline_tokens()                # another sign-in is untouched
    assert refreshed(offline_rp, other_family["refresh_token"])["access_token"]


def test_a_refresh_token_is_refused_to_another_client_and_stays_good(offline_rp, make_rp, cities,
                                                                    resident, sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    thief = make_rp(cities[0], scopes=OFFLINE_SCOPES, name="別の連携先")
    refused(thief.refresh(tokens["refresh_token"]))
    refused(offline_rp.refresh(tokens["refresh_token"], secret="wrong"), "invalid_client", 401)
    assert refreshed(offline_rp, tokens["refresh_token"], how="post")["refresh_token"]


def test_a_refresh_may_narrow_the_scope_but_not_widen_it(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens("openid profile offline_access")
    refused(offline_rp.refresh(tokens["refresh_token"], scope="openid address"), "invalid_scope")
    narrow = refreshed(offline_rp, tokens["refresh_token"], scope="openid")
    assert narrow["scope"] == "openid"
    assert "name" not in offline_rp.userinfo(narrow["access_token"]).get_json()
    wide_again = refreshed(offline_rp, narrow["refresh_token"])   # RFC 6749 6: same scope as before
    assert offline_rp.userinfo(wide_again["access_token"]).get_json()["name"] == resident.name


def test_an_expired_refresh_token_is_refused(offline_rp, resident, sign_in_as, db):
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    with db.transaction(resident.municipality_id) as s:
        s.execute(update(OidcRefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    refused(offline_rp.refresh(tokens["refresh_token"]))


@pytest.mark.parametrize("change", [{"status": ResidentStatus.MOVED_OUT}, {"support_block": True}])
def test_refresh_fails_once_the_resident_leaves_or_is_under_support_measures(offline_rp, resident,
                                                                            sign_in_as, db, change):
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    with db.transaction(resident.municipality_id) as s:
        s.execute(update(Resident).where(Resident.id == resident.id).values(**change))
    refused(offline_rp.refresh(tokens["refresh_token"]))
    assert offline_rp.userinfo(tokens["access_token"]).status_code == 401


def test_withdrawing_consent_revokes_refresh_tokens(offline_rp, resident, sign_in_as, db):
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    page = offline_rp.http.get("/me/connections").get_data(as_text=True)
    assert "ログアウトしている間も" in page  # the page says the partner may refresh
    action = re.search(r'action="(/me/connections/\d+/withdraw)"', page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert offline_rp.http.post(action, data={"csrf_token": csrf}).status_code == 302
    with db.transaction(resident.municipality_id) as s:
        assert all(s.scalars(select(OidcRefreshToken.revoked)))
    refused(offline_rp.refresh(tokens["refresh_token"]))


def test_refresh_checks_the_consent_itself(offline_rp, resident, sign_in_as, db):
    """Even a refresh token that escaped revocation ends with the consent."""
    from portal.oidc.models import OidcConsent
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    with db.transaction(resident.municipality_id) as s:
        s.execute(update(OidcConsent).values(scope="openid profile"))
    refused(offline_rp.refresh(tokens["refresh_token"]))


def test_code_replay_revokes_the_refresh_tokens_of_the_code(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = offline_rp.authorization(scope="openid offline_access", prompt="consent")
    code = offline_rp.sign_in_and_get_code(auth)
    first = offline_rp.exchange(code, auth.verifier).get_json()
    refused(offline_rp.exchange(code, auth.verifier))
    refused(offline_rp.refresh(first["refresh_token"]))


def test_revoking_a_refresh_token_ends_its_family(offline_rp, resident, sign_in_as):
    from tests.oidc.conftest import basic
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    response = offline_rp.http.post("/oidc/revoke", data={
        "token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers={"Authorization": basic(offline_rp.client_id, offline_rp.secret)})
    assert response.status_code == 200
    refused(offline_rp.refresh(tokens["refresh_token"]))
    assert offline_rp.userinfo(tokens["access_token"]).status_code == 401


def test_every_refresh_is_in_the_residents_access_log(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    offline_rp.userinfo(refreshed(offline_rp, tokens["refresh_token"])["access_token"])
    log = offline_rp.http.get("/me/access-log/").get_data(as_text=True)
    assert "こうち子育てアプリへの情報提供の継続" in log      # the refresh
    assert "こうち子育てアプリへのログイン情報の提供" in log    # the code exchange
    assert "こうち子育てアプリへの登録情報の提供" in log        # userinfo
    assert "連携先サービス「こうち子育てアプリ」" in log        # who: the partner, by name


def test_refresh_fails_once_the_card_of_the_sign_in_is_revoked(app, db, card_pki, make_city,
                                                               make_resident, make_rp):
    """A real card sign-in (virtual card, in-process transport), then `pki revoke`, `pki crl`
    and `madoguchi card refresh-crls` as operators do it."""
    from tests.cards.conftest import enrolled, refresh_crls
    from tests.cards.test_revocation_now import publish_revocation
    home = "高知県南国市大そね1番地"
    city = make_city("392049", "南国市")
    make_resident(city, family="更新", given="花子", birth=date(1992, 5, 1), address=home)
    card = card_pki.issue_card(name="更新　花子", birth_date=date(1992, 5, 1), sex="2", address=home)
    party = make_rp(city, scopes=OFFLINE_SCOPES)
    party.http = enrolled(app, card).client
    tokens = party.offline_tokens()
    second = refreshed(party, tokens["refresh_token"])   # fine before the revocation
    publish_revocation(card_pki, card)
    refresh_crls(app)
    refused(party.refresh(second["refresh_token"]))
