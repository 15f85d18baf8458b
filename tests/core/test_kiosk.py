"""A kiosk: showing its start page signs nobody out, and a reset takes a POST with the CSRF
token; it stays a kiosk: its pages link nowhere outside it (no public home with its staff
and demo sign-ins), it talks to its own card bridge (allowed by the CSP), and a signed-in
kiosk page carries the idle warning."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.sessions.models import UserSession

KIOSK = "nankoku-chuo"
KIOSK_BRIDGE = "http://127.0.0.1:35981"


@pytest.fixture
def kiosk_resident(app, make_city, make_resident, sign_in_as):
    person = make_resident(make_city())
    client = sign_in_as(person, kiosk=True)
    with client.session_transaction() as sess:
        sess["kiosk_id"] = KIOSK
    return client


def sessions(db):
    with db.transaction() as s:
        return [(r.ended_at is not None, r.end_reason) for r in s.scalars(select(UserSession))]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "KIOSKS": {KIOSK: {"municipality": "392049", "name": "南国市立中央公民館",
                                             "bridge": KIOSK_BRIDGE}}}


def links(body: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', body)


def test_showing_the_start_page_signs_nobody_out(kiosk_resident, db):
    page = kiosk_resident.get(f"/kiosk/{KIOSK}")
    assert page.status_code == 200 and "カードでログイン" in page.get_data(as_text=True)
    assert kiosk_resident.get("/me/").status_code == 200
    assert sessions(db) == [(False, None)]


def test_starting_takes_a_post_with_the_csrf_token(kiosk_resident, db):
    assert kiosk_resident.post(f"/kiosk/{KIOSK}").status_code == 400   # no CSRF token
    assert sessions(db) == [(False, None)]
    html = kiosk_resident.get(f"/kiosk/{KIOSK}").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', html).group(1)
    started = kiosk_resident.post(f"/kiosk/{KIOSK}", data={"csrf_token": token})
    assert started.status_code == 302 and started.headers["Location"] == f"/kiosk/{KIOSK}"
    assert sessions(db) == [(True, "kiosk_reset")]
    assert kiosk_resident.get("/me/").status_code == 302
    with kiosk_resident.session_transaction() as sess:
        assert sess["kiosk_id"] == KIOSK and "viewer" not in sess


def test_an_unknown_kiosk_is_404(kiosk_resident):
    assert kiosk_resident.get("/kiosk/nowhere").status_code == 404


def test_the_start_page_links_nowhere_outside_the_kiosk(client, make_city):
    make_city("392049", "南国市")
    body = client.get(f"/kiosk/{KIOSK}").get_data(as_text=True)
    assert 'id="card-login-start"' in body                  # one tap opens the bridge's PIN pad
    assert f'data-bridge="{KIOSK_BRIDGE}"' in body and 'data-require-kiosk="1"' in body
    outside = [href for href in links(body)
               if not href.startswith((f"/kiosk/{KIOSK}", "/lang/", "#"))]
    assert outside == []
    home = client.get("/")                                   # typed or remembered: still the kiosk
    assert home.status_code == 302 and home.headers["Location"].endswith(f"/kiosk/{KIOSK}")
    assert KIOSK_BRIDGE in client.get(f"/kiosk/{KIOSK}").headers["Content-Security-Policy"]


def test_a_signed_in_kiosk_page_warns_before_the_idle_logout(client, sign_in_as, make_city,
                                                             make_resident):
    city = make_city("392049", "南国市")
    client.get(f"/kiosk/{KIOSK}")
    sign_in_as(make_resident(city), kiosk=True)
    with client.session_transaction() as sess:
        sess["kiosk_id"] = KIOSK
    body = client.get("/me/").get_data(as_text=True)
    assert 'id="kiosk-warning"' in body and "秒で自動的にログアウトします" in body
    assert f'data-bridge="{KIOSK_BRIDGE}"' in body
    assert not any(href.startswith(("/staff", "/dev", "/auth/login")) for href in links(body))


def test_the_login_page_at_a_kiosk_uses_the_kiosks_bridge(client, make_city):
    make_city("392049", "南国市")
    client.get(f"/kiosk/{KIOSK}")
    assert f'data-bridge="{KIOSK_BRIDGE}"' in client.get("/auth/login").get_data(as_text=True)
