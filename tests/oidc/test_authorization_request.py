"""The authorization request as OIDC Core 3.1.2.1 has it: by GET or by POST (a partner's
form posted from its own site, so no CSRF token of ours), redirect_uri always required; and
the issuer is configuration, never the request's Host header."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.oidc.conftest import callback_of, consent


def _params(auth) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(auth.url).query).items()}


def test_authorization_request_by_post_gets_the_consent_screen_and_a_code(rp, resident, sign_in_as):
    sign_in_as(resident)
    auth = rp.authorization()
    page = rp.http.post("/oidc/authorize", data=_params(auth),
                        headers={"Referer": "https://rp.example/start"})  # another site's form
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert "同意して連携する" in page.get_data(as_text=True)
    # The consent form carries the posted request as its own query; the decision needs CSRF.
    target = callback_of(consent(rp.http, "/oidc/authorize", "allow", method="POST",
                                 data=_params(auth)))
    code = rp.oauth.parse_request_uri_response(target, state=auth.state)["code"]
    tokens = rp.exchange(code, auth.verifier)
    assert tokens.status_code == 200
    assert rp.verify(tokens.get_json()["id_token"], auth.nonce)["aud"] == rp.client_id


def test_posted_decision_without_csrf_token_is_still_refused(rp, resident, sign_in_as):
    sign_in_as(resident)
    response = rp.http.post("/oidc/authorize", data=_params(rp.authorization()) | {"decision": "allow"})
    assert response.status_code == 400
    assert "Location" not in response.headers and "Refresh" not in response.headers


def test_posted_request_of_a_signed_out_visitor_resumes_as_get_after_login(rp):
    auth = rp.authorization()
    response = rp.http.post("/oidc/authorize", data=_params(auth))
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/auth/login"
    resume = urlsplit(parse_qs(target.query)["next"][0])
    assert resume.path == "/oidc/authorize"
    assert {k: v[0] for k, v in parse_qs(resume.query).items()} == _params(auth)


def test_redirect_uri_is_required_even_with_one_registered(rp, resident, sign_in_as):
    sign_in_as(resident)
    params = _params(rp.authorization())
    del params["redirect_uri"]
    for response in (rp.http.get("/oidc/authorize", query_string=params),
                     rp.http.post("/oidc/authorize", data=params)):
        assert response.status_code == 400
        assert "Location" not in response.headers and "Refresh" not in response.headers


def test_issuer_never_comes_from_the_host_header(rp):
    meta = rp.http.get("/.well-known/openid-configuration", headers={"Host": "evil.example"}).get_json()
    assert meta["issuer"] == "https://localhost"
    assert all("evil.example" not in str(v) for v in meta.values())


def test_production_without_a_configured_issuer_answers_503_not_the_host(app, rp):
    app.config.update(OIDC_ISSUER=None, PUBLIC_ORIGIN=None)  # create_app refuses this; belt and braces
    response = rp.http.get("/.well-known/openid-configuration", headers={"Host": "evil.example"})
    assert response.status_code == 503
    assert response.get_json()["error"] == "temporarily_unavailable"


def test_development_falls_back_to_the_request_origin(app, rp):
    app.config.update(OIDC_ISSUER=None, PUBLIC_ORIGIN=None, ENV="development")
    assert rp.metadata()["issuer"] == "https://localhost"


def test_public_origin_is_the_issuer_when_no_oidc_issuer_is_set(app, rp):
    app.config.update(OIDC_ISSUER=None, PUBLIC_ORIGIN="https://portal.example/")
    assert rp.metadata()["issuer"] == "https://portal.example"
