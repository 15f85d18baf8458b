"""A kiosk's start page: showing it changes nothing; the next resident starts by a POST
(with the CSRF token), which ends whoever was signed in before."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.sessions.models import UserSession

KIOSK = "nankoku-chuo"


@pytest.fixture
def kiosk_resident(app, make_city, make_resident, sign_in_as):
    app.config["KIOSKS"] = {KIOSK: {"municipality": "392049", "name": "南国市 中央公民館"}}
    person = make_resident(make_city())
    client = sign_in_as(person, kiosk=True)
    with client.session_transaction() as sess:
        sess["kiosk_id"] = KIOSK
    return client


def sessions(db):
    with db.transaction() as s:
        return [(r.ended_at is not None, r.end_reason) for r in s.scalars(select(UserSession))]


def test_showing_the_start_page_signs_nobody_out(kiosk_resident, db):
    page = kiosk_resident.get(f"/kiosk/{KIOSK}")
    assert page.status_code == 200 and "カードでログイン" in page.get_data(as_text=True)
    assert kiosk_resident.get("/me/").status_code == 200
    assert sessions(db) == [(False, None)]


def test_starting_takes_a_post_with_the_csrf_token(kiosk_resident, db):
    assert kiosk_resident.post(f"/kiosk/{KIOSK}").status_code == 400   # no CSRF token
    assert sessions(db) == [(False, None)]
    html = kiosk_resident.get(f"/kiosk/{KIOSK}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    started = kiosk_resident.post(f"/kiosk/{KIOSK}", data={"csrf_token": token})
    assert started.status_code == 302 and started.headers["Location"] == "/auth/login"
    assert sessions(db) == [(True, "kiosk_reset")]
    assert kiosk_resident.get("/me/").status_code == 302
    with kiosk_resident.session_transaction() as sess:
        assert sess["kiosk_id"] == KIOSK and "viewer" not in sess


def test_an_unknown_kiosk_is_404(kiosk_resident):
    assert kiosk_resident.get("/kiosk/nowhere").status_code == 404
