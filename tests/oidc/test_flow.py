"""The OIDC flow end to end, seen by a relying party built on oauthlib and PyJWT:
discovery → authorization with PKCE S256 and consent → code → tokens → verified ID token →
userinfo. Every refusal the provider owes a client is checked here too."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
from sqlalchemy import func, select

from portal.audit.models import AccessLogEntry
from portal.metering.models import UsageEvent
from tests.oidc.conftest import at_hash, callback_of


def test_discovery_announces_code_flow_with_s256_and_pairwise_subjects(rp):
    meta = rp.metadata()
    assert meta["issuer"] == "https://localhost"
    assert meta["authorization_endpoint"] == "https://localhost/oidc/authorize"
    assert meta["jwks_uri"] == "https://localhost/oidc/jwks"
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "profile", "address", "birthdate"} <= set(meta["scopes_supported"])
    assert "name#ja-Kana-JP" in meta["claims_supported"]


def test_resident_signs_in_to_partner_and_id_token_verifies(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    tokens = rp.tokens(auth)
    header = jwt.get_unverified_header(tokens["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = rp.verify(tokens["id_token"], auth.nonce)
    assert claims["aud"] == rp.client_id
    assert claims["exp"] > claims["iat"]
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert claims["sub"] != str(resident.id)
    assert "name" not in claims  # profile claims come from userinfo only
    assert tokens["token_type"].lower() == "bearer"


def test_id_token_with_a_tampered_payload_fails_verification(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    token = rp.tokens(auth)["id_token"]
    head, body, signature = token.split(".")
    forged = ".".join([head, body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB"), signature])
    try:
        rp.verify(forged, auth.nonce)
    except jwt.InvalidTokenError:
        return
    raise AssertionError("a forged ID token verified")


def test_userinfo_returns_registry_claims_of_all_scopes(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    tokens = rp.tokens(auth)
    info = rp.userinfo(tokens["access_token"]).get_json()
    assert info["sub"] == rp.verify(tokens["id_token"], auth.nonce)["sub"]
    assert info["name"] == "高知\u3000花子"
    assert (info["family_name"], info["given_name"]) == ("高知", "花子")
    assert info["name#ja-Kana-JP"] == "コウチ\u3000ハナコ"
    assert info["family_name#ja-Kana-JP"] == "コウチ"
    assert info["birthdate"] == resident.birth_date.isoformat()
    assert info["gender"] == "female"
    assert info["address"]["formatted"] == "南国市大そね1番地"


def test_userinfo_returns_only_the_granted_scopes(rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization(scope="openid birthdate"))
    info = rp.userinfo(tokens["access_token"]).get_json()
    assert set(info) == {"sub", "birthdate"}


def test_scopes_beyond_the_clients_registration_are_not_granted(make_rp, cities, resident, sign_in_as):
    narrow = make_rp(cities[0], scopes=["openid", "birthdate"])
    sign_in_as(resident)
    tokens = narrow.tokens(narrow.authorization(scope="openid profile address birthdate"))
    assert set(tokens["scope"]) == {"openid", "birthdate"}  # oauthlib parses it into a list
    assert set(narrow.userinfo(tokens["access_token"]).get_json()) == {"sub", "birthdate"}


def test_userinfo_refuses_missing_and_unknown_tokens(rp):
    assert rp.http.get("/oidc/userinfo").status_code == 401
    response = rp.userinfo("not-a-token")
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_pairwise_sub_differs_between_sectors_and_is_stable_per_client(make_rp, cities, resident, sign_in_as):
    first = make_rp(cities[0], "https://rp.example/cb")
    other = make_rp(cities[0], "https://other.example/cb")
    same_sector = make_rp(cities[0], "https://app2.example/cb", sector="rp.example")
    sign_in_as(resident)

    def sub(party):
        auth = party.authorization()
        return party.verify(party.tokens(auth)["id_token"], auth.nonce)["sub"]

    a1, a2, b, c = sub(first), sub(first), sub(other), sub(same_sector)
    assert a1 == a2
    assert a1 != b
    assert a1 == c  # clients of one sector may join their users; that is what a sector means


def test_pairwise_sub_differs_between_residents(rp, resident, make_resident, cities, sign_in_as):
    neighbour = make_resident(cities[0], family="土佐", given="一郎")

    def sub(person):
        sign_in_as(person)
        auth = rp.authorization()
        return rp.verify(rp.tokens(auth)["id_token"], auth.nonce)["sub"]

    assert sub(resident) != sub(neighbour)


def test_client_secret_post_is_accepted(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    response = rp.exchange(rp.sign_in_and_get_code(auth), auth.verifier, how="post")
    assert response.status_code == 200
    assert "id_token" in response.get_json()


def test_wrong_client_secret_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    response = rp.exchange(rp.sign_in_and_get_code(auth), auth.verifier, secret="guess")
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


# --- PKCE ---------------------------------------------------------------------------

def _error_at_client(response, rp) -> dict:
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.startswith(rp.redirect_uri)
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def test_pkce_plain_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization(method="plain")
    error = _error_at_client(rp.http.get(auth.url), rp)
    assert error["error"] == "invalid_request"
    assert error["state"] == auth.state
    assert "code" not in error


def test_missing_pkce_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization(method=None)
    assert "code_challenge" not in auth.url
    error = _error_at_client(rp.http.get(auth.url), rp)
    assert error["error"] == "invalid_request"


def test_wrong_code_verifier_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    code = rp.sign_in_and_get_code(auth)
    response = rp.exchange(code, rp.oauth.create_code_verifier(64))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_missing_code_verifier_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    response = rp.exchange(rp.sign_in_and_get_code(auth), None)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_implicit_and_hybrid_flows_are_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    for response_type in ("token", "id_token", "id_token+token", "code+id_token"):
        response = rp.http.get(auth.url.replace("response_type=code", f"response_type={response_type}"))
        error = _error_at_client(response, rp)
        assert error["error"] == "unsupported_response_type", response_type
        assert not {"code", "access_token", "id_token"} & set(error)
        assert "#" not in response.headers["Location"]


def test_refused_response_type_is_not_redirected_to_an_unregistered_uri(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization(redirect_uri="https://evil.example/cb")
    response = rp.http.get(auth.url.replace("response_type=code", "response_type=token"))
    assert response.status_code == 400
    assert "Location" not in response.headers


# --- redirect URIs and codes ----------------------------------------------------------

def test_unregistered_redirect_uri_is_refused_without_redirecting(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization(redirect_uri="https://evil.example/cb")
    response = rp.http.get(auth.url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "連携先サービスからの要求が正しくありません" in response.get_data(as_text=True)


def test_redirect_uri_must_match_at_the_token_endpoint(make_rp, cities, resident, sign_in_as, db):
    from portal.oidc.models import OidcClient
    party = make_rp(cities[0])
    with db.transaction(cities[0].id) as s:  # a second registered URI of the same client
        row = s.scalar(select(OidcClient).where(OidcClient.client_id == party.client_id))
        row.redirect_uris = [party.redirect_uri, "https://rp.example/other"]
    sign_in_as(resident)
    auth = party.authorization()
    code = party.sign_in_and_get_code(auth)
    response = party.exchange(code, auth.verifier, redirect_uri="https://rp.example/other")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_code_replay_is_refused_and_revokes_the_first_tokens(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    code = rp.sign_in_and_get_code(auth)
    first = rp.exchange(code, auth.verifier)
    assert first.status_code == 200
    access_token = first.get_json()["access_token"]
    assert rp.userinfo(access_token).status_code == 200
    replay = rp.exchange(code, auth.verifier)
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"
    assert rp.userinfo(access_token).status_code == 401


def test_expired_code_is_refused(rp, resident, sign_in_as, db):
    from datetime import datetime, timedelta
    from sqlalchemy import update
    from portal.oidc.models import OidcAuthorizationCode
    sign_in_as(resident)
    auth = rp.authorization()
    code = rp.sign_in_and_get_code(auth)
    with db.transaction(resident.municipality_id) as s:
        s.execute(update(OidcAuthorizationCode).values(expires_at=datetime(2000, 1, 1)))
    response = rp.exchange(code, auth.verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_code_of_one_client_cannot_be_redeemed_by_another(make_rp, cities, resident, sign_in_as):
    mine, theirs = make_rp(cities[0]), make_rp(cities[0], "https://other.example/cb")
    sign_in_as(resident)
    auth = mine.authorization()
    code = mine.sign_in_and_get_code(auth)
    theirs.redirect_uri = mine.redirect_uri
    response = theirs.exchange(code, auth.verifier)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_reused_nonce_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    rp.tokens(auth)
    again = rp.http.get(auth.url.replace(f"state={auth.state}", "state=second"))
    assert again.status_code == 302
    assert "error=invalid_request" in again.headers["Location"]


# --- who may authorize ----------------------------------------------------------------

def test_signed_out_visitor_is_sent_to_the_card_login(rp):
    auth = rp.authorization()
    response = rp.http.get(auth.url)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/auth/login"
    assert parse_qs(target.query)["next"][0].startswith("/oidc/authorize?")


def test_resident_of_another_city_is_refused_plainly(rp, cities, make_resident, sign_in_as):
    outsider = make_resident(cities[1], family="香南", given="次郎")
    sign_in_as(outsider)
    auth = rp.authorization()
    response = rp.http.get(auth.url)
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert "南国市にお住まいの方のためのサービスです" in response.get_data(as_text=True)
    posted = rp.http.post(auth.url, data={"decision": "allow"})
    assert posted.status_code in (400, 403) and "Location" not in posted.headers


def test_staff_cannot_authorize(rp, cities, make_staff, sign_in_as):
    sign_in_as(make_staff(cities[0]))
    response = rp.http.get(rp.authorization().url)
    assert response.status_code == 403


def test_resident_under_support_measures_is_refused(rp, cities, make_resident, sign_in_as):
    protected = make_resident(cities[0], family="保護", given="花子", support_block=True)
    sign_in_as(protected)
    response = rp.http.get(rp.authorization().url)
    assert response.status_code == 403
    assert "窓口にご相談ください" in response.get_data(as_text=True)


def test_prompt_none_gets_consent_required(rp, resident, sign_in_as):
    sign_in_as(resident)
    response = rp.http.get(rp.authorization(prompt="none").url)
    assert response.status_code == 302
    assert "error=consent_required" in response.headers["Location"]


def test_prompt_none_when_signed_out_gets_login_required(rp):
    response = rp.http.get(rp.authorization(prompt="none").url)
    assert response.status_code == 302
    assert "error=login_required" in response.headers["Location"]


# --- consent ----------------------------------------------------------------------------

def test_consent_screen_lists_the_requested_claims_in_japanese(rp, resident, sign_in_as):
    sign_in_as(resident)
    body = rp.http.get(rp.authorization(scope="openid birthdate").url).get_data(as_text=True)
    assert "こうち子育てアプリ" in body
    assert "生年月日" in body and "birthdate" in body
    assert "住所" not in body.split('id="shared-claims"')[1].split("</dl>")[0]
    assert "同意して連携する" in body


def test_consent_post_without_csrf_token_is_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    response = rp.http.post(auth.url, data={"decision": "allow"})
    assert response.status_code == 400
    assert "Location" not in response.headers and "Refresh" not in response.headers


def test_denied_consent_returns_access_denied_and_no_code(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    target = callback_of(rp.consent(auth, decision="deny"))
    params = parse_qs(urlsplit(target).query)
    assert params["error"] == ["access_denied"]
    assert "code" not in params


def test_consent_and_token_are_in_the_access_log_and_counted(rp, resident, sign_in_as, db):
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization())
    assert rp.userinfo(tokens["access_token"]).status_code == 200
    with db.transaction(resident.municipality_id) as s:
        entries = s.scalars(select(AccessLogEntry).where(
            AccessLogEntry.resource == f"oidc.{rp.client_id}")).all()
        used = s.scalar(select(func.sum(UsageEvent.amount)).where(
            UsageEvent.service == "core", UsageEvent.metric == "oidc_token"))
    assert sorted(e.action for e in entries) == ["create", "export", "export"]  # consent, token, userinfo
    assert all(e.subject_resident_id == resident.id for e in entries)
    assert used == 1
