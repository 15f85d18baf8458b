"""JPKI card operations against the virtual card, in-process (fast)."""

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from madoguchi_smartcard import constants, errors
from madoguchi_smartcard.jpki import JPKICard, sha256_digest_info
from madoguchi_smartcard.profile import CardProfile
from madoguchi_smartcard.transport import InProcessTransport, RecordingTransport
from madoguchi_smartcard.virtual import VirtualMyNumberCard


def test_login_takes_eight_apdus_with_one_extended_read(transport, profile):
    card = JPKICard(transport)
    result = card.login("1234", b"origin-and-nonce")
    assert result.certificate == profile.auth.certificate
    assert len(transport.commands) == 8  # select AP, select EF, header, rest, select PIN, verify, select key, sign
    assert card.extended_reads is True
    public_key = x509.load_der_x509_certificate(result.certificate).public_key()
    public_key.verify(result.signature, b"origin-and-nonce", padding.PKCS1v15(), hashes.SHA256())


def test_card_refusing_extended_length_falls_back_to_256_byte_chunks(profile):
    profile.extended_length = False
    with RecordingTransport(InProcessTransport(VirtualMyNumberCard(profile), supports_extended=None)) as t:
        card = JPKICard(t)
        assert card.read_auth_certificate() == profile.auth.certificate
        assert card.extended_reads is False
        reads = [c for c in t.commands if c[1] == 0xB0]
        size = len(profile.auth.certificate)
        assert len(reads) == 1 + 1 + -(-(size - 4) // 256)  # header, refused extended, chunks
        before = len(t.commands)
        card.read_auth_ca_certificate()  # remembered: no second extended attempt
        assert all(len(c) == 5 for c in t.commands[before:] if c[1] == 0xB0)


def test_configured_chunked_reads_never_try_extended(transport, profile):
    card = JPKICard(transport, extended_reads=False)
    assert card.read_auth_certificate() == profile.auth.certificate
    assert all(len(c) == 5 for c in transport.commands if c[1] == 0xB0)


def test_both_auth_certificates_and_token_label(transport, profile):
    card = JPKICard(transport)
    assert card.read_auth_certificate() == profile.auth.certificate
    assert card.read_auth_ca_certificate() == profile.auth.ca_certificate
    assert card.read_signing_ca_certificate() == profile.signing.ca_certificate
    assert card.read_token_label() == "JPKIAPICCTOKEN2"


def test_tries_left_does_not_spend_a_try(transport):
    card = JPKICard(transport)
    assert [card.auth_pin_tries_left() for _ in range(5)] == [3] * 5
    assert card.signing_password_tries_left() == 5


def test_wrong_pin_twice_then_right_restores_the_counter(transport, profile):
    card = JPKICard(transport)
    for left in (2, 1):
        with pytest.raises(errors.WrongPin) as caught:
            card.verify_auth_pin("0000")
        assert caught.value.tries_left == left
    card.verify_auth_pin("1234")
    assert card.auth_pin_tries_left() == 3 and profile.counters.auth_pin == 3


def test_third_wrong_pin_blocks_even_the_right_one(transport):
    card = JPKICard(transport)
    for _ in range(2):
        with pytest.raises(errors.WrongPin):
            card.verify_auth_pin("0000")
    with pytest.raises(errors.WrongPin) as caught:
        card.verify_auth_pin("0000")
    assert caught.value.tries_left == 0
    with pytest.raises(errors.PinBlocked):
        card.verify_auth_pin("1234")
    assert card.auth_pin_tries_left() == 0


def test_malformed_pin_never_reaches_the_card(transport):
    card = JPKICard(transport)
    for pin in ("123", "12345", "abcd", "１２３４", ""):
        with pytest.raises(errors.InvalidPinFormat):
            card.verify_auth_pin(pin)
    assert transport.commands == []


def test_signing_certificate_needs_the_password_which_is_upper_cased(transport, profile):
    card = JPKICard(transport)
    with pytest.raises(errors.SecurityStatusNotSatisfied) as caught:
        card.read_signing_certificate()
    assert caught.value.sw == 0x6982
    card.verify_signing_password("abc123")
    assert card.read_signing_certificate() == profile.signing.certificate


def test_signing_password_allows_five_tries(transport):
    card = JPKICard(transport)
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(errors.WrongPin) as caught:
            card.verify_signing_password("WRONG1")
        assert caught.value.tries_left == left
    with pytest.raises(errors.PinBlocked):
        card.verify_signing_password("ABC123")


def test_enroll_signs_with_the_signing_key(transport):
    result = JPKICard(transport).enroll("ABC123", b"enrollment challenge")
    key = x509.load_der_x509_certificate(result.certificate).public_key()
    key.verify(result.signature, b"enrollment challenge", padding.PKCS1v15(), hashes.SHA256())


def test_signing_without_the_pin_is_refused(transport):
    with pytest.raises(errors.SecurityStatusNotSatisfied):
        JPKICard(transport).sign_with_auth_key(sha256_digest_info(b"x"))


def test_reset_clears_the_verified_state(transport):
    card = JPKICard(transport)
    card.verify_auth_pin("1234")
    card.reset()
    with pytest.raises(errors.SecurityStatusNotSatisfied):
        card.sign_with_auth_key(sha256_digest_info(b"x"))


def test_selecting_another_applet_clears_the_verified_state(transport):
    card = JPKICard(transport)
    card.verify_signing_password("ABC123")
    card.read_basic_four("1234")  # selects the card-info AP
    with pytest.raises(errors.SecurityStatusNotSatisfied):
        card.read_signing_certificate()


def test_card_answers_unknown_instruction_and_class(virtual_card):
    virtual_card.reset()
    assert virtual_card.process(bytes.fromhex("00CA0000")) == b"\x6d\x00"
    assert virtual_card.process(bytes.fromhex("A0A4040C")) == b"\x6e\x00"
    assert virtual_card.process(b"\x00") == b"\x67\x00"


def test_signature_is_pkcs1_v15_over_the_digest_info_sent(transport, profile):
    card = JPKICard(transport)
    card.verify_auth_pin("1234")
    digest_info = sha256_digest_info(b"hello")
    signature = card.sign_with_auth_key(digest_info)
    key = x509.load_der_x509_certificate(profile.auth.certificate).public_key()
    key.verify(signature, hashlib.sha256(b"hello").digest(), padding.PKCS1v15(),
               __import__("cryptography.hazmat.primitives.asymmetric.utils",
                          fromlist=["Prehashed"]).Prehashed(hashes.SHA256()))


def test_pin_counters_survive_a_restart_of_a_file_backed_card(issued, tmp_path, copy_card):
    path = tmp_path / "card.json"
    copy_card(issued, path)
    with InProcessTransport(VirtualMyNumberCard(CardProfile.load(path))) as t:
        with pytest.raises(errors.WrongPin):
            JPKICard(t).verify_auth_pin("0000")
    with InProcessTransport(VirtualMyNumberCard(CardProfile.load(path))) as t:  # "restarted"
        assert JPKICard(t).auth_pin_tries_left() == 2


def test_removed_card_raises_card_removed(profile):
    t = InProcessTransport(VirtualMyNumberCard(profile))
    t.connect()
    card = JPKICard(t)
    card.select_jpki()
    t.remove()
    with pytest.raises(errors.CardRemoved) as caught:
        card.read_auth_certificate()
    assert "取り外され" in caught.value.message_ja


def test_card_without_jpki_is_not_a_my_number_card():
    class OtherCard:
        atr = b"\x3b\x00"
        def reset(self): pass
        def process(self, apdu): return b"\x6a\x82"
    with InProcessTransport(OtherCard()) as t:
        assert JPKICard(t).is_mynumber_card() is False
        with pytest.raises(errors.NotMyNumberCard):
            JPKICard(t).read_auth_certificate()


def test_basic_four_info(transport):
    info = JPKICard(transport).read_basic_four("1234")
    assert info.name == "山田　太郎" and info.address == "東京都千代田区千代田１－１"
    assert info.birth_date == dt.date(1985, 4, 1) and info.sex == "1"


def test_virtual_card_holds_a_my_number_file_that_the_library_never_selects(transport, profile):
    """Every public operation, recorded: no SELECT of the My Number EF in the card-info AP."""
    virtual_card = transport.inner.card
    virtual_card.reset()
    virtual_card.process(b"\x00\xa4\x04\x0c\x0a" + constants.CARD_INFO_AID)
    assert virtual_card.process(bytes.fromhex("00a4020c020001")) == b"\x90\x00"  # the file exists

    card = JPKICard(transport)
    card.login("1234", b"x")
    card.enroll("ABC123", b"y")
    card.read_auth_ca_certificate(); card.read_signing_ca_certificate(); card.read_token_label()
    card.auth_pin_tries_left(); card.signing_password_tries_left(); card.read_basic_four("1234")
    applet = None
    for command in transport.commands:
        if command[:4] == b"\x00\xa4\x04\x0c":
            applet = command[5:]
        if applet == constants.CARD_INFO_AID and command[:4] == b"\x00\xa4\x02\x0c":
            assert command[5:7] != b"\x00\x01", "library selected the My Number EF"
    assert profile.card_info.my_number.encode() not in b"".join(a for _, a in transport.exchanges)


def test_library_refuses_to_select_unlisted_card_info_files(transport):
    card = JPKICard(transport)
    card.read_basic_four("1234")
    with pytest.raises(errors.InvalidInput):
        card._select_ef(0x0001)
    assert not hasattr(constants, "EF_MY_NUMBER")
    public = [name for name in dir(JPKICard) if not name.startswith("_")]
    assert not [name for name in public if "my_number" in name or "individual_number" in name]


def test_the_virtual_card_answers_the_real_contact_atr(profile):
    atr = VirtualMyNumberCard(profile).atr
    assert atr == bytes.fromhex("3BE000FF8131FE4514")    # OpenSC's JPKI table (card-jpki.c)
    tck = 0
    for byte in atr[1:]:
        tck ^= byte
    assert tck == 0                                      # T=1 indicated: the TCK checks out
    old = {**profile.to_json(), "atr": "3be0008131fe45"}  # a profile written before
    assert CardProfile.from_json(old).atr == atr
    contactless = {**profile.to_json(), "atr": "3b8880010000000000000000"}
    assert CardProfile.from_json(contactless).atr.hex() == "3b8880010000000000000000"


@pytest.mark.parametrize("aid", [constants.CARD_CHECK_AID, constants.JUKI_AID])
def test_the_other_applets_of_a_real_card_answer_select(virtual_card, aid):
    select = b"\x00\xa4\x04\x0c\x0a"
    assert virtual_card.process(select + aid) == b"\x90\x00"
    assert virtual_card.process(select + bytes.fromhex("D3921000310001010409")) == b"\x6a\x82"


def test_the_card_check_applet_refuses_its_files_without_its_numbers(virtual_card):
    virtual_card.process(b"\x00\xa4\x04\x0c\x0a" + constants.CARD_CHECK_AID)
    for ef in (b"\x00\x01", b"\x00\x02", b"\x00\x05"):   # birth date, face entries, My Number
        assert virtual_card.process(b"\x00\xa4\x02\x0c\x02" + ef) == b"\x90\x00"
        assert virtual_card.process(b"\x00\xb0\x00\x00\x00") == b"\x69\x82"
    virtual_card.process(b"\x00\xa4\x04\x0c\x0a" + constants.JUKI_AID)
    assert virtual_card.process(b"\x00\xa4\x02\x0c\x02\x00\x01") == b"\x6a\x82"   # shows nothing

