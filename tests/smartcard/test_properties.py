"""Property tests: whatever bytes a card or reader sends, only CardError comes out."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi_smartcard import errors
from madoguchi_smartcard.apdu import Command, Response, decode_command, transceive
from madoguchi_smartcard.jpki import JPKICard, parse_basic_four
from madoguchi_smartcard.tlv import der_header, parse_tlv, read_length
from madoguchi_smartcard.transport import Transport
from madoguchi_smartcard.virtual import VirtualMyNumberCard, encode_basic_four

blobs = st.binary(max_size=300)


@given(blobs)
def test_decode_command_raises_only_card_errors(raw):
    try:
        command, extended = decode_command(raw)
    except errors.CardError:
        return
    assert command.encode(extended) == raw  # every accepted encoding is canonical


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
       st.binary(max_size=600), st.one_of(st.none(), st.integers(1, 65536)))
def test_commands_round_trip(cla, ins, p1, p2, data, le):
    command = Command(cla, ins, p1, p2, data, le)
    assert decode_command(command.encode())[0] == command


@given(blobs)
def test_tlv_and_der_parsing_raise_only_unexpected_answer(raw):
    for parse in (parse_tlv, der_header, read_length, parse_basic_four, Response.parse):
        try:
            parse(raw)
        except errors.UnexpectedAnswer:
            pass


@given(st.integers(0, 2**31), st.sampled_from([0x30, 0x04, 0x02]))
def test_der_header_reads_back_every_length(length, tag):
    from madoguchi_smartcard import der
    header = bytes((tag,)) + der.length(length)
    assert der_header(header) == (len(header), len(header) + length)


@given(st.text(max_size=40), st.text(max_size=80), st.from_regex(r"\A[0-9]{8}\Z"), st.sampled_from("129"))
def test_basic_four_round_trip(name, address, birth, sex):
    raw = encode_basic_four(name, address, birth, sex)
    try:
        info = parse_basic_four(raw)
    except errors.UnexpectedAnswer:
        return  # e.g. 20231399 is not a date
    assert (info.name, info.address, info.sex) == (name, address, sex)


class ScriptedCard(Transport):
    """Answers every APDU with the next scripted blob (then 90 00)."""

    def __init__(self, answers):
        self.answers = list(answers)

    def connect(self): pass
    def disconnect(self): pass
    def reset(self): pass

    def transmit(self, apdu):
        return self.answers.pop(0) if self.answers else b"\x90\x00"


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(blobs, st.binary(min_size=2, max_size=4).map(lambda b: b[:-2] + b"\x61\x00"),
                          st.just(b"\x6c\x05"), st.just(b"\x90\x00"), st.just(b"\x30\x82\x04\xa0\x90\x00")),
                max_size=12))
def test_card_operations_raise_only_card_errors_whatever_the_card_answers(answers):
    card = JPKICard(ScriptedCard(answers))
    for operation in (card.read_auth_certificate, card.auth_pin_tries_left, card.read_token_label,
                      lambda: card.login("1234", b"x"), lambda: card.read_basic_four("1234")):
        try:
            operation()
        except errors.CardError:
            pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_virtual_card_always_answers_with_a_status_word(virtual_card, raw):
    answer = virtual_card.process(raw)
    assert len(answer) >= 2
    Response.parse(answer)
