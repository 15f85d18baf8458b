"""Card login over HTTP: challenge → token → session, and one refusal per validator step."""
from __future__ import annotations

import base64
import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.cards.models import CardBinding
from portal.registry.models import Resident, ResidentStatus, Sex
from portal.sessions.models import UserSession
from tests.cards.conftest import (CardClient, b64, csrf_token, enroll_token, enrolled,
                                  login_token, refresh_crls)
from tests.conftest import https_client

HOME = "高知県南国市大そね1番地"
BOOKKEEPING = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@pytest.fixture
def city(make_city):
    return make_city("392049", "南国市")


@pytest.fixture
def hanako(make_resident, city):
    return make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1), address=HOME)


def test_first_use_enrolls_then_signs_in(card_client, issue_card, hanako, db, city):
    card = issue_card()
    response = card_client.login(card)
    assert response.get_json()["status"] == "enrollment_required"
    nonce = response.get_json()["nonce"]
    done = card_client.post("/auth/enroll", enroll_token(card, nonce))
    assert done.get_json()["status"] == "signed_in", done.get_data(as_text=True)
    page = card_client.client.get("/me/").get_data(as_text=True)
    assert HOME in page
    with db.transaction(city.id) as s:
        binding = s.scalar(select(CardBinding))
        assert binding.resident_id == hanako.id
        assert binding.serial == format(card.meta["auth_serial"], "x")


def test_bound_card_signs_in_without_enrollment(card_client, client, issue_card, hanako):
    card = issue_card()
    first = card_client.login(card).get_json()
    card_client.post("/auth/enroll", enroll_token(card, first["nonce"]))
    client.post("/auth/logout", json={}, headers={"X-CSRFToken": csrf_token(client)})
    again = CardClient(client).login(card)
    assert again.get_json()["status"] == "signed_in"


def test_new_session_id_at_sign_in(card_client, client, issue_card, hanako, db):
    card = issue_card()
    first = card_client.login(card).get_json()
    card_client.post("/auth/enroll", enroll_token(card, first["nonce"]))
    sid_before = client.get_cookie("__Host-madoguchi").value
    client.post("/auth/logout", json={}, headers={"X-CSRFToken": csrf_token(client)})
    CardClient(client).login(card)
    assert client.get_cookie("__Host-madoguchi").value != sid_before
    with db.transaction() as s:
        sessions = s.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert [x.end_reason for x in sessions] == ["logout", None]


@pytest.mark.parametrize("status", [ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED])
def test_a_bound_card_of_a_resident_no_longer_registered_is_refused(app, card_client, issue_card,
                                                                     hanako, db, city, status):
    card = issue_card()
    enrolled(app, card)
    with db.transaction(city.id) as s:
        s.get(Resident, hanako.id).status = status
    body = refused(card_client.login(card), "EnrollmentRefused", 409)
    assert "住民登録が有効ではない" in body["message"]


@contextmanager
def statements_and_flushes(app):
    """The SQL the app runs (bookkeeping left out: BEGIN, SAVEPOINT, COMMIT…) and how many
    ORM flushes wrote something, while the block runs."""
    seen, flushes = [], []
    engine = app.extensions["madoguchi.db"].engine

    def statement(_conn, _cursor, sql, *_args):
        if not sql.lstrip().upper().startswith(BOOKKEEPING):
            seen.append(" ".join(sql.split()))

    def flushed(session, _context):
        flushes.append(session)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(Session, "after_flush", flushed)
    try:
        yield seen, flushes
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(Session, "after_flush", flushed)


def verb_and_table(sql: str) -> tuple[str, str]:
    """('SELECT', the first table read) or ('INSERT' / 'UPDATE', the table written)."""
    return sql.split()[0].upper(), re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", sql).group(1)


