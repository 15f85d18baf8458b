"""Just enough DER writing for the test PKI (otherName values, huge CRLs)."""

from __future__ import annotations

import datetime as dt


def length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, value: bytes) -> bytes:
    return bytes((tag,)) + length(len(value)) + value


def sequence(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def integer(value: int) -> bytes:
    # Two's complement, minimal, positive numbers get a leading 00 if bit 8 is set.
    size = value.bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def utf8_string(text: str) -> bytes:
    return tlv(0x0C, text.encode("utf-8"))


def utc_time(moment: dt.datetime) -> bytes:
    return tlv(0x17, moment.astimezone(dt.timezone.utc).strftime("%y%m%d%H%M%SZ").encode())


def bit_string(value: bytes) -> bytes:
    return tlv(0x03, b"\x00" + value)


def explicit(number: int, value: bytes) -> bytes:
    return tlv(0xA0 | number, value)
