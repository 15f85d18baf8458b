"""APDU encoding, decoding and status words."""

import pytest

from madoguchi_smartcard import errors
from madoguchi_smartcard.apdu import Command, Response, decode_command, status_error, transceive
from madoguchi_smartcard.transport import InProcessTransport, RecordingTransport
from madoguchi_smartcard.virtual import VirtualMyNumberCard


@pytest.mark.parametrize("command, encoded", [
    (Command(0, 0xA4, 4, 0x0C, b"\x01\x02"), "00a4040c020102"),
    (Command(0, 0xB0, 0, 0, le=256), "00b0000000"),
    (Command(0, 0xB0, 0, 4, le=4), "00b0000404"),
    (Command(0, 0xB0, 0, 4, le=1190), "00b00004" "0004a6"),
    (Command(0, 0xB0, 0, 0, le=65536), "00b00000" "000000"),
    (Command(0x80, 0x2A, 0, 0x80, b"\xaa" * 3, le=256), "802a008003aaaaaa00"),
    (Command(0x80, 0x2A, 0, 0x80, b"\xaa" * 300, le=256), "802a0080" "00012c" + "aa" * 300 + "0100"),
    (Command(0, 0x20, 0, 0x80), "00200080"),
])
def test_encoding_picks_short_or_extended_form(command, encoded):
    assert command.encode().hex() == encoded
    assert decode_command(command.encode())[0] == command


def test_short_command_may_be_sent_in_extended_form():
    command = Command(0, 0xB0, 0, 0, le=200)
    assert command.encode(extended=True).hex() == "00b00000" "0000c8"
    assert decode_command(command.encode(extended=True)) == (command, True)


def test_command_that_needs_extended_refuses_short_form():
    with pytest.raises(errors.InvalidInput):
        Command(0, 0xB0, 0, 0, le=1000).encode(extended=False)


@pytest.mark.parametrize("raw", ["00", "00b000", "00a4040c05010203", "00b0000000", "00b000000001"])
def test_decode_refuses_malformed_commands(raw):
    if raw in ("00b0000000",):
        assert decode_command(bytes.fromhex(raw))[0].le == 256
        return
    with pytest.raises(errors.WrongLength):
        decode_command(bytes.fromhex(raw))


@pytest.mark.parametrize("sw, kind", [
    (0x63C2, errors.WrongPin), (0x6984, errors.PinBlocked), (0x6983, errors.PinBlocked),
    (0x6982, errors.SecurityStatusNotSatisfied), (0x6A82, errors.FileNotFound),
    (0x6700, errors.WrongLength), (0x6D00, errors.InstructionNotSupported),
    (0x6E00, errors.ClassNotSupported), (0x6A86, errors.WrongParameters), (0x6F00, errors.UnknownStatus),
])
def test_status_words_map_to_the_taxonomy(sw, kind):
    error = status_error(sw)
    assert isinstance(error, kind) and isinstance(error, errors.CardError)
    assert error.sw == sw and f"{sw:04X}" in str(error)
    assert error.message_ja and not error.message_ja.isascii()


def test_wrong_pin_reports_tries_left_in_both_languages():
    error = status_error(0x63C1)
    assert error.tries_left == 1
    assert "あと1回" in error.message_ja
    assert "1 tries left" in str(error)
    assert "ロックされました" in status_error(0x63C0).message_ja


def test_response_without_status_word_is_unexpected():
    with pytest.raises(errors.UnexpectedAnswer):
        Response.parse(b"\x90")
    assert Response.parse(b"\x01\x90\x00").check().data == b"\x01"


def test_61xx_answers_are_collected_with_get_response(profile):
    card = VirtualMyNumberCard(profile, t0_get_response=True)
    recording = RecordingTransport(InProcessTransport(card))
    with recording:
        transceive(recording, Command(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001"))).check()
        transceive(recording, Command(0, 0xA4, 2, 0x0C, b"\x00\x0a")).check()
        response = transceive(recording, Command(0, 0xB0, 0, 0, le=1000), extended=True).check()
    assert response.data == profile.auth.certificate[:1000]
    assert any(command[:2] == b"\x00\xc0" for command in recording.commands)


def test_6cxx_answer_is_resent_with_the_right_le(profile):
    card = VirtualMyNumberCard(profile, strict_le=True)
    size = len(profile.auth.certificate)
    recording = RecordingTransport(InProcessTransport(card))
    with recording:
        transceive(recording, Command(0, 0xA4, 4, 0x0C, bytes.fromhex("D392F000260100000001"))).check()
        transceive(recording, Command(0, 0xA4, 2, 0x0C, b"\x00\x0a")).check()
        response = transceive(recording, Command(0, 0xB0, (size - 10) >> 8, (size - 10) & 0xFF, le=256))
    assert response.ok and response.data == profile.auth.certificate[-10:]
    assert recording.exchanges[-2][1] == b"\x6c\x0a"