def test_a_bound_card_signs_in_in_five_statements_and_no_flush(app, client, issue_card, hanako):
    """The budget of a sign-in (issue 11): the challenge taken (one guarded UPDATE), the
    binding read with its resident (one SELECT), then the session, the sign-in count and the
    attempt written (an INSERT each), all in Core: nothing of it is needed as an ORM object,
    and the ORM's flushes and bulk UPDATE cost a third of the login."""
    card = issue_card()
    enrolled(app, card)
    browser = CardClient(client)
    token = login_token(card, browser.challenge())
    with statements_and_flushes(app) as (seen, flushes):
        response = browser.post("/auth/card", token)
    assert response.get_json()["status"] == "signed_in"
    assert [verb_and_table(sql) for sql in seen] == [
        ("UPDATE", "login_challenge"), ("SELECT", "card_binding"), ("INSERT", "usage_event"),
        ("INSERT", "user_session"), ("INSERT", "auth_event")]
    assert flushes == []


@pytest.mark.parametrize("registry_change, reason", [
    ({"given": "華子"}, "一致する住民登録が見つかりません"),
    ({"address": "高知県南国市別の町2番地"}, "一致しない"),
    ({"status": "moved_out"}, "一致しない"),
    ({"sex": Sex.MALE}, "一致しない"),       # the card says 2 (female)
    ({"birth": date(1990, 4, 2)}, "一致する住民登録が見つかりません"),
])
def test_enrollment_refused_with_reason(card_client, issue_card, make_resident, city, db,
                                        registry_change, reason):
    fields = {"family": "高知", "given": "花子", "birth": date(1990, 4, 1), "address": HOME}
    fields.update(registry_change)
    make_resident(city, **fields)
    card = issue_card()
    nonce = card_client.login(card).get_json()["nonce"]
    refused = card_client.post("/auth/enroll", enroll_token(card, nonce))
    assert refused.status_code == 409
    assert reason in refused.get_json()["message"] and "窓口" in refused.get_json()["message"]
    with db.transaction() as s:
        from portal.db import across_municipalities
        assert s.scalar(across_municipalities(select(func.count()).select_from(CardBinding))) == 0


def test_two_matching_residents_are_refused(card_client, issue_card, make_resident, city):
    for _ in range(2):
        make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1), address=HOME)
    card = issue_card()
    nonce = card_client.login(card).get_json()["nonce"]
    refused = card_client.post("/auth/enroll", enroll_token(card, nonce))
    assert "複数" in refused.get_json()["message"]


def test_a_name_with_a_substitute_character_is_sent_to_the_counter(card_client, issue_card,
                                                                     make_resident, city):
    """The registry holds 髙 (a character the card cannot hold); the card has 高 in its place
    and says so in .5.5.2: no automatic match, and the reason says why."""
    make_resident(city, family="髙知", given="花子", birth=date(1990, 4, 1), address=HOME)
    card = issue_card(name="高知　花子", name_substitutes="1")
    nonce = card_client.login(card).get_json()["nonce"]
    refused = card_client.post("/auth/enroll", enroll_token(card, nonce))
    assert refused.status_code == 409
    assert "代替文字" in refused.get_json()["message"] and "窓口" in refused.get_json()["message"]


def test_a_substituted_card_still_enrolls_when_the_registry_agrees(card_client, issue_card,
                                                                    make_resident, city):
    make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1), address=HOME)
    card = issue_card(address_substitutes="3")
    nonce = card_client.login(card).get_json()["nonce"]
    assert card_client.post("/auth/enroll", enroll_token(card, nonce)).get_json()["status"] == "signed_in"


def test_width_and_spaces_do_not_matter(card_client, issue_card, make_resident, city):
    make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1),
                  address="高知県南国市大そね１番地")  # full-width digit in the registry
    card = issue_card(name="高知 花子")  # half-width space on the card
    nonce = card_client.login(card).get_json()["nonce"]
    assert card_client.post("/auth/enroll", enroll_token(card, nonce)).get_json()["status"] == "signed_in"


# -- one refusal per validator step ------------------------------------------------------

