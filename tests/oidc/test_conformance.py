"""Behaviour the OpenID Foundation's Basic OP conformance tests check that no other test of
this folder names (docs/oidc.md maps every conformance test to the test that backs it)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt


def _error(response) -> dict:
    assert response.status_code == 302, response.get_data(as_text=True)[:200]
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def test_missing_response_type_is_an_error_not_a_code(rp, resident, sign_in_as):  # oidcc-response-type-missing
    sign_in_as(resident)
    auth = rp.authorization()
    response = rp.http.get(auth.url.replace("response_type=code&", ""))
    assert "code=" not in response.headers.get("Location", "")
    if response.status_code == 302:
        assert _error(response)["error"] in ("invalid_request", "unsupported_response_type")
    else:
        assert response.status_code == 400


def test_code_flow_without_nonce_succeeds(rp, resident, sign_in_as):  # oidcc-ensure-request-without-nonce-succeeds-for-code-flow
    sign_in_as(resident)
    auth = rp.authorization()
    auth.url = auth.url.replace(f"&nonce={auth.nonce}", "")
    claims = jwt.decode(rp.tokens(auth)["id_token"], options={"verify_signature": False})
    assert "nonce" not in claims and claims["aud"] == rp.client_id


def test_unsupported_scopes_and_any_scope_order_succeed(rp, resident, sign_in_as):  # oidcc-scope-all, oidcc-ensure-other-scope-order-succeeds
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization(scope="profile email phone address openid"))
    info = rp.userinfo(tokens["access_token"]).get_json()
    assert {"sub", "name", "address"} <= set(info) and "email" not in info


def test_unknown_and_ignored_parameters_succeed(rp, resident, sign_in_as):
    """oidcc-display-page/-popup, -ensure-request-with-unknown-parameter-succeeds, -login-hint,
    -ui-locales, -claims-locales, -ensure-request-with-acr-values-succeeds, -claims-essential."""
    sign_in_as(resident)
    extras = [{"display": "page"}, {"display": "popup"}, {"extra": "foobar"},
              {"login_hint": "hanako@example.jp"}, {"ui_locales": "ja en"},
              {"claims_locales": "ja-Kana-JP"}, {"acr_values": "1 2"},
              {"claims": '{"userinfo":{"name":{"essential":true}}}'}]
    for extra in extras:
        tokens = rp.tokens(rp.authorization(**extra))
        assert tokens["id_token"], extra


def test_id_token_hint_with_prompt_none_succeeds(rp, resident, sign_in_as):  # oidcc-id-token-hint
    sign_in_as(resident)
    first = rp.tokens(rp.authorization())
    silent = rp.authorization(prompt="none", id_token_hint=first["id_token"])
    assert rp.code_from(rp.http.get(silent.url), silent)


def test_userinfo_by_post_with_the_bearer_header(rp, resident, sign_in_as):  # oidcc-userinfo-post-header
    sign_in_as(resident)
    tokens = rp.tokens(rp.authorization())
    response = rp.http.post("/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 200 and response.get_json()["sub"]


def test_request_objects_are_refused_as_unsupported(rp, resident, sign_in_as):
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported and
    oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported."""
    sign_in_as(resident)
    assert _error(rp.http.get(rp.authorization(request="eyJhbGciOiJub25lIn0.e30.").url))["error"] \
        == "request_not_supported"
    assert _error(rp.http.get(rp.authorization(request_uri="https://rp.example/r").url))["error"] \
        == "request_uri_not_supported"
