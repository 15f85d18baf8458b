"""Fixtures of the OIDC provider tests: two cities, a resident, and relying parties that
talk to the portal through an independent OAuth client (oauthlib) and verify ID tokens
with an independent JOSE library (PyJWT) — not with authlib, which the provider uses."""
from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt
import pytest

from oauthlib.oauth2 import WebApplicationClient

from portal.oidc.services import register_client
from tests.browser.conftest import live_server  # noqa: F401

ORIGIN = "https://localhost"


@dataclass
class Authorization:
    """One authorization request as the relying party made it."""
    url: str
    state: str
    nonce: str
    verifier: str


@dataclass
class RelyingParty:
    """A partner service (連携先) as the provider sees it from outside."""
    http: object
    client_id: str
    secret: str
    redirect_uri: str
    oauth: WebApplicationClient = field(init=False)

    def __post_init__(self) -> None:
        self.oauth = WebApplicationClient(self.client_id)

    # --- discovery ------------------------------------------------------------------
    def metadata(self) -> dict:
        return self.http.get("/.well-known/openid-configuration").get_json()

    def jwks(self) -> jwt.PyJWKSet:
        path = urlsplit(self.metadata()["jwks_uri"]).path
        return jwt.PyJWKSet.from_dict(self.http.get(path).get_json())

    # --- authorization --------------------------------------------------------------
    def authorization(self, scope="openid profile address birthdate", method="S256",
                      redirect_uri=None, **extra) -> Authorization:
        verifier = self.oauth.create_code_verifier(64)
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        pkce = {}
        if method == "S256":
            pkce = {"code_challenge": self.oauth.create_code_challenge(verifier, "S256"),
                    "code_challenge_method": "S256"}
        elif method == "plain":
            pkce = {"code_challenge": verifier, "code_challenge_method": "plain"}
        url = self.oauth.prepare_request_uri(
            self.metadata()["authorization_endpoint"], redirect_uri=redirect_uri or self.redirect_uri,
            scope=scope.split(), state=state, nonce=nonce, **pkce, **extra)
        if method is None:  # oauthlib always adds the method; strip the PKCE parameters
            url = re.sub(r"&code_challenge_method=[^&]*", "", url)
        return Authorization(local(url), state, nonce, verifier)

    def consent(self, auth: Authorization, decision="allow"):
        return consent(self.http, auth.url, decision)

    def code_from(self, response, auth: Authorization) -> str:
        """The code, from the page that sends the browser back (its Refresh header)."""
        target = callback_of(response)
        params = self.oauth.parse_request_uri_response(target, state=auth.state)
        return params["code"]

    def sign_in_and_get_code(self, auth: Authorization) -> str:
        return self.code_from(self.consent(auth), auth)

    # --- token ----------------------------------------------------------------------
    def exchange(self, code: str, verifier: str | None, how="basic", secret=None,
                 redirect_uri=None):
        body = self.oauth.prepare_request_body(
            code=code, redirect_uri=redirect_uri or self.redirect_uri,
            code_verifier=verifier, include_client_id=(how == "post"))
        return self.post_token(body, how, secret)

    def refresh(self, refresh_token: str, scope: str | None = None, how="basic", secret=None):
        """grant_type=refresh_token (RFC 6749 6)."""
        body = self.oauth.prepare_refresh_body(refresh_token=refresh_token,
                                               scope=scope.split() if scope else None)
        if how == "post":
            body += "&client_id=" + self.client_id
        return self.post_token(body, how, secret)

    def post_token(self, body: str, how: str, secret: str | None):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if how == "basic":
            headers["Authorization"] = basic(self.client_id, secret or self.secret)
        else:
            body += "&client_secret=" + (secret or self.secret)
        path = urlsplit(self.metadata()["token_endpoint"]).path
        return self.http.post(path, data=body, headers=headers)

    def offline_tokens(self, scope="openid profile offline_access") -> dict:
        """Tokens with a refresh token: offline_access, asked with prompt=consent."""
        auth = self.authorization(scope=scope, prompt="consent")
        tokens = self.tokens(auth)
        assert "refresh_token" in tokens, tokens
        return tokens

    def tokens(self, auth: Authorization) -> dict:
        response = self.exchange(self.sign_in_and_get_code(auth), auth.verifier)
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.oauth.parse_request_body_response(response.get_data(as_text=True))

    def verify(self, id_token: str, nonce: str, jwks: jwt.PyJWKSet | None = None) -> dict:
        """Verify signature, iss, aud, exp and nonce as a relying party must."""
        kid = jwt.get_unverified_header(id_token)["kid"]
        key = (jwks or self.jwks())[kid]
        claims = jwt.decode(id_token, key.key, algorithms=["RS256"], audience=self.client_id,
                            issuer=self.metadata()["issuer"],
                            options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        assert claims["nonce"] == nonce
        return claims

    def userinfo(self, access_token: str):
        path = urlsplit(self.metadata()["userinfo_endpoint"]).path
        return self.http.get(path, headers={"Authorization": f"Bearer {access_token}"})


def consent(http, path: str, decision="allow", method="GET", data=None):
    """Show the consent screen (asked by GET, or by POST with `data`), then post the
    decision with the page's CSRF token; a remembered consent answers without a screen."""
    page = http.open(path, method=method, data=data)
    if page.status_code == 302 and "/auth/login" not in page.headers["Location"]:
        return page  # agreed before: the provider answers at once
    assert page.status_code == 200, page.get_data(as_text=True)
    body = page.get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]*/oidc/authorize[^"]*)">\s*'
                     r'<input type="hidden" name="csrf_token" value="([^"]+)"', body)
    assert form, "consent form not found"
    return http.post(html.unescape(form.group(1)),
                     data={"csrf_token": form.group(2), "decision": decision})


