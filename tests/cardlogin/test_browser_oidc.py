"""A partner service signs a resident in through the portal, all for real: openid-client
(npm) builds the authorization request, headless Chromium follows it, the resident signs
in with the virtual card through the card bridge (PIN typed in the bridge's window),
agrees on the consent screen and lands on the partner's callback; openid-client redeems the
code and validates the ID token (signature, nonce, auth_time against max_age, acr)."""
from __future__ import annotations

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from selenium.webdriver.common.by import By

from portal.oidc.services import ACR_CARD, register_client
from tests.cardlogin.conftest import PIN
from tests.cardlogin.test_browser_bridge import CardLogin, bind_in_advance, wait
from tests.oidc.conftest import openid_client_script  # noqa: F401
from tests.oidc.openid_client import OpenIdClient, path_of

pytestmark = [pytest.mark.browser, pytest.mark.card]


class _Partner(BaseHTTPRequestHandler):
    """The partner's site: /callback says it was reached; /start?to=URL is a page with a
    link to URL (a partner's "sign in with the portal" button)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        query = parse_qs(urlsplit(self.path).query)
        if "to" in query:
            body = f'<a id="go" href="{html.escape(query["to"][0])}">窓口でログイン</a>'.encode()
        else:
            body = "連携先サービス: ログインを受け付けました".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    timeout = 5  # seconds a connection may stay silent

    def log_message(self, *args):
        pass


@pytest.fixture
def partner_callback():
    """The partner's redirect URI, on `localhost`: another site than the portal's
    127.0.0.1 (ports do not make sites; host names do)."""
    # threading, with a read timeout: a browser's speculative connection that never sends a
    # request must not hold up the server (and its shutdown at teardown)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Partner)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/callback"
    server.shutdown()
    thread.join(5)


def test_partner_signs_in_a_resident_with_the_card_in_chromium(
        app, db, page, start_bridge, client, city, hanako, hanako_card, card_on_reader,
        live_server, partner_callback, openid_client_script):  # noqa: F811
    bind_in_advance(client, hanako_card)
    app.config["OIDC_ISSUER"] = live_server
    with db.transaction(city.id) as s:
        new = register_client(s, city.id, "こうち子育てアプリ", [partner_callback],
                              require_card=True)
    partner = OpenIdClient(openid_client_script, live_server, new.client.client_id, new.secret,
                           partner_callback)
    request = partner.authorize(scope="openid profile", max_age="600")

    start_bridge()
    # Signed out: the provider asks for the card; the request resumes after the sign-in.
    CardLogin(page).sign_in(PIN, start_path=path_of(request["url"]), lands_on="/oidc/authorize")
    driver = page.driver
    assert "こうち子育てアプリ" in driver.page_source
    page.shot("oidc-consent")
    page.follow(driver.find_element(By.CSS_SELECTOR, 'button[name="decision"][value="allow"]'))
    wait(driver).until(lambda d: d.current_url.startswith(partner_callback))

    answer = partner.grant(request, driver.current_url, max_age=600)
    assert "error" not in answer, answer["error"]
    assert answer["claims"]["acr"] == ACR_CARD
    assert "pin" in answer["claims"]["amr"]
    assert answer["userinfo"]["name"] == "高知\u3000花子"
    assert PIN not in driver.current_url


def test_a_link_from_the_partners_site_carries_the_residents_session(
        app, db, page, start_bridge, client, city, hanako, hanako_card, card_on_reader,
        live_server, partner_callback, openid_client_script):  # noqa: F811
    """Single sign-on: signed in at the portal, the resident follows the partner's link (a
    cross-site top-level navigation) and is not asked to sign in again (SameSite=Lax)."""
    bind_in_advance(client, hanako_card)
    app.config["OIDC_ISSUER"] = live_server
    with db.transaction(city.id) as s:
        new = register_client(s, city.id, "こうち子育てアプリ", [partner_callback])
    partner = OpenIdClient(openid_client_script, live_server, new.client.client_id, new.secret,
                           partner_callback)
    start_bridge()
    CardLogin(page).sign_in(PIN)
    driver = page.driver
    session_cookie = next(c for c in driver.get_cookies() if c["name"].startswith("__Host-"))
    assert session_cookie["sameSite"] == "Lax"

    request = partner.authorize(scope="openid")
    origin = partner_callback.rsplit("/", 1)[0]
    driver.get(f"{origin}/start?to={quote(request['url'], safe='')}")
    page.follow(driver.find_element(By.ID, "go"))
    assert urlsplit(driver.current_url).path == "/oidc/authorize"
    assert "同意して連携する" in driver.page_source  # signed in: no card login asked
    page.follow(driver.find_element(By.CSS_SELECTOR, 'button[name="decision"][value="allow"]'))
    wait(driver).until(lambda d: d.current_url.startswith(partner_callback))
    answer = partner.grant(request, driver.current_url)
    assert "error" not in answer, answer["error"]
