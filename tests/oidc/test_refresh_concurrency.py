"""One refresh token posted by ten threads at once through a real multi-threaded server on a
committed database: exactly one new token pair. The token is used up by one guarded UPDATE;
the others are reuses, answered invalid_grant (never a 5xx), and end the family."""
from __future__ import annotations

import hashlib
import http.client
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portal import create_app
from portal.oidc.models import OidcAuthorizationCode, OidcRefreshToken
from portal.oidc.services import register_client, remember_consent, utcnow
from portal.tenancy.services import add_municipality
from tests.conftest import TEST_SECRET, add_head_of_household, all_at_once, card_settings, serving
from tests.oidc.conftest import OFFLINE_SCOPES, basic

POSTS = 10
REFRESH_TOKEN = "a-refresh-token-of-the-family"


@pytest.fixture
def served(committed_database_url, card_pki):
    app = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET, "TESTING": True,
                      "DATABASE_URL": committed_database_url, "OIDC_ISSUER": "https://localhost",
                      **card_settings(card_pki)})
    with serving(app) as port:
        yield app, port


def a_family(database) -> tuple[str, str]:
    """A client, a resident who agreed to offline access, and one refresh token of theirs."""
    with database.transaction() as s:
        city = add_municipality(s, "392049", "南国市")
    with database.transaction(city.id) as s:
        person = add_head_of_household(s, "同時", "花子", "ドウジ", "ハナコ", date(1990, 1, 1), "2",
                                       "南国市1")
        new = register_client(s, city.id, "こうち子育てアプリ", ["https://rp.example/cb"],
                              scopes=OFFLINE_SCOPES)
        s.flush()
        remember_consent(s, new.client, person.id, "openid offline_access")
        now = utcnow()
        code = OidcAuthorizationCode(
            municipality_id=city.id, code_hash="0" * 64, client_pk=new.client.id,
            resident_id=person.id, redirect_uri="https://rp.example/cb",
            scope="openid offline_access", code_challenge="x" * 43, code_challenge_method="S256",
            auth_time=int(now.timestamp()), created_at=now, expires_at=now, used_at=now)
        s.add(code)
        s.flush()
        s.add(OidcRefreshToken(
            municipality_id=city.id, token_hash=hashlib.sha256(REFRESH_TOKEN.encode()).hexdigest(),
            code_pk=code.id, client_pk=new.client.id, resident_id=person.id,
            scope="openid offline_access", issued_at=now, expires_at=now + timedelta(days=1)))
    return new.client.client_id, new.secret


def post_refresh(port: int, client_id: str, secret: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/oidc/token",
                 body=urlencode({"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}),
                 headers={"Authorization": basic(client_id, secret),
                          "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    answer = response.status, response.read().decode()
    conn.close()
    return answer


def test_ten_concurrent_refreshes_of_one_token_make_one_new_pair(served):
    app, port = served
    database = app.extensions["madoguchi.db"]
    client_id, secret = a_family(database)
    results = all_at_once(lambda: post_refresh(port, client_id, secret), POSTS)

    statuses = sorted(status for status, _ in results)
    assert len(results) == POSTS
    assert statuses == [200] + [400] * (POSTS - 1), results
    assert all('"invalid_grant"' in body for status, body in results if status == 400)
    with database.transaction() as s:
        from portal.db import across_municipalities
        rows = s.scalars(across_municipalities(select(OidcRefreshToken))).all()
    assert len(rows) == 2 and all(row.revoked or row.used_at for row in rows)
    assert all(row.revoked for row in rows)  # the reuses ended the family, the new token too
