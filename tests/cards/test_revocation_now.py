"""A CRL published while the portal runs counts at once once the operator runs
`madoguchi card refresh-crls`: the card is refused at its next login and every session it
opened, resident or staff, ends at its next request."""
from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from portal.sessions.models import UserSession
from madoguchi_smartcard.cli import pki
from tests.cards.conftest import CardClient, enrolled, login_token, refresh_crls
from tests.cards.test_card_login import HOME, refused
from tests.conftest import https_client


def publish_revocation(card_pki, card) -> None:
    """The publisher's side, as an operator types it: `pki revoke` then `pki crl`."""
    runner = CliRunner()
    for args in (["revoke", str(card_pki.directory), format(card.meta["auth_serial"], "x")],
                 ["crl", str(card_pki.directory)]):
        result = runner.invoke(pki, args)
        assert result.exit_code == 0, result.output


def end_reasons(db) -> list[str | None]:
    with db.transaction() as s:
        return list(s.scalars(select(UserSession.end_reason).order_by(UserSession.id)))


def test_a_revoked_residents_card_is_refused_and_its_sessions_end(app, db, card_pki, make_city,
                                                                  make_resident):
    city = make_city("392049", "南国市")
    make_resident(city, family="失効", given="花子", birth=date(1991, 4, 1), address=HOME)
    card = card_pki.issue_card(name="失効　花子", birth_date=date(1991, 4, 1), sex="2", address=HOME)
    first = enrolled(app, card)
    second = CardClient(https_client(app))
    assert second.login(card).get_json()["status"] == "signed_in"
    assert first.client.get("/me/").status_code == 200

    publish_revocation(card_pki, card)
    assert first.client.get("/me/").status_code == 200     # not counted before the refresh
    refresh_crls(app)

    for browser in (first, second):
        assert browser.client.get("/me/").status_code == 302
    assert end_reasons(db) == ["certificate_revoked", "certificate_revoked"]
    refused(CardClient(https_client(app)).login(card), "CertificateRevoked")


def test_a_revoked_staff_card_ends_the_staff_session(app, client, db, card_pki, make_city,
                                                     make_staff, sign_in_as):
    city = make_city()
    clerk = make_staff(city, roles=["registry_clerk"], username="revoked-clerk")
    card = card_pki.issue_card(name="職員　失効", birth_date=date(1975, 6, 2), address="南国市役所")
    sign_in_as(clerk)
    binder = CardClient(client)
    assert binder.post("/auth/card", login_token(card, binder.challenge("bind_staff"))).status_code == 200
    staff = CardClient(https_client(app))
    assert staff.login(card).get_json()["status"] == "signed_in"
    assert staff.client.get("/staff/").status_code == 200

    publish_revocation(card_pki, card)
    refresh_crls(app)

    assert staff.client.get("/staff/").status_code == 302
    assert end_reasons(db)[-1] == "certificate_revoked"
    assert client.get("/staff/").status_code == 200       # the password session is not the card's
