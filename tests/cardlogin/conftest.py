"""Card login in a real browser: headless Chromium, the portal on a live server, the card
bridge on loopback, the virtual card in reader A of the real pcscd.

The portal must know the bridge's URL when the app is built (CSP, data-bridge), and the
bridge must know the portal's origin, which exists only once the live server runs: so the
bridge's port is chosen first and the bridge started on it afterwards."""
from __future__ import annotations

import socket
from datetime import date

import pytest

from tests.browser.conftest import browser, live_server, page  # noqa: F401
from tests.smartcard.conftest import PORT_A, READER_A, pcsc_stack, serve, stop  # noqa: F401

HOME = "高知県南国市大そね1番地"
PIN, PASSWORD = "1234", "ABC123"
KIOSK_ID = "nankoku-chuo"


@pytest.fixture
def bridge_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app_config(app_config, bridge_port):
    """The lead's configuration (which trusts the session's test PKI) plus the bridge and a kiosk."""
    return {**app_config, "CARD_BRIDGE_URL": f"http://127.0.0.1:{bridge_port}",
            "KIOSKS": {KIOSK_ID: {"municipality": "392049", "name": "南国市立中央公民館"}}}


@pytest.fixture
def start_bridge(live_server, bridge_port):
    """Factory: start_bridge(kiosk=False) -> a Bridge serving the live portal's origin."""
    from madoguchi_smartcard.bridge.server import Bridge
    started = []

    def start(**options):
        bridge = Bridge([live_server], port=bridge_port, reader=READER_A, card_wait_s=2.0, **options).start()
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()


@pytest.fixture
def city(make_city):
    return make_city("392049", "南国市")


@pytest.fixture
def hanako(make_resident, city):
    return make_resident(city, family="高知", given="花子", birth=date(1990, 4, 1), address=HOME)


@pytest.fixture
def hanako_card(card_pki):
    """Hanako's card, issued by the PKI the portal trusts (full PIN counters)."""
    return card_pki.issue_card(name="高知　花子", birth_date=date(1990, 4, 1), sex="2", address=HOME,
                               pin=PIN, password=PASSWORD)


@pytest.fixture
def card_on_reader(pcsc_stack, hanako_card):  # noqa: F811
    server = serve(hanako_card, PORT_A, READER_A, pcsc_stack)
    yield server
    stop(server, READER_A, pcsc_stack)


@pytest.fixture(autouse=True)
def one_window_afterwards(browser):  # noqa: F811
    """A test that fails half-way may leave the bridge window open: close it for the next test."""
    first = browser.current_window_handle
    yield
    for handle in browser.window_handles:
        if handle != first:
            browser.switch_to.window(handle)
            browser.close()
    browser.switch_to.window(first)