def refused(response, code, status=400):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code
    assert body["message"] and "Traceback" not in body["message"]
    return body


def test_replayed_nonce(card_client, issue_card, hanako):
    card = issue_card()
    nonce = card_client.challenge()
    token = login_token(card, nonce)
    card_client.post("/auth/card", token)
    refused(card_client.post("/auth/card", token), "NonceInvalid")


def test_another_sessions_nonce(app, card_client, issue_card, hanako):
    card = issue_card()
    nonce = card_client.challenge()
    other = CardClient(https_client(app))
    other.challenge()
    # the token signed for session A is posted in session B
    refused(other.post("/auth/card", login_token(card, nonce)), "SignatureInvalid")
    fresh = CardClient(https_client(app))
    refused(fresh.post("/auth/card", login_token(card, nonce)), "NonceInvalid")


def test_expired_nonce(card_client, issue_card, hanako, db):
    from portal.cards.models import LoginChallenge
    from sqlalchemy import update
    from datetime import datetime
    card = issue_card()
    nonce = card_client.challenge()
    with db.transaction() as s:
        s.execute(update(LoginChallenge).values(expires_at=datetime(2000, 1, 1)))
    refused(card_client.post("/auth/card", login_token(card, nonce)), "NonceInvalid")


def test_other_origin(card_client, issue_card, hanako):
    card = issue_card()
    nonce = card_client.challenge()
    token = login_token(card, nonce, origin="https://phishing.example")
    refused(card_client.post("/auth/card", token), "SignatureInvalid")


def test_bad_signature(card_client, issue_card, hanako):
    card = issue_card()
    token = login_token(card, card_client.challenge())
    signature = bytearray(base64.b64decode(token["signature"]))
    signature[10] ^= 0x01
    token["signature"] = b64(bytes(signature))
    refused(card_client.post("/auth/card", token), "SignatureInvalid")


def test_a_refused_token_uses_up_its_nonce_and_is_recorded(card_client, issue_card, hanako, db):
    """The challenge is taken before the token is checked, and a refusal is an answer, not a
    failure: the request commits the nonce used up together with the refused attempt."""
    from portal.audit.auth_events import AuthEvent
    from portal.cards.models import LoginChallenge
    card = issue_card()
    nonce = card_client.challenge()
    token = login_token(card, nonce)
    token["signature"] = b64(b"\x00" * len(base64.b64decode(token["signature"])))
    refused(card_client.post("/auth/card", token), "SignatureInvalid")
    with db.transaction() as s:
        assert s.scalar(select(LoginChallenge.consumed_at).where(LoginChallenge.nonce == nonce))
        assert s.execute(select(AuthEvent.method, AuthEvent.outcome, AuthEvent.reason)).all() == [
            ("card", "refused", "SignatureInvalid")]


@pytest.mark.parametrize("mangle", [
    lambda t: {"format": "web-eid:1.0", **{k: v for k, v in t.items() if k != "format"}},
    lambda t: {**t, "certificate": "not base64!"},
    lambda t: {**t, "certificate": b64(b"\x30\x03\x02\x01\x00")},
    lambda t: {**t, "signature": b64(b"short")},
    lambda t: {k: v for k, v in t.items() if k != "signature"},
    lambda t: ["a", "list"],
    lambda t: {**t, "algorithm": "none"},
])
def test_malformed_tokens(card_client, issue_card, hanako, mangle):
    card = issue_card()
    token = mangle(login_token(card, card_client.challenge()))
    refused(card_client.post("/auth/card", token), "MalformedToken")


def test_oversized_token(card_client, issue_card, hanako):
    card = issue_card()
    token = login_token(card, card_client.challenge())
    token["padding"] = "x" * 20000
    refused(card_client.post("/auth/card", token), "TokenTooLarge", status=413)


def test_revoked_certificate(app, card_pki, card_client, issue_card, hanako):
    card = issue_card()
    card_pki.revoke(card.meta["auth_serial"])
    card_pki.write_crls()
    refresh_crls(app)            # the operator's step: the running portal counts it at once
    refused(card_client.login(card), "CertificateRevoked")


