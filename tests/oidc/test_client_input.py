"""No client input makes an OIDC endpoint fail with a 5xx: every refusal of the token and
userinfo endpoints is an RFC 6749 / RFC 6750 error code in JSON, and the browser endpoints
answer with a plain page or a redirect carrying an error code."""
from __future__ import annotations

import base64

import pytest

from tests.oidc.conftest import basic

# Client ids as `token_urlsafe` makes them: about half contain '-' or '_'.
AWKWARD_IDS = ["_OaTe-k9Xq_Zr2-vB8nN", "-leading-dash_and_underscore", "plain0id0without0marks"]
RFC6749_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                  "unsupported_grant_type", "invalid_scope"}


@pytest.mark.parametrize("client_id", AWKWARD_IDS)
def test_client_secret_basic_with_form_urlencoded_id_gets_tokens(make_rp, cities, resident,
                                                                  sign_in_as, client_id):
    party = make_rp(cities[0], client_id=client_id)
    sign_in_as(resident)
    auth = party.authorization()
    response = party.exchange(party.sign_in_and_get_code(auth), auth.verifier, how="basic")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert party.verify(response.get_json()["id_token"], auth.nonce)["aud"] == client_id


@pytest.mark.parametrize("client_id", AWKWARD_IDS)
def test_client_secret_post_with_awkward_id_gets_tokens(make_rp, cities, resident, sign_in_as,
                                                         client_id):
    party = make_rp(cities[0], client_id=client_id)
    sign_in_as(resident)
    auth = party.authorization()
    response = party.exchange(party.sign_in_and_get_code(auth), auth.verifier, how="post")
    assert response.status_code == 200, response.get_data(as_text=True)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _token_requests(rp):
    """(headers, form) pairs a careless or hostile client might send."""
    good = {"grant_type": "authorization_code", "code": "x", "code_verifier": "v" * 43,
            "redirect_uri": rp.redirect_uri}
    auth = {"Authorization": basic(rp.client_id, rp.secret)}
    return [
        ({}, {}),
        ({}, {"grant_type": "password", "username": "a", "password": "b"}),
        ({}, {"grant_type": "nonsense"}),
        (auth, {"grant_type": "authorization_code"}),
        (auth, good | {"code": "nul\x00byte"}),
        (auth, good | {"code": "漢字のコード" * 50}),
        (auth, good | {"redirect_uri": "\x00"}),
        (auth, good | {"code_verifier": "\x00" * 50}),
        ({"Authorization": "Basic !!!not-base64!!!"}, good),
        ({"Authorization": "Basic " + _b64(b"\xff\xfe:\xff")}, good),
        ({"Authorization": "Basic " + _b64(b"no-colon")}, good),
        ({"Authorization": "Basic " + _b64(b":")}, good),
        ({"Authorization": "Basic " + _b64(b"nul%00id:secret")}, good),
        ({"Authorization": "Basic " + _b64(("x" * 5000 + ":y").encode())}, good),
        ({"Authorization": "Basic"}, good),
        ({"Authorization": "Bearer abc"}, good),
        ({}, good | {"client_id": "nul\x00id", "client_secret": "s"}),
        ({}, good | {"client_id": rp.client_id, "client_secret": "\x00"}),
        ({}, good | {"client_id": "ｸﾗｲｱﾝﾄ", "client_secret": "秘密"}),
        (auth, good | {"grant_type": "refresh_token", "refresh_token": "\x00"}),
        (auth, good | {"grant_type": "refresh_token"}),
        (auth, {"grant_type": "refresh_token", "refresh_token": "unknown"}),
        (auth, {"grant_type": "refresh_token", "refresh_token": "漢字" * 3000}),
        (auth, {"grant_type": "refresh_token", "refresh_token": ""}),
        (auth, {"grant_type": "refresh_token", "refresh_token": "x", "scope": "openid \x00"}),
        (auth, {"grant_type": "refresh_token", "refresh_token": "x", "scope": "ｏｐｅｎｉｄ" * 500}),
        ({}, {"grant_type": "refresh_token", "refresh_token": "x", "client_id": rp.client_id}),
    ]


