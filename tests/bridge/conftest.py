"""Fixtures for the card bridge: a bridge on a free loopback port, a client speaking to it
the way its own page does, and the virtual card in reader A of the real pcscd."""
from __future__ import annotations

import datetime as dt
import http.client
import json
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from madoguchi_smartcard.profile import CardProfile
from madoguchi_smartcard.testpki import TestPKI
from tests.smartcard.conftest import PORT_A, READER_A, fresh_copy, pcsc_stack, serve, stop  # noqa: F401

PORTAL = "https://portal.example.lg.jp"
LOCAL_PORTAL = "http://127.0.0.1:5000"
NONCE = "q3Jx0m+Vd8sB/Zt1uK9yW4eR7aL2nH6cF5gP0iQzXo8="  # 32 bytes in base64, '+' and '/' included
PIN, PASSWORD = "8642", "ZQ7WX9"  # distinctive, so a leak into a log or URL is findable


@pytest.fixture(scope="session")
def bridge_pki(tmp_path_factory) -> TestPKI:
    return TestPKI.create(tmp_path_factory.mktemp("bridge-pki"))


@pytest.fixture(scope="session")
def bridge_card_issued(bridge_pki) -> CardProfile:
    return bridge_pki.issue_card(name="高知　花子", birth_date=dt.date(1990, 4, 1), sex="2",
                                 address="高知県南国市大そね甲１２３番地", pin=PIN, password=PASSWORD,
                                 partition=("Kochi-ken", "Nankoku-shi"))


@pytest.fixture(scope="session")
def minor_card_issued(bridge_pki) -> CardProfile:
    """Under-15s hold no signing certificate."""
    return bridge_pki.issue_card(name="高知　太郎", birth_date=dt.date(2016, 5, 5), sex="1",
                                 address="高知県南国市大そね甲１２３番地", pin=PIN, password=PASSWORD,
                                 with_signing=False)


@pytest.fixture
def card_profile(bridge_card_issued) -> CardProfile:
    return fresh_copy(bridge_card_issued)


@pytest.fixture
def card_in_reader(pcsc_stack, card_profile):  # noqa: F811
    """A fresh virtual card (full PIN counters) in reader A, through pcscd and vpcd."""
    server = serve(card_profile, PORT_A, READER_A, pcsc_stack)
    yield server
    stop(server, READER_A, pcsc_stack)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)


class BridgeClient:
    """Speaks HTTP to a bridge; by default as its own page would (Origin = the bridge)."""

    def __init__(self, bridge) -> None:
        self.bridge = bridge

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                host: str | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.bridge.port, timeout=30)
        all_headers = {"Host": host or f"127.0.0.1:{self.bridge.port}"} | (headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        connection.close()
        return answer

    def sign_page(self, origin: str = PORTAL, nonce: str = NONCE, purpose: str = "login") -> Answer:
        return self.request("GET", f"/sign?origin={quote(origin, safe='')}&nonce={nonce}&purpose={purpose}")

    def grant(self, origin: str = PORTAL, nonce: str = NONCE) -> str:
        page = self.sign_page(origin, nonce)
        assert page.status == 200, page.text
        return re.search(r'data-grant="([^"]+)"', page.text).group(1)

    def api(self, path: str, payload: dict, origin: str | None = None,
            content_type: str = "application/json") -> Answer:
        headers = {"Content-Type": content_type, "Origin": origin or self.bridge.url}
        if origin == "":
            del headers["Origin"]
        return self.request("POST", path, json.dumps(payload).encode(), headers)

    def login(self, pin: str = PIN, origin: str = PORTAL, nonce: str = NONCE) -> tuple[str, Answer]:
        grant = self.grant(origin, nonce)
        return grant, self.api("/api/login", {"grant": grant, "pin": pin})


@pytest.fixture
def make_bridge():
    """Factory: make_bridge(origins=..., kiosk=False, reader=READER_A, ...) -> started Bridge."""
    from madoguchi_smartcard.bridge.server import Bridge
    started = []

    def create(origins=(PORTAL, LOCAL_PORTAL), **options):
        options.setdefault("reader", READER_A)
        options.setdefault("card_wait_s", 1.0)
        bridge = Bridge(list(origins), port=0, **options).start()
        started.append(bridge)
        return bridge

    yield create
    for bridge in started:
        bridge.stop()


@pytest.fixture
def bridge(make_bridge):
    return make_bridge()


@pytest.fixture
def bridge_client(bridge) -> BridgeClient:
    return BridgeClient(bridge)