def test_signing_certificate_is_not_a_login_certificate(card_client, issue_card, hanako):
    card = issue_card()
    nonce = card_client.challenge()
    refused(card_client.post("/auth/card", enroll_token(card, nonce)), "WrongCertificateType")


def test_no_session_without_a_valid_token(card_client, client, issue_card, hanako):
    card = issue_card()
    token = login_token(card, card_client.challenge(), origin="https://phishing.example")
    card_client.post("/auth/card", token)
    assert client.get("/me/").status_code == 302


def test_end_all_sessions(card_client, client, issue_card, hanako, app, db):
    card = issue_card()
    nonce = card_client.login(card).get_json()["nonce"]
    card_client.post("/auth/enroll", enroll_token(card, nonce))
    second = CardClient(https_client(app))
    assert second.login(card).get_json()["status"] == "signed_in"
    assert second.client.get("/me/").status_code == 200
    client.post("/sessions/end-all", data={"csrf_token": csrf_token(client)})
    assert second.client.get("/me/").status_code == 302
    with db.transaction() as s:
        live = s.scalar(select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None)))
    assert live == 0


def test_idle_session_ends(sign_in_as, client, make_resident, city, db):
    from datetime import datetime, timedelta
    from sqlalchemy import update
    sign_in_as(make_resident(city))
    assert client.get("/me/").status_code == 200
    with db.transaction() as s:
        s.execute(update(UserSession).values(last_seen_at=datetime.utcnow() - timedelta(hours=1)))
    response = client.get("/me/", follow_redirects=True)
    assert "ログインの有効期限が切れた" in response.get_data(as_text=True)
    assert response.request.path == "/auth/login"


def test_kiosk_session_ends_sooner(sign_in_as, client, make_resident, city, db):
    from datetime import datetime, timedelta
    from sqlalchemy import update
    sign_in_as(make_resident(city), kiosk=True)
    with db.transaction() as s:
        s.execute(update(UserSession).values(last_seen_at=datetime.utcnow() - timedelta(seconds=150)))
    assert client.get("/me/").status_code == 302


def test_an_expired_kiosk_session_leaves_no_message_and_stays_a_kiosk(sign_in_as, client,
                                                                      make_resident, city, db):
    """The kiosk's next resident must not read 'your login expired', and the terminal must
    keep its kiosk binding (card watch, short idle time) for their sign-in."""
    from datetime import datetime, timedelta
    from sqlalchemy import update
    sign_in_as(make_resident(city), kiosk=True)
    with client.session_transaction() as sess:
        sess["kiosk_id"] = "nankoku-chuo"
    with db.transaction() as s:
        s.execute(update(UserSession).values(last_seen_at=datetime.utcnow() - timedelta(seconds=150)))
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "ログインの有効期限が切れた" not in page
    with client.session_transaction() as sess:
        assert sess.get("kiosk_id") == "nankoku-chuo" and "viewer" not in sess


def test_rate_limit_per_address(app, card_client):
    app.config["AUTH_RATE_LIMIT"] = "3/minute"
    responses = [card_client.post("/auth/challenge", {}) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    # the page's script posted JSON: the refusal comes back as JSON it can show
    assert "操作が多すぎます" in responses[-1].get_json()["message"]
    # when to come back (RFC 9110), within the minute; no X-RateLimit-* counts on any answer
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 60
    assert not [h for r in responses for h in r.headers.keys() if h.lower().startswith("x-ratelimit")]


def test_rate_limit_per_certificate(app, card_client, issue_card, hanako):
    app.config["AUTH_CERT_RATE_LIMIT"] = "2/minute"
    card, other = issue_card(), issue_card(name="別人　太郎", birth_date=date(1980, 1, 1))
    codes = [card_client.login(card).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
    assert card_client.login(other).status_code != 429  # another card is not held back