def local(url: str) -> str:
    assert url.startswith(ORIGIN + "/"), url
    return url[len(ORIGIN):]


def basic(user: str, password: str) -> str:
    """HTTP Basic as RFC 6749 2.3.1 wants it: id and secret form-urlencoded first. Like
    openid-client, encode every character but letters and digits (`_` becomes `%5F`)."""
    return "Basic " + base64.b64encode(f"{form_encode(user)}:{form_encode(password)}".encode()).decode()


def form_encode(value: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"%{b:02X}" for b in c.encode())
                   for c in value)


def callback_of(response) -> str:
    """Where the provider sends the browser: a redirect, or the Refresh header of the
    return page (and its link, which must agree)."""
    if response.status_code == 302:
        return response.headers["Location"]
    assert response.status_code == 200, response.get_data(as_text=True)
    refresh = response.headers["Refresh"]
    target = refresh.split("url=", 1)[1]
    link = re.search(r'id="return-to-client" href="([^"]+)"', response.get_data(as_text=True))
    assert html.unescape(link.group(1)) == target
    return target


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def cities(make_city):
    return make_city("392049", "南国市"), make_city("392111", "香南市")


@pytest.fixture
def resident(cities, make_resident):
    return make_resident(cities[0], family="高知", given="花子", family_kana="コウチ",
                         given_kana="ハナコ", address="南国市大そね1番地")


@pytest.fixture
def make_rp(db, client):
    """Factory: register a client for a city and return its relying party."""
    def create(city, redirect_uri="https://rp.example/cb", sector=None, scopes=None,
               name="こうち子育てアプリ", client_id=None, **registration):
        with db.transaction(city.id) as s:
            new = register_client(s, city.id, name, [redirect_uri], sector, scopes,
                                  **registration)
            if client_id:  # ids come from token_urlsafe: pin one with '-' and '_'
                new.client.client_id = client_id
        return RelyingParty(client, new.client.client_id, new.secret, redirect_uri)
    return create


@pytest.fixture
def rp(cities, make_rp):
    return make_rp(cities[0])


OFFLINE_SCOPES = ["openid", "profile", "address", "birthdate", "offline_access"]


@pytest.fixture
def offline_rp(cities, make_rp):
    """A partner registered for offline_access (refresh tokens) and RP-initiated logout."""
    return make_rp(cities[0], scopes=OFFLINE_SCOPES,
                   post_logout_redirect_uris=["https://rp.example/logged-out"])


# --- openid-client (npm) as the relying party -------------------------------------------

@pytest.fixture(scope="session")
def openid_client_script():
    from tests.oidc.openid_client import install_rp
    return install_rp()


@pytest.fixture
def live_issuer(app, live_server):
    """The provider on a real socket for openid-client; the issuer is configured, as
    production requires, to the live server's origin."""
    app.config["OIDC_ISSUER"] = live_server
    return live_server


@pytest.fixture
def make_openid_client(db, openid_client_script, live_issuer):
    """Factory: register a client and return openid-client playing it."""
    from tests.oidc.openid_client import OpenIdClient

    def create(city, client_id=None, auth="basic", redirect_uri="https://rp.example/cb",
               scopes=None, **registration):
        with db.transaction(city.id) as s:
            new = register_client(s, city.id, "こうち子育てアプリ", [redirect_uri], None, scopes,
                                  **registration)
            if client_id:
                new.client.client_id = client_id
        return OpenIdClient(openid_client_script, live_issuer, new.client.client_id,
                            new.secret, redirect_uri, auth)
    return create
