"""A kiosk stays a kiosk: its pages link nowhere outside it (no public home with its staff
and demo sign-ins), it talks to its own card bridge (allowed by the CSP), and a signed-in
kiosk page carries the idle warning."""
from __future__ import annotations

import re

import pytest

KIOSK = "nankoku-chuo"
KIOSK_BRIDGE = "http://127.0.0.1:35981"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "KIOSKS": {KIOSK: {"municipality": "392049", "name": "南国市立中央公民館",
                                             "bridge": KIOSK_BRIDGE}}}


def links(body: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', body)


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
