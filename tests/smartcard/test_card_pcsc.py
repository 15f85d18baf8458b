"""The library through pyscard → pcscd → vpcd → the virtual card: what a resident's reader does."""

import os
import signal
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from madoguchi_smartcard import errors
from madoguchi_smartcard.cli import card as card_cli
from madoguchi_smartcard.jpki import JPKICard


pytestmark = pytest.mark.card
READER_A, READER_B = "Virtual PCD 00 00", "Virtual PCD 00 01"


def test_both_certificates_are_read(pcsc_card, profile):
    assert pcsc_card.read_auth_certificate() == profile.auth.certificate
    assert pcsc_card.read_auth_ca_certificate() == profile.auth.ca_certificate
    assert pcsc_card.extended_reads is True  # pcscd + vpcd pass extended APDUs through


def test_wrong_pin_twice_then_right_resets_the_counter(pcsc_card):
    for left in (2, 1):
        with pytest.raises(errors.WrongPin) as caught:
            pcsc_card.verify_auth_pin("9999")
        assert caught.value.tries_left == left
    pcsc_card.verify_auth_pin("1234")
    assert pcsc_card.auth_pin_tries_left() == 3


def test_third_wrong_pin_blocks(pcsc_card):
    for _ in range(3):
        with pytest.raises(errors.WrongPin):
            pcsc_card.verify_auth_pin("9999")
    with pytest.raises(errors.PinBlocked) as caught:
        pcsc_card.verify_auth_pin("1234")
    assert caught.value.sw == 0x6984 and "ロック" in caught.value.message_ja


def test_signing_certificate_is_unreadable_before_the_password(pcsc_card, profile):
    with pytest.raises(errors.SecurityStatusNotSatisfied) as caught:
        pcsc_card.read_signing_certificate()
    assert caught.value.sw == 0x6982
    pcsc_card.verify_signing_password("abc123")
    assert pcsc_card.read_signing_certificate() == profile.signing.certificate


def test_login_signature_verifies_with_the_certificate_key(pcsc_card):
    result = pcsc_card.login("1234", b"\x01" * 32 + b"\x02" * 32)
    key = x509.load_der_x509_certificate(result.certificate).public_key()
    key.verify(result.signature, b"\x01" * 32 + b"\x02" * 32, padding.PKCS1v15(), hashes.SHA256())
    assert len(pcsc_card.transport.commands) == 8


def test_card_removed_mid_operation_leaves_nothing_half_done(pcsc_stack, card_server, pcsc_card, profile):
    card_server.drop_after(3)  # select AP, select EF, then the card leaves during VERIFY
    with pytest.raises(errors.CardRemoved) as caught:
        pcsc_card.verify_auth_pin("9999")
    assert "取り外され" in caught.value.message_ja
    assert profile.counters.auth_pin == 3  # the wrong PIN never reached the chip
    card_server.insert()
    pcsc_stack.wait_for_card(READER_A, timeout_s=10)
    with pcsc_stack.PcscTransport(READER_A) as transport:
        assert JPKICard(transport).auth_pin_tries_left() == 3


def test_garbled_answer_is_an_unexpected_answer(card_server, pcsc_card):
    pcsc_card.select_jpki()
    card_server.garble_next()
    with pytest.raises(errors.UnexpectedAnswer):
        pcsc_card.read_token_label()
    assert pcsc_card.read_token_label() == "JPKIAPICCTOKEN2"


def test_two_readers_hold_two_cards(pcsc_stack, vpcd, card_server, issued_other, copy_card, profile):
    other = vpcd.serve(copy_card(issued_other), vpcd.PORT_B, READER_B)
    try:
        assert set(pcsc_stack.find_mynumber_readers()) >= {READER_A, READER_B}
        with pcsc_stack.PcscTransport(READER_B) as transport:
            assert JPKICard(transport).read_auth_certificate() == issued_other.auth.certificate
        with pcsc_stack.PcscTransport(READER_A) as transport:
            assert JPKICard(transport).read_auth_certificate() == profile.auth.certificate
    finally:
        vpcd.stop(other, READER_B)


def test_insertion_and_removal_are_reported_as_events(pcsc_stack, card_server):
    monitor = pcsc_stack.CardMonitor(poll_s=0.2)
    seen = []
    events = monitor.events(timeout_s=15)
    card_server.remove()
    for event in events:
        seen.append((event.kind, event.reader))
        if event.kind == "removed" and event.reader == READER_A:
            card_server.insert()
        if event.kind == "inserted" and event.reader == READER_A:
            break
    assert seen == [("removed", READER_A), ("inserted", READER_A)]


def test_wait_for_card_times_out_with_a_japanese_message(pcsc_stack):
    with pytest.raises(errors.CardTimeout) as caught:
        pcsc_stack.wait_for_card(READER_B, timeout_s=0.5)
    assert "カード" in caught.value.message_ja


def test_support_desk_status_and_read_cert(card_server, profile):
    runner = CliRunner()
    result = runner.invoke(card_cli, ["status", "--reader", READER_A])
    assert result.exit_code == 0, result.output
    assert "JPKIAPICCTOKEN2" in result.output and "=3" in result.output
    result = runner.invoke(card_cli, ["read-cert", "--reader", READER_A])
    assert result.exit_code == 0, result.output
    cert = x509.load_der_x509_certificate(profile.auth.certificate)
    assert f"{cert.serial_number:x}" in result.output and "SHA-256" in result.output


def _pcscd_pid() -> int:
    return int(Path("/run/pcscd/pcscd.pid").read_text().strip("\x00\n "))


def test_next_operation_works_after_pcscd_restarts(pcsc_stack, vpcd, card_server, pcsc_card):
    pcsc_card.login("1234", b"before")
    pid = _pcscd_pid()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(errors.ReaderError):  # the old handle died with pcscd
        pcsc_card.read_token_label()
    vpcd.bring_up_pcscd()
    pcsc_stack.wait_for_card(READER_A, timeout_s=10)  # same default context, re-established
    with pcsc_stack.PcscTransport(READER_A) as transport:
        assert JPKICard(transport).login("1234", b"after").signature
