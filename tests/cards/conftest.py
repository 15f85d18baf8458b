"""Card-login fixtures: tokens made by the virtual card over the in-process transport.
(The same card over pyscard → pcscd → vpcd is exercised by tests/smartcard and the
browser tests through the bridge.)"""
from __future__ import annotations

import base64
import re
from datetime import date

import pytest

from portal.cards.validation import TOKEN_FORMAT, signed_data
from madoguchi_smartcard.jpki import JPKICard
from madoguchi_smartcard.transport import InProcessTransport
from madoguchi_smartcard.virtual import VirtualMyNumberCard

ORIGIN = "https://localhost"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def token_from(result) -> dict:
    return {"format": TOKEN_FORMAT, "algorithm": "RS256", "certificate": b64(result.certificate),
            "signature": b64(result.signature), "appVersion": "test"}


def _card(profile) -> JPKICard:
    transport = InProcessTransport(VirtualMyNumberCard(profile))
    transport.connect()
    return JPKICard(transport)


def login_token(profile, nonce: str, origin: str = ORIGIN, pin: str = "1234") -> dict:
    return token_from(_card(profile).login(pin, signed_data(origin, nonce)))


def enroll_token(profile, nonce: str, origin: str = ORIGIN, password: str = "ABC123") -> dict:
    return token_from(_card(profile).enroll(password, signed_data(origin, nonce)))


def refresh_crls(app, *options: str) -> str:
    """What the operator runs after publishing a CRL: `madoguchi card refresh-crls`."""
    from click.testing import CliRunner
    from portal.cards.cli import refresh_crls as command
    from portal.cli import Context
    context = Context()
    context._app = app
    result = CliRunner().invoke(command, list(options), obj=context)
    assert result.exit_code == 0, result.output
    return result.output


def csrf_token(client) -> str:
    html = client.get("/auth/login").get_data(as_text=True)
    return re.search(r'data-csrf="([^"]+)"', html).group(1)


class CardClient:
    """A browser session doing the card protocol against the test client."""

    def __init__(self, client):
        self.client = client
        self.csrf = csrf_token(client)

    def post(self, path, body):
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf})

    def challenge(self, purpose="login") -> str:
        response = self.post("/auth/challenge", {"purpose": purpose})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["nonce"]

    def login(self, profile, **options):
        return self.post("/auth/card", login_token(profile, self.challenge(), **options))


def enrolled(app, profile) -> CardClient:
    """A new browser whose first card sign-in enrolls the card: signed in with it."""
    from tests.conftest import https_client
    browser = CardClient(https_client(app))
    nonce = browser.login(profile).get_json()["nonce"]
    assert browser.post("/auth/enroll", enroll_token(profile, nonce)).get_json()["status"] == "signed_in"
    return browser


@pytest.fixture
def card_client(client):
    return CardClient(client)


@pytest.fixture
def issue_card(card_pki):
    """Factory: a card for a person (the registry must hold them for enrollment)."""
    def issue(name="高知　花子", birth_date=date(1990, 4, 1), sex="2",
              address="高知県南国市大そね1番地", **options):
        return card_pki.issue_card(name=name, birth_date=birth_date, sex=sex, address=address,
                                   **options)
    return issue
