"""The bridge's card API against the virtual card in a real pcscd (pyscard → pcscd → vpcd).

Each refusal the resident can meet has its own plain Japanese message (English second)."""
from __future__ import annotations

import base64
import hashlib
import http.client
import logging
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from madoguchi_smartcard.bridge.cardwork import TOKEN_FORMAT, signed_data
from madoguchi_smartcard.virtual import SW_NOT_FOUND, VirtualMyNumberCard
from tests.bridge.conftest import (NONCE, PASSWORD, PIN, PORT_A, PORTAL, READER_A, BridgeClient,
                                   fresh_copy, serve, stop)

pytestmark = pytest.mark.card
ENROLL_NONCE = "Zm9yLWVucm9sbG1lbnQtb25seS0zMi1ieXRlcyE/PyE="


def verifies(token: dict, data: bytes) -> bool:
    """Does the token's signature verify with its certificate over SHA-256(data)?"""
    certificate = x509.load_der_x509_certificate(base64.b64decode(token["certificate"]))
    try:
        certificate.public_key().verify(base64.b64decode(token["signature"]), data,
                                        padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


def error_of(answer) -> dict:
    assert answer.status != 200, answer.text
    return answer.json()["error"]


# -- signing in -----------------------------------------------------------------------------------

def test_login_returns_a_token_signed_over_origin_and_nonce(bridge_client, card_in_reader, card_profile):
    _, answer = bridge_client.login()
    assert answer.status == 200, answer.text
    token = answer.json()["token"]
    assert token["format"] == TOKEN_FORMAT and token["algorithm"] == "RS256"
    assert token["appVersion"].startswith("madoguchi-bridge/")
    assert base64.b64decode(token["certificate"]) == card_profile.auth.certificate
    expected = hashlib.sha256(PORTAL.encode()).digest() + hashlib.sha256(NONCE.encode()).digest()
    assert signed_data(PORTAL, NONCE) == expected
    assert verifies(token, expected)
    assert not verifies(token, signed_data("https://evil.example", NONCE))


def test_the_origin_signed_is_the_one_the_page_showed(bridge_client, card_in_reader):
    """A page cannot swap the origin after the resident confirmed it: the grant carries it."""
    grant = bridge_client.grant(origin=PORTAL)
    answer = bridge_client.api("/api/login", {"grant": grant, "pin": PIN, "origin": "https://evil.example",
                                              "nonce": "A" * 44})
    token = answer.json()["token"]
    assert verifies(token, signed_data(PORTAL, NONCE))


def test_a_grant_does_not_outlive_its_page(bridge_client, card_in_reader):
    grant = bridge_client.grant()
    bridge_client.bridge.grants._grants[grant].expires_at = time.monotonic() - 1
    assert error_of(bridge_client.api("/api/login", {"grant": grant, "pin": PIN}))["code"] == "expired"


# -- wrong PIN, blocked PIN -------------------------------------------------------------------------

def test_wrong_pin_says_how_many_tries_are_left(bridge_client, card_in_reader):
    grant, answer = bridge_client.login(pin="0000")
    error = error_of(answer)
    assert answer.status == 409
    assert error["code"] == "wrong_pin" and error["tries_left"] == 2 and error["retry"] is True
    assert error["message"] == "暗証番号が違います。あと2回間違えると暗証番号がロックされます。"
    assert "2 more wrong tries" in error["message_en"]
    again = bridge_client.api("/api/login", {"grant": grant, "pin": "1111"})
    assert error_of(again)["tries_left"] == 1
    right = bridge_client.api("/api/login", {"grant": grant, "pin": PIN})
    assert right.status == 200  # the same window may try again


def test_third_wrong_pin_blocks_and_then_even_the_right_pin_is_refused(bridge_client, card_in_reader):
    grant = bridge_client.grant()
    for _ in range(2):
        bridge_client.api("/api/login", {"grant": grant, "pin": "0000"})
    third = error_of(bridge_client.api("/api/login", {"grant": grant, "pin": "0000"}))
    assert third["code"] == "pin_blocked" and third["retry"] is False
    assert "ロックされています" in third["message"] and "窓口" in third["message"]
    right = error_of(bridge_client.api("/api/login", {"grant": grant, "pin": PIN}))
    assert right["code"] == "pin_blocked"


# -- reader and card problems ------------------------------------------------------------------------

def test_no_reader(make_bridge, pcsc_stack):
    client = BridgeClient(make_bridge(reader="SONY FeliCa Port/PaSoRi 4.0 00 00"))
    error = error_of(client.login()[1])
    assert error["code"] == "no_reader"
    assert error["message"].startswith("カードリーダーが見つかりません")


def test_no_card(bridge_client, pcsc_stack):
    started = time.monotonic()
    error = error_of(bridge_client.login()[1])
    assert error["code"] == "no_card" and error["retry"] is True
    assert error["message"].startswith("カードが置かれていません")
    assert time.monotonic() - started < 5  # waits card_wait_s (1 s), not forever


class NotAMyNumberCard(VirtualMyNumberCard):
    """A card without the JPKI applet (a bank or transport card on the reader)."""

    def process(self, raw: bytes) -> bytes:
        if raw[:4] == bytes.fromhex("00A4040C"):
            return SW_NOT_FOUND
        return super().process(raw)


def test_wrong_card(bridge_client, pcsc_stack, card_profile):
    server = serve(NotAMyNumberCard(card_profile), PORT_A, READER_A, pcsc_stack)
    try:
        error = error_of(bridge_client.login()[1])
    finally:
        stop(server, READER_A, pcsc_stack)
    assert error["code"] == "wrong_card"
    assert error["message"].startswith("マイナンバーカードではないようです")


def test_card_removed_during_the_login(bridge_client, card_in_reader):
    card_in_reader.drop_after(4)  # mid-way through reading the certificate
    error = error_of(bridge_client.login()[1])
    assert error["code"] == "card_removed"
    assert "取り外されました" in error["message"]


def test_without_a_configured_reader_the_one_holding_a_card_is_used(make_bridge, card_in_reader):
    client = BridgeClient(make_bridge(reader=None))
    assert client.login()[1].status == 200


# -- enrollment ---------------------------------------------------------------------------------------

def test_enrollment_signs_with_the_signing_key_over_the_enrollment_nonce(bridge_client, card_in_reader,
                                                                          card_profile):
    grant, login = bridge_client.login()
    assert login.status == 200
    answer = bridge_client.api("/api/enroll", {"grant": grant, "password": PASSWORD.lower(),
                                               "nonce": ENROLL_NONCE})
    assert answer.status == 200, answer.text
    token = answer.json()["token"]
    assert base64.b64decode(token["certificate"]) == card_profile.signing.certificate
    assert verifies(token, signed_data(PORTAL, ENROLL_NONCE))


def test_enrollment_needs_a_pin_login_first(bridge_client, card_in_reader):
    grant = bridge_client.grant()
    error = error_of(bridge_client.api("/api/enroll", {"grant": grant, "password": PASSWORD,
                                                       "nonce": ENROLL_NONCE}))
    assert error["code"] == "not_logged_in"


def test_wrong_signing_password_says_how_many_tries_are_left(bridge_client, card_in_reader):
    grant, _ = bridge_client.login()
    error = error_of(bridge_client.api("/api/enroll", {"grant": grant, "password": "WRONG1",
                                                       "nonce": ENROLL_NONCE}))
    assert error["code"] == "wrong_password" and error["tries_left"] == 4
    assert error["message"] == "署名用電子証明書のパスワードが違います。あと4回間違えるとロックされます。"


@pytest.mark.parametrize("password", ["ABC12", "A" * 17, "ABC-123", "ＡＢＣ１２３"])
def test_a_malformed_password_never_reaches_the_card(bridge_client, card_in_reader, password):
    grant, _ = bridge_client.login()
    error = error_of(bridge_client.api("/api/enroll", {"grant": grant, "password": password,
                                                       "nonce": ENROLL_NONCE}))
    assert error["code"] == "invalid_password" and "6〜16文字" in error["message"]


def test_a_card_without_signing_certificate_is_sent_to_the_counter(bridge_client, pcsc_stack,
                                                                   minor_card_issued):
    server = serve(fresh_copy(minor_card_issued), PORT_A, READER_A, pcsc_stack)
    try:
        grant, login = bridge_client.login()
        assert login.status == 200
        error = error_of(bridge_client.api("/api/enroll", {"grant": grant, "password": PASSWORD,
                                                           "nonce": ENROLL_NONCE}))
    finally:
        stop(server, READER_A, pcsc_stack)
    assert error["code"] == "no_signing_certificate" and "窓口" in error["message"]


# -- the PIN stays in the bridge ------------------------------------------------------------------------

def test_the_pin_and_password_appear_in_no_log(bridge_client, card_in_reader, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    grant, _ = bridge_client.login(pin="8643")  # wrong: logs the failure
    bridge_client.api("/api/login", {"grant": grant, "pin": PIN})
    bridge_client.api("/api/enroll", {"grant": grant, "password": PASSWORD, "nonce": ENROLL_NONCE})
    captured = capfd.readouterr()
    everything = caplog.text + captured.out + captured.err
    assert "/api/login" in caplog.text and "/api/enroll" in caplog.text  # the requests were logged
    for secret in (PIN, "8643", PASSWORD, NONCE):
        assert secret not in everything
    assert "wrong_pin" in caplog.text or "WrongPin" in caplog.text


def test_the_pin_is_never_accepted_from_a_url(bridge_client, card_in_reader):
    grant = bridge_client.grant()
    answer = bridge_client.request("POST", f"/api/login?grant={grant}&pin={PIN}",
                                   headers={"Origin": bridge_client.bridge.url,
                                            "Content-Type": "application/json", "Content-Length": "2"},
                                   body=b"{}")
    assert answer.status == 403 and error_of(answer)["code"] == "expired"
    page = bridge_client.request("GET", f"/sign?origin={PORTAL}&nonce={NONCE}&pin={PIN}")
    assert PIN not in page.text


# -- kiosk: card events ------------------------------------------------------------------------------------

def read_events(connection: http.client.HTTPResponse, wanted: str, timeout_s: float) -> list[str]:
    """Lines of the stream up to the first ``event: wanted`` (or the timeout)."""
    lines, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = connection.fp.readline().decode("utf-8").rstrip("\n")
        lines.append(line)
        if line == f"event: {wanted}":
            lines.append(connection.fp.readline().decode("utf-8").rstrip("\n"))
            return lines
    return lines


def test_kiosk_streams_card_removal_and_insertion(make_bridge, card_in_reader):
    kiosk = make_bridge(kiosk=True)
    connection = http.client.HTTPConnection("127.0.0.1", kiosk.port, timeout=5)
    connection.request("GET", "/events", headers={"Origin": PORTAL, "Host": f"127.0.0.1:{kiosk.port}"})
    stream = connection.getresponse()
    assert stream.status == 200
    assert stream.getheader("Content-Type").startswith("text/event-stream")
    assert stream.getheader("Access-Control-Allow-Origin") == PORTAL
    state = read_events(stream, "state", 5)
    assert f'data: {{"present": ["{READER_A}"]}}' in state
    removed_at = time.monotonic()
    card_in_reader.remove()
    removed = read_events(stream, "removed", 5)
    assert removed[-1] == f'data: {{"reader": "{READER_A}"}}'
    assert time.monotonic() - removed_at < 1.5
    card_in_reader.insert()
    assert read_events(stream, "inserted", 5)[-1] == f'data: {{"reader": "{READER_A}"}}'
    connection.close()
