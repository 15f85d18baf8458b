"""Every sign-in attempt is audited, and a city's administrator sees its own."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.audit.auth_events import AuthEvent
from tests.cards.conftest import CardClient, enroll_token, login_token
from tests.core.test_staff_auth import password_step, totp_step

import pyotp


def events(db):
    with db.transaction() as s:
        return s.scalars(select(AuthEvent).order_by(AuthEvent.id)).all()


def test_card_attempts_are_recorded(card_client, issue_card, make_resident, make_city, db):
    city = make_city()
    person = make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1),
                           address="高知県南国市大そね1番地")
    card = issue_card()
    card_client.post("/auth/card", login_token(card, card_client.challenge(),
                                               origin="https://phishing.example"))
    nonce = card_client.login(card).get_json()["nonce"]
    card_client.post("/auth/enroll", enroll_token(card, nonce))
    recorded = [(e.method, e.outcome, e.reason) for e in events(db)]
    assert recorded == [("card", "refused", "SignatureInvalid"),
                        ("card", "enrollment", "unbound_certificate"),
                        ("card_enroll", "ok", "")]
    last = events(db)[-1]
    assert (last.municipality_id, last.subject_kind, last.subject_id) == (city.id, "resident", person.id)
    assert last.certificate_serial == format(card.meta["auth_serial"], "x")
    # every row names the certificate it concerned, the refused one too
    serial = format(card.meta["auth_serial"], "x")
    assert [(e.certificate_serial, "JPKI" in (e.certificate_issuer or "")) for e in events(db)] == [
        (serial, True)] * 3


def test_a_refused_card_is_shown_to_its_citys_administrator(card_client, issue_card, make_resident,
                                                          make_city, make_staff, sign_in_as, db):
    """A bound card refused later (here: signed for another site) names itself, and the
    city it is bound in sees the refusal."""
    city = make_city()
    make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1),
                  address="高知県南国市大そね1番地")
    card = issue_card()
    nonce = card_client.login(card).get_json()["nonce"]
    card_client.post("/auth/enroll", enroll_token(card, nonce))
    later = CardClient(card_client.client)      # the sign-in renewed the session's CSRF token
    later.post("/auth/card", login_token(card, later.challenge(), origin="https://phishing.example"))
    refused = events(db)[-1]
    serial = format(card.meta["auth_serial"], "x")
    assert (refused.outcome, refused.certificate_serial, refused.municipality_id) == (
        "refused", serial, city.id)
    sign_in_as(make_staff(city, roles=["administrator"], username="boss"))
    page = card_client.client.get("/staff/auth-events").get_data(as_text=True)
    assert "SignatureInvalid" in page and serial in page and refused.certificate_issuer in page


def test_a_refused_enrollment_names_the_card_it_refused(card_client, issue_card, make_resident,
                                                      make_city, db):
    make_resident(make_city(), family="高知", given="花子", birth=date(1990, 4, 1),
                  address="高知県南国市大そね1番地")
    card = issue_card(sex="1")     # the registry's 花子 is female
    card_client.post("/auth/enroll", enroll_token(card, card_client.login(card).get_json()["nonce"]))
    refused = events(db)[-1]
    assert (refused.method, refused.outcome) == ("card_enroll", "refused")
    assert refused.certificate_serial == format(card.meta["auth_serial"], "x")


def test_staff_attempts_are_recorded_and_shown_to_the_citys_administrator(
        client, sign_in_as, make_city, make_staff, db):
    city, other = make_city("392049", "南国市"), make_city("392111", "香南市")
    clerk = make_staff(city, username="clerk")
    password_step(client, city.code, "clerk", "a wrong password!")
    from tests.conftest import STAFF_PASSWORD
    password_step(client, city.code, "clerk", STAFF_PASSWORD)
    totp_step(client, pyotp.TOTP(clerk.totp_secret).now())
    assert [(e.method, e.outcome) for e in events(db)] == [
        ("staff_password", "refused"), ("staff_password", "ok"), ("staff_totp", "ok")]

    sign_in_as(make_staff(city, roles=["administrator"], username="boss"))
    page = client.get("/staff/auth-events").get_data(as_text=True)
    assert page.count("staff_password") == 2 and "bad_credentials" in page
    assert "職員パスワード" in page and "拒否" in page      # the codes, with words beside them
    english = client.get("/staff/auth-events?lang=en").get_data(as_text=True)
    assert "Staff password" in english and "Refused" in english
    sign_in_as(make_staff(other, roles=["administrator"], username="other_boss"))
    assert "staff_password" not in client.get("/staff/auth-events").get_data(as_text=True)
    sign_in_as(make_staff(city, roles=["registry_clerk"], username="not_admin"))
    assert client.get("/staff/auth-events").status_code == 403