def test_token_endpoint_answers_every_bad_request_with_an_rfc6749_error(rp):
    for headers, form in _token_requests(rp):
        response = rp.http.post("/oidc/token", data=form, headers=headers)
        assert response.status_code in (400, 401), (headers, form, response.status_code)
        assert response.is_json, (headers, form, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"] in RFC6749_ERRORS, (headers, form, response.get_json())


def test_token_endpoint_refuses_json_bodies_and_get_without_a_5xx(rp):
    response = rp.http.post("/oidc/token", json={"grant_type": "authorization_code"},
                            headers={"Authorization": basic(rp.client_id, rp.secret)})
    assert response.status_code == 400 and response.get_json()["error"] in RFC6749_ERRORS
    assert rp.http.get("/oidc/token").status_code == 405


def test_userinfo_answers_bad_tokens_with_invalid_token(rp):
    for header in ("Bearer \x00", "Bearer 漢字", "Bearer " + "a" * 5000, "Bearer", "Basic abc",
                   "Bearer a b c"):
        response = rp.http.get("/oidc/userinfo", headers={"Authorization": header})
        assert response.status_code in (400, 401), (header, response.status_code)
        assert response.is_json and response.get_json()["error"] in (
            "invalid_token", "invalid_request", "unsupported_token_type"), header
    posted = rp.http.post("/oidc/userinfo", data={"access_token": "\x00"})
    assert posted.status_code in (400, 401)


def test_authorization_endpoint_answers_bad_requests_without_a_5xx(rp, resident, sign_in_as):
    sign_in_as(resident)
    url = rp.authorization().url
    variants = [
        "/oidc/authorize",
        "/oidc/authorize?client_id=%00",
        "/oidc/authorize?client_id=" + "x" * 5000,
        "/oidc/authorize?client_id=%E6%BC%A2",
        url.replace("redirect_uri=", "redirect_uri=%00"),
        url.replace("scope=", "scope=%00"),
        url + "&prompt=%00",
        url + "&max_age=soon",
        url + "&max_age=-1",
        url + "&max_age=99999999999999999999999",
        url + "&acr_values=%00",
        url.replace("response_type=code", "response_type="),
        url.replace("code_challenge=", "code_challenge=%00"),
        url.replace("state=", "state=%00"),
        url.replace("nonce=", "nonce=%00"),
    ]
    for path in variants:
        response = rp.http.get(path)
        assert response.status_code < 500, (path, response.status_code)


def test_revocation_endpoint_answers_bad_requests_with_rfc_errors(rp):
    """RFC 7009: an unknown token is revoked 'successfully' (200); anything else malformed
    is an RFC 6749 error in JSON, never a 5xx."""
    auth = {"Authorization": basic(rp.client_id, rp.secret)}
    assert rp.http.post("/oidc/revoke", data={"token": "unknown"}, headers=auth).status_code == 200
    for headers, form in _token_requests(rp) + [(auth, {}), (auth, {"token": "t", "token_type_hint": "x"})]:
        response = rp.http.post("/oidc/revoke", data=form, headers=headers)
        assert response.status_code in (200, 400, 401), (headers, form, response.status_code)
        assert response.is_json, (headers, form)
        if response.status_code != 200:
            assert response.get_json()["error"] in RFC6749_ERRORS | {"unsupported_token_type"}


def test_token_endpoint_answers_bad_refresh_requests_of_a_real_family_without_a_5xx(offline_rp, resident,
                                                                                    sign_in_as):
    """A genuine refresh token with every scope a client might send, and twice at once."""
    sign_in_as(resident)
    token = offline_rp.offline_tokens()["refresh_token"]
    for scope in ("\u3000", "openid openid", "email", "offline_access " * 100, "a" * 5000):
        response = offline_rp.refresh(token, scope=scope)
        assert response.status_code in (200, 400), (scope, response.status_code)
        assert response.is_json and "error" in response.get_json() or response.status_code == 200
        if response.status_code == 200:
            token = response.get_json()["refresh_token"]
    doubled = offline_rp.http.post("/oidc/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": [token, "x"]},
                                   headers={"Authorization": basic(offline_rp.client_id, offline_rp.secret)})
    assert doubled.status_code == 400 and doubled.get_json()["error"] in RFC6749_ERRORS


def test_end_session_endpoint_answers_bad_requests_without_a_5xx(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    hint = offline_rp.tokens(offline_rp.authorization())["id_token"]
    head, body, _signature = hint.split(".")
    variants = [
        "id_token_hint=%00", "id_token_hint=" + "x" * 5000, "id_token_hint=a.b.c",
        "id_token_hint=" + head + "." + body + ".", "id_token_hint=" + head + "..",
        "id_token_hint=eyJhbGciOiJub25lIn0." + body + ".",
        "id_token_hint=%E6%BC%A2.%E5%AD%97.x", "client_id=%00", "client_id=" + "x" * 5000,
        "client_id=%E6%BC%A2", "post_logout_redirect_uri=%00", "post_logout_redirect_uri=javascript:alert(1)",
        f"id_token_hint={hint}&post_logout_redirect_uri=" + "%E6%BC%A2" * 500,
        f"id_token_hint={hint}&state=%00", f"id_token_hint={hint}&ui_locales=%00",
        f"client_id={offline_rp.client_id}&client_id=other",
    ]
    for query in variants:
        for response in (offline_rp.http.get("/oidc/logout?" + query),
                         offline_rp.http.post("/oidc/logout", data=query,
                                              content_type="application/x-www-form-urlencoded")):
            assert response.status_code < 500, (query, response.status_code)
            assert "evil" not in response.headers.get("Location", "")
    confirm = offline_rp.http.post("/oidc/logout?client_id=%00", data={"confirm": "yes"})
    assert confirm.status_code == 400


def test_long_and_repeated_scopes_are_stored_without_a_5xx(offline_rp, resident, sign_in_as):
    """What a code or token keeps is the registered scopes asked for, each once: a request
    repeating them, or asking for thousands of characters of others, still fits (PostgreSQL
    refused the 200-character column with a 500)."""
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens("openid profile offline_access " * 40 + "x" * 3000)
    assert tokens["scope"] == ["openid", "profile", "offline_access"]
    response = offline_rp.refresh(tokens["refresh_token"], scope="openid " * 300)
    assert response.status_code == 200 and response.get_json()["scope"] == "openid"
