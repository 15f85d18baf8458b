"""Fixtures for the convenience_issuance tests: two cities, residents with bound cards, a
fixed clock inside opening hours, a test municipal signing key, and a store terminal that
speaks the JSON API through the test client."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.cards.models import CardBinding
from portal.cards.services import validators
from portal.cards.validation import parse_token
from services.convenience_issuance.signing import KeyRing, generate_municipal_key
from tests.browser.conftest import browser, live_server, page  # noqa: F401
from tests.cards.conftest import issue_card, login_token  # noqa: F401

API = "/services/convenience_issuance/api/v1"
# 2026-07-01 10:00 in Japan (a Wednesday, open hours), as the server's UTC naive time.
OPEN_TIME = datetime(2026, 7, 1, 1, 0)


class Clock:
    """The service's clock (app.extensions['convenience_issuance.clock'])."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    fixed = Clock(OPEN_TIME)
    app.extensions["convenience_issuance.clock"] = fixed
    return fixed


@pytest.fixture(scope="session")
def municipal_keys():
    """One test signing key per city code (RSA generation is slow; made once)."""
    return {"392049": generate_municipal_key("南国市", "392049"),
            "392111": generate_municipal_key("香南市", "392111")}


@pytest.fixture
def keys(app, municipal_keys) -> KeyRing:
    ring = KeyRing({}, allow_development=False)
    for code, key in municipal_keys.items():
        ring.add(code, key)
    app.extensions["convenience_issuance.keys"] = ring
    return ring


@pytest.fixture
def city(make_city):
    return make_city("392049", "南国市")


@pytest.fixture
def other_city(make_city):
    return make_city("392111", "香南市")


@pytest.fixture
def bind_card(app, db, issue_card):  # noqa: F811
    """Factory: a virtual card for a resident, bound to them (as after enrollment)."""
    def bind(resident, birth_date=None):
        card = issue_card(name=resident.name, birth_date=resident.birth_date, address=resident.address)
        token = parse_token(login_token(card, "bind"))
        checked = validators(app).auth.validate_certificate(token.certificate)
        with db.transaction(resident.municipality_id) as s:
            s.add(CardBinding(municipality_id=resident.municipality_id, issuer=checked.issuer_name,
                              serial=checked.serial_hex, fingerprint_sha256=checked.fingerprint,
                              resident_id=resident.id))
        return card
    return bind


class Terminal:
    """A store terminal driving the API through the test client (no cookies used)."""

    def __init__(self, client, city_code: str, terminal_id: str = "store-0001") -> None:
        self.client, self.code, self.terminal_id = client, city_code, terminal_id
        self.token: str | None = None

    def headers(self, **extra) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **extra}

    def challenge(self):
        return self.client.post(f"{API}/sessions/challenge",
                                json={"municipality": self.code, "terminal_id": self.terminal_id})

    def start(self, card, origin: str = "https://localhost"):
        challenge = self.challenge()
        assert challenge.status_code == 200, challenge.get_json()
        data = challenge.get_json()
        response = self.client.post(f"{API}/sessions", json={
            "request_id": data["request_id"], "nonce": data["nonce"], "terminal_id": self.terminal_id,
            "token": login_token(card, data["nonce"], origin)})
        if response.status_code == 201:
            self.token = response.get_json()["access_token"]
        return response

    def quote(self, certificate_type: str, **options):
        return self.client.post(f"{API}/request/quote", headers=self.headers(),
                                json={"certificate_type": certificate_type, "options": options})

    def pay(self, key: str, amount: int):
        return self.client.post(f"{API}/request/payment", headers=self.headers(),
                                json={"idempotency_key": key, "amount": amount})

    def pdf(self):
        return self.client.get(f"{API}/request/certificate.pdf", headers=self.headers())

    def outcome(self, result: str):
        return self.client.post(f"{API}/request/outcome", headers=self.headers(), json={"result": result})

    def status(self):
        return self.client.get(f"{API}/request", headers=self.headers())

    def cancel(self):
        return self.client.delete(f"{API}/request", headers=self.headers())


@pytest.fixture
def terminal(app, city, clock, keys):
    from tests.conftest import https_client
    return Terminal(https_client(app), city.code)


HOME = "高知県南国市大そね1番地"


@pytest.fixture
def hanako(make_resident, city):
    return make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1), address=HOME,
                         honseki="高知県南国市本籍1番地", hittosha="高知　太郎")
