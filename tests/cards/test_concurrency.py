"""Fifty concurrent posts of one valid token through a real multi-threaded server: exactly
one session. The nonce is consumed by one guarded UPDATE, whichever thread gets there."""
from __future__ import annotations

import http.client
import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.cards.services import bind, validators
from portal.cards.validation import TokenValidator
from portal.sessions.models import UserSession
from portal.tenancy.services import add_municipality
from tests.cards.conftest import login_token
from tests.conftest import TEST_SECRET, add_head_of_household, all_at_once, card_settings, serving

ORIGIN = "https://portal.test"
POSTS = 50


@pytest.fixture
def served(committed_database_url, card_pki):
    app = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET,
                      "DATABASE_URL": committed_database_url, "PUBLIC_ORIGIN": ORIGIN,
                      "AUTH_RATE_LIMIT": "1000/minute", "AUTH_CERT_RATE_LIMIT": "1000/minute",
                      **card_settings(card_pki)})
    with serving(app) as port:
        yield app, port


def request(port, method, path, cookie="", body=None, csrf=""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie, "X-CSRFToken": csrf, "Content-Type": "application/json"}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read().decode()
    cookies = [v.split(";")[0] for k, v in response.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    return response.status, data, (cookies[-1] if cookies else cookie)


def test_fifty_concurrent_posts_make_one_session(served, card_pki, make_city):
    app, port = served
    database = app.extensions["madoguchi.db"]
    card = card_pki.issue_card(name="同時　太郎", birth_date=date(1988, 8, 8), address="南国市1")
    with database.transaction() as s:
        city = add_municipality(s, "392049", "南国市")
    with database.transaction(city.id) as s:
        person = add_head_of_household(s, "同時", "太郎", "ドウジ", "タロウ", date(1988, 8, 8), "1",
                                       "南国市1")
        from cryptography import x509
        cert = x509.load_der_x509_certificate(card.auth.certificate)
        with app.app_context():
            bind(s, validators(app).auth.validate_certificate(cert), city.id, resident_id=person.id)

    status, page, cookie = request(port, "GET", "/auth/login")
    csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
    status, body, cookie = request(port, "POST", "/auth/challenge", cookie, {"purpose": "login"}, csrf)
    assert status == 200, body
    token = login_token(card, json.loads(body)["nonce"], origin=ORIGIN)

    results = all_at_once(lambda: request(port, "POST", "/auth/card", cookie, token, csrf)[:2], POSTS)

    statuses = sorted(s for s, _ in results)
    others = [(re.findall(r"<h1>(.*?)</h1>.*?lead\">(.*?)<", b, re.S) or [b[:200]]) for s, b in results if s != 200 and '"NonceInvalid"' not in b]
    assert len(results) == POSTS
    assert statuses.count(200) == 1, (statuses, others)
    assert not others
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(UserSession)) == 1
