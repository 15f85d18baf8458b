"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a partner ends the
resident's portal session and gets the browser back at a registered post-logout URI with
its `state`. With the resident's own ID token as `id_token_hint` it happens at once;
without one the resident is asked (a link on any site could otherwise sign them out).
Anything the provider cannot follow is a plain page, never a redirect."""
from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from tests.oidc.conftest import callback_of

LOGGED_OUT = "https://rp.example/logged-out"


def logout(http, method="GET", **params):
    if method == "POST":
        return http.post("/oidc/logout", data=params)
    return http.get("/oidc/logout?" + urlencode(params))


def signed_in(http) -> bool:
    return http.get("/me/").status_code == 200


def test_discovery_lists_logout_refresh_and_offline_access(offline_rp):
    meta = offline_rp.metadata()
    assert meta["end_session_endpoint"] == "https://localhost/oidc/logout"
    assert meta["revocation_endpoint"] == "https://localhost/oidc/revoke"
    assert "refresh_token" in meta["grant_types_supported"]
    assert "offline_access" in meta["scopes_supported"]


def test_logout_with_the_residents_id_token_ends_the_session_and_returns_with_state(
        offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.tokens(offline_rp.authorization())
    assert signed_in(offline_rp.http)
    response = logout(offline_rp.http, id_token_hint=tokens["id_token"],
                      post_logout_redirect_uri=LOGGED_OUT, state="s-1")
    assert response.status_code == 302
    assert response.headers["Location"] == LOGGED_OUT + "?state=s-1"
    assert not signed_in(offline_rp.http)


def test_logout_by_post_works_like_get(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.tokens(offline_rp.authorization())
    response = logout(offline_rp.http, "POST", id_token_hint=tokens["id_token"],
                      client_id=offline_rp.client_id, post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 302 and response.headers["Location"] == LOGGED_OUT
    assert not signed_in(offline_rp.http)


def test_an_expired_id_token_is_still_a_good_hint(app, offline_rp, resident, sign_in_as):
    app.config["OIDC_ID_TOKEN_SECONDS"] = -60  # every ID token issued from now is expired
    sign_in_as(resident)
    tokens = offline_rp.tokens(offline_rp.authorization())
    response = logout(offline_rp.http, id_token_hint=tokens["id_token"],
                      post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code == 302 and not signed_in(offline_rp.http)


def test_without_a_hint_the_resident_is_asked_first(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    page = logout(offline_rp.http, client_id=offline_rp.client_id,
                  post_logout_redirect_uri=LOGGED_OUT, state="s-2")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "ログアウトしますか" in body and "こうち子育てアプリ" in body
    assert signed_in(offline_rp.http)  # nothing happened yet
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)" id="logout-confirm"',
                                     body).group(1))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    assert offline_rp.http.post(action, data={"confirm": "yes"}).status_code == 400  # no CSRF
    assert signed_in(offline_rp.http)
    page = logout(offline_rp.http, client_id=offline_rp.client_id,
                  post_logout_redirect_uri=LOGGED_OUT, state="s-2")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    done = offline_rp.http.post(action, data={"confirm": "yes", "csrf_token": csrf})
    assert callback_of(done) == LOGGED_OUT + "?state=s-2"
    assert not signed_in(offline_rp.http)


def test_another_residents_id_token_is_no_hint_for_this_session(offline_rp, resident, make_resident,
                                                                 cities, sign_in_as):
    sign_in_as(resident)
    theirs = offline_rp.tokens(offline_rp.authorization())["id_token"]
    sign_in_as(make_resident(cities[0], family="土佐", given="一郎"))
    page = logout(offline_rp.http, id_token_hint=theirs, post_logout_redirect_uri=LOGGED_OUT)
    assert page.status_code == 200 and "ログアウトしますか" in page.get_data(as_text=True)
    assert signed_in(offline_rp.http)


def test_unregistered_post_logout_uri_is_refused_without_redirecting(offline_rp, rp, resident,
                                                                     sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.tokens(offline_rp.authorization())
    for params in ({"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
                   {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGGED_OUT + "/x"},
                   {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGGED_OUT + "?x=1"},
                   {"post_logout_redirect_uri": LOGGED_OUT},                  # no client named
                   {"client_id": rp.client_id, "post_logout_redirect_uri": LOGGED_OUT}):  # not rp's
        response = logout(offline_rp.http, **params)
        assert response.status_code == 400, params
        assert "Location" not in response.headers
    assert signed_in(offline_rp.http)


def test_a_forged_or_mismatched_hint_is_refused(offline_rp, rp, resident, sign_in_as):
    sign_in_as(resident)
    token = offline_rp.tokens(offline_rp.authorization())["id_token"]
    head, body, signature = token.split(".")
    forged = ".".join([head, body, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    for params in ({"id_token_hint": forged}, {"id_token_hint": "not.a.jwt"},
                   {"id_token_hint": token, "client_id": rp.client_id},
                   {"client_id": "no-such-client"}):
        response = logout(offline_rp.http, post_logout_redirect_uri=LOGGED_OUT, **params)
        assert response.status_code == 400, params
    assert signed_in(offline_rp.http)


def test_signed_out_browsers_go_straight_back(offline_rp):
    response = logout(offline_rp.http, client_id=offline_rp.client_id,
                      post_logout_redirect_uri=LOGGED_OUT, state="s-3")
    assert response.status_code == 302 and response.headers["Location"] == LOGGED_OUT + "?state=s-3"


def test_without_a_post_logout_uri_the_portal_says_so(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    tokens = offline_rp.tokens(offline_rp.authorization())
    page = logout(offline_rp.http, id_token_hint=tokens["id_token"], state="only-state")
    assert page.status_code == 200 and "ログアウトしました" in page.get_data(as_text=True)
    assert "Location" not in page.headers and "Refresh" not in page.headers
    assert not signed_in(offline_rp.http)


def test_no_parameters_ask_and_then_say_logged_out(offline_rp, resident, sign_in_as):
    sign_in_as(resident)
    page = logout(offline_rp.http).get_data(as_text=True)
    assert "ログアウトしますか" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = offline_rp.http.post("/oidc/logout", data={"confirm": "yes", "csrf_token": csrf})
    assert done.status_code == 200 and "ログアウトしました" in done.get_data(as_text=True)
    assert not signed_in(offline_rp.http)


def test_logout_keeps_refresh_tokens(offline_rp, resident, sign_in_as):
    """Ending the portal session is not withdrawing consent: offline access goes on."""
    sign_in_as(resident)
    tokens = offline_rp.offline_tokens()
    logout(offline_rp.http, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert not signed_in(offline_rp.http)
    assert offline_rp.refresh(tokens["refresh_token"]).status_code == 200

