"""The provider as a partner's developer meets it: openid-client (npm, by panva, the
OpenID-certified relying-party library) against the portal on a real socket. Discovery,
code + PKCE S256 with state and nonce, both client authentication methods with client ids
that contain '-' and '_', ID tokens validated including their signature and at_hash,
userinfo, refresh (rotation and reuse detection), revocation of access and refresh tokens,
and RP-initiated logout through buildEndSessionUrl. The resident's side (sign-in and
consent) goes through the Flask test client; tests/cardlogin/test_browser_oidc.py drives it
in headless Chromium with the virtual card through the card bridge, and
tests/oidc/test_logout_browser.py the resident's side of RP-initiated logout."""
from __future__ import annotations

import jwt
import pytest

from tests.oidc.conftest import at_hash, callback_of, consent
from tests.oidc.openid_client import path_of

IDS = ["_OaTe-k9Xq_Zr2-vB8nN", "-k9Xq_Zr2-vB8nN_"]


def sign_in_through(orp, http, scope="openid profile", decision="allow", **params):
    """The authorization request openid-client builds, answered by the resident."""
    request = orp.authorize(scope=scope, **params)
    return request, callback_of(consent(http, path_of(request["url"]), decision))


def test_discovery_document_satisfies_openid_client(make_openid_client, cities, live_issuer):
    meta = make_openid_client(cities[0]).ok("discover")["metadata"]
    assert meta["issuer"] == live_issuer
    assert meta["token_endpoint"] == live_issuer + "/oidc/token"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        meta["token_endpoint_auth_methods_supported"])


@pytest.mark.parametrize("auth", ["basic", "post"])
@pytest.mark.parametrize("client_id", IDS)
def test_code_flow_with_pkce_state_nonce_and_verified_id_token(make_openid_client, cities, resident,
                                                               sign_in_as, auth, client_id):
    orp = make_openid_client(cities[0], client_id=client_id, auth=auth)
    http = sign_in_as(resident)
    request, callback = sign_in_through(orp, http, scope="openid profile birthdate")
    answer = orp.grant(request, callback)
    assert "error" not in answer, answer["error"]
    claims, tokens = answer["claims"], answer["tokens"]
    assert claims["aud"] == client_id and claims["nonce"] == request["nonce"]
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert answer["userinfo"]["sub"] == claims["sub"]
    assert answer["userinfo"]["name"] == "高知\u3000花子"
    assert answer["userinfo"]["birthdate"] == resident.birth_date.isoformat()
    assert orp.jwks_cache and orp.jwks_cache["jwks"]["keys"]  # the signature was checked


def test_openid_client_refuses_a_callback_with_another_state(make_openid_client, cities, resident,
                                                             sign_in_as):
    orp = make_openid_client(cities[0], client_id=IDS[0])
    request, callback = sign_in_through(orp, sign_in_as(resident))
    answer = orp.grant({**request, "state": "not-the-state"}, callback)
    assert answer["error"]["code"] == "OAUTH_INVALID_RESPONSE"


def test_a_wrong_secret_is_an_invalid_client_error_for_openid_client(make_openid_client, cities,
                                                                     resident, sign_in_as):
    orp = make_openid_client(cities[0], client_id=IDS[1])
    request, callback = sign_in_through(orp, sign_in_as(resident))
    orp.client_secret = "guess"
    answer = orp.grant(request, callback)
    assert answer["error"]["error"] == "invalid_client", answer
    assert answer["error"]["status"] == 401


def test_denied_consent_reaches_openid_client_as_access_denied(make_openid_client, cities, resident,
                                                               sign_in_as):
    orp = make_openid_client(cities[0])
    request, callback = sign_in_through(orp, sign_in_as(resident), decision="deny")
    answer = orp.grant(request, callback)
    assert answer["error"]["error"] == "access_denied"


