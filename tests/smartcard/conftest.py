"""Fixtures for the card tests: one test PKI per session, fresh cards per test, the PC/SC stack."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest

from madoguchi_smartcard.profile import CardProfile
from madoguchi_smartcard.testpki import TestPKI
from madoguchi_smartcard.transport import InProcessTransport, RecordingTransport
from madoguchi_smartcard.virtual import VirtualMyNumberCard

REPO = Path(__file__).resolve().parents[2]
READER_A, READER_B = "Virtual PCD 00 00", "Virtual PCD 00 01"
PORT_A, PORT_B = 35963, 35964


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> TestPKI:
    """One PKI per session: RSA key generation is the slow part of these tests."""
    return TestPKI.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def issued(pki) -> CardProfile:
    return pki.issue_card(name="山田　太郎", name_kana="ヤマダ　タロウ", birth_date=dt.date(1985, 4, 1),
                          sex="1", address="東京都千代田区千代田１－１", pin="1234", password="ABC123")


@pytest.fixture(scope="session")
def issued_other(pki) -> CardProfile:
    return pki.issue_card(name="佐藤　花子", birth_date=dt.date(2001, 2, 28), sex="2",
                          address="大阪府大阪市北区中之島１－３－２０", pin="9876", password="PASS99",
                          partition=("Osaka-fu", "Osaka-shi"))


def fresh_copy(profile: CardProfile, path: Path | None = None) -> CardProfile:
    """A new card with the same keys and full PIN counters (memory-only unless ``path``)."""
    copy = CardProfile.from_json(profile.to_json())
    copy.counters = type(copy.counters)()
    if path is not None:
        copy.save(path)
    return copy


@pytest.fixture
def copy_card():
    """Factory: fresh_copy(profile, path=None) -> a new card with full counters."""
    return fresh_copy


@pytest.fixture
def profile(issued) -> CardProfile:
    return fresh_copy(issued)


@pytest.fixture
def virtual_card(profile) -> VirtualMyNumberCard:
    return VirtualMyNumberCard(profile)


@pytest.fixture
def transport(virtual_card):
    """An in-process transport that records every APDU."""
    with RecordingTransport(InProcessTransport(virtual_card)) as recording:
        yield recording


# -- the PC/SC stack ------------------------------------------------------------------------

def bring_up_pcscd() -> None:
    result = subprocess.run([str(REPO / "scripts" / "pcsc-up.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"cannot bring up pcscd + vpcd (scripts/pcsc-up.sh):\n{result.stdout}{result.stderr}",
                    pytrace=False)


@pytest.fixture(scope="session")
def pcsc_stack():
    """pcscd with vpcd's two virtual readers.  Never skips: fails loudly if the stack is missing."""
    bring_up_pcscd()
    from madoguchi_smartcard import readers
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if {READER_A, READER_B} <= set(readers.list_readers()):
                return readers
        except Exception:  # pcscd still starting
            pass
        time.sleep(0.2)
    pytest.fail(f"pcscd is up but the vpcd readers {READER_A!r}, {READER_B!r} are not listed", pytrace=False)


def serve(profile: CardProfile, port: int, reader: str, readers_module, **options):
    from madoguchi_smartcard.vpcd import VirtualCardServer
    server = VirtualCardServer(profile, port=port, **options).start()
    readers_module.wait_for_card(reader, timeout_s=10)
    return server


def stop(server, reader: str, readers_module) -> None:
    server.stop()
    readers_module.wait_for_removal(reader, timeout_s=10)  # the next test starts with an empty reader


@pytest.fixture
def card_server(pcsc_stack, profile):
    """The per-test fresh card, inserted in reader A through pcscd/vpcd."""
    server = serve(profile, PORT_A, READER_A, pcsc_stack)
    yield server
    stop(server, READER_A, pcsc_stack)


@pytest.fixture(scope="module")
def module_card(pcsc_stack, issued) -> CardProfile:
    """One fresh card in reader A for a whole module: for tools that connect afresh on
    every call (OpenSC), and tests that leave the card as they found it."""
    profile = fresh_copy(issued)
    server = serve(profile, PORT_A, READER_A, pcsc_stack)
    yield profile
    stop(server, READER_A, pcsc_stack)


@pytest.fixture
def pcsc_card(pcsc_stack, card_server):
    """A JPKICard on the PC/SC transport to reader A."""
    from madoguchi_smartcard.jpki import JPKICard
    transport = RecordingTransport(pcsc_stack.PcscTransport(READER_A))
    transport.connect()
    yield JPKICard(transport)
    transport.disconnect()


class VpcdHelper:
    """What card tests need beside fixtures: reader names, ports, serving and restarting."""

    READER_A, READER_B, PORT_A, PORT_B = READER_A, READER_B, PORT_A, PORT_B

    def __init__(self, readers_module):
        self.readers = readers_module

    def serve(self, profile, port, reader, **options):
        return serve(profile, port, reader, self.readers, **options)

    def stop(self, server, reader):
        stop(server, reader, self.readers)

    @staticmethod
    def bring_up_pcscd():
        bring_up_pcscd()


@pytest.fixture
def vpcd(pcsc_stack) -> VpcdHelper:
    return VpcdHelper(pcsc_stack)