def test_openid_client_caching_the_jwks_never_misses_a_key_across_a_rotation(
        app, db, make_openid_client, cities, resident, sign_in_as):
    from tests.oidc.test_keys import age_keys, rotate
    orp = make_openid_client(cities[0], client_id=IDS[0])
    http = sign_in_as(resident)

    def sign_in() -> str:
        request, callback = sign_in_through(orp, http)
        answer = orp.grant(request, callback, userinfo=False)
        assert "error" not in answer, answer["error"]
        return jwt.get_unverified_header(answer["tokens"]["id_token"])["kid"]

    def cached() -> set[str]:
        return {key["kid"] for key in orp.jwks_cache["jwks"]["keys"]}

    old_kid = sign_in()
    assert cached() == {old_kid}
    new_kid = rotate(app)
    # The relying party's JWKS is seconds old (openid-client refetches only after 60 s):
    # the token must still be signed with a key it holds.
    assert sign_in() == old_kid
    orp.jwks_cache = None  # its cache expires (5 minutes); it fetches the JWKS again
    assert sign_in() == old_kid and cached() == {old_kid, new_kid}
    age_keys(db, 86400)  # a day later the new key signs; the cached JWKS already has it
    assert sign_in() == new_kid


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_openid_client_revokes_its_access_token(make_openid_client, cities, resident, sign_in_as,
                                                auth):
    orp = make_openid_client(cities[0], client_id=IDS[1], auth=auth)
    request, callback = sign_in_through(orp, sign_in_as(resident))
    answer = orp.grant(request, callback)
    access_token, sub = answer["tokens"]["access_token"], answer["claims"]["sub"]
    assert orp.ok("discover")["metadata"]["revocation_endpoint"].endswith("/oidc/revoke")
    assert orp.ok("revoke", token=access_token, hint="access_token") == {"revoked": True}
    refused = orp.run("userinfo", access_token=access_token, sub=sub)
    assert refused["error"]["status"] == 401


def test_revocation_of_another_clients_token_changes_nothing(make_openid_client, cities, resident,
                                                             sign_in_as):
    mine = make_openid_client(cities[0], client_id=IDS[0])
    theirs = make_openid_client(cities[0], client_id=IDS[1])
    request, callback = sign_in_through(mine, sign_in_as(resident))
    answer = mine.grant(request, callback)
    assert "error" in theirs.run("revoke", token=answer["tokens"]["access_token"])
    assert mine.ok("userinfo", access_token=answer["tokens"]["access_token"],
                   sub=answer["claims"]["sub"])["userinfo"]["sub"]


# --- offline_access, refresh, logout and revocation ------------------------------------

def offline_openid_client(make_openid_client, city):
    from tests.oidc.conftest import OFFLINE_SCOPES
    from tests.oidc.test_logout import LOGGED_OUT
    return make_openid_client(city, client_id=IDS[0], scopes=OFFLINE_SCOPES,
                              post_logout_redirect_uris=[LOGGED_OUT])


def test_openid_client_refreshes_rotates_and_a_reused_token_ends_the_family(
        make_openid_client, cities, resident, sign_in_as):
    orp = offline_openid_client(make_openid_client, cities[0])
    request, callback = sign_in_through(orp, sign_in_as(resident), scope="openid profile offline_access",
                                        prompt="consent")
    first = orp.grant(request, callback, userinfo=False)
    assert "error" not in first, first["error"]
    second = orp.ok("refresh", refresh_token=first["tokens"]["refresh_token"], userinfo=True)
    assert second["tokens"]["refresh_token"] != first["tokens"]["refresh_token"]
    assert second["claims"]["sub"] == first["claims"]["sub"]  # the refreshed ID token verified
    assert second["userinfo"]["name"] == "高知\u3000花子"
    reused = orp.run("refresh", refresh_token=first["tokens"]["refresh_token"])
    assert reused["error"]["error"] == "invalid_grant"
    ended = orp.run("refresh", refresh_token=second["tokens"]["refresh_token"])
    assert ended["error"]["error"] == "invalid_grant"
    gone = orp.run("userinfo", access_token=second["tokens"]["access_token"], sub=second["claims"]["sub"])
    assert gone["error"]["status"] == 401


def test_openid_client_revokes_a_refresh_token(make_openid_client, cities, resident, sign_in_as):
    orp = offline_openid_client(make_openid_client, cities[0])
    request, callback = sign_in_through(orp, sign_in_as(resident), scope="openid offline_access",
                                        prompt="consent")
    tokens = orp.grant(request, callback, userinfo=False)["tokens"]
    assert orp.ok("revoke", token=tokens["refresh_token"], hint="refresh_token") == {"revoked": True}
    assert orp.run("refresh", refresh_token=tokens["refresh_token"])["error"]["error"] == "invalid_grant"


def test_openid_client_end_session_url_logs_the_resident_out(make_openid_client, cities, resident,
                                                             sign_in_as):
    from tests.oidc.test_logout import LOGGED_OUT, signed_in
    orp = offline_openid_client(make_openid_client, cities[0])
    http = sign_in_as(resident)
    request, callback = sign_in_through(orp, http)
    tokens = orp.grant(request, callback, userinfo=False)["tokens"]
    url = orp.ok("end_session", params={"id_token_hint": tokens["id_token"],
                                        "post_logout_redirect_uri": LOGGED_OUT,
                                        "state": "rp-state"})["url"]
    assert url.startswith(orp.issuer + "/oidc/logout?")  # from end_session_endpoint
    response = http.get(path_of(url))
    assert response.status_code == 302 and response.headers["Location"] == LOGGED_OUT + "?state=rp-state"
    assert not signed_in(http)
