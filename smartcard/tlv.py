"""BER-TLV and DER length parsing for what cards answer.

Every malformed input raises :class:`errors.UnexpectedAnswer`; nothing else
escapes (the property tests check that).
"""

from __future__ import annotations

from . import errors

# A length field wider than 4 bytes would describe more than 4 GiB: no card
# file is that big, so treat it as garbage rather than trying to allocate it.
MAX_LENGTH_OCTETS = 4


def read_tag(buf: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a BER tag at ``offset``.  Returns (tag as an int, offset after it)."""
    if offset >= len(buf):
        raise errors.UnexpectedAnswer("truncated TLV: missing tag")
    start = offset
    tag = buf[offset]
    offset += 1
    if tag & 0x1F != 0x1F:
        return tag, offset
    while True:  # multi-byte tag: subsequent bytes have bit 8 set until the last
        if offset >= len(buf):
            raise errors.UnexpectedAnswer("truncated TLV: multi-byte tag")
        if offset - start >= 4:
            raise errors.UnexpectedAnswer("TLV tag longer than 4 bytes")
        byte = buf[offset]
        tag = (tag << 8) | byte
        offset += 1
        if not byte & 0x80:
            return tag, offset


def read_length(buf: bytes, offset: int = 0) -> tuple[int, int]:
    """Read a definite BER/DER length at ``offset``.  Returns (length, offset after it)."""
    if offset >= len(buf):
        raise errors.UnexpectedAnswer("truncated TLV: missing length")
    first = buf[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    count = first & 0x7F
    if count == 0:
        raise errors.UnexpectedAnswer("indefinite length is not allowed here")
    if count > MAX_LENGTH_OCTETS:
        raise errors.UnexpectedAnswer("length field too long")
    if offset + count > len(buf):
        raise errors.UnexpectedAnswer("truncated TLV: length octets")
    return int.from_bytes(buf[offset:offset + count], "big"), offset + count


def der_header(buf: bytes) -> tuple[int, int]:
    """Parse the header of a DER object.  Returns (header size, total object size).

    Used to learn how much of an EF is worth reading after reading a few bytes.
    """
    _, offset = read_tag(buf, 0)
    length, offset = read_length(buf, offset)
    return offset, offset + length


def parse_tlv(buf: bytes) -> list[tuple[int, bytes]]:
    """Split ``buf`` into consecutive (tag, value) pairs; trailing FF/00 filler is ignored."""
    items: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(buf) and buf[offset] not in (0x00, 0xFF) or _is_tag_start(buf, offset):
        tag, offset = read_tag(buf, offset)
        length, offset = read_length(buf, offset)
        if offset + length > len(buf):
            raise errors.UnexpectedAnswer("truncated TLV: value")
        items.append((tag, bytes(buf[offset:offset + length])))
        offset += length
    return items


def _is_tag_start(buf: bytes, offset: int) -> bool:
    # FF is padding on JPKI files, except that "FF 20"/"FF 10" are real tags.
    return offset + 1 < len(buf) and buf[offset] == 0xFF and buf[offset + 1] not in (0xFF, 0x00)


def find_tlv(buf: bytes, tag: int) -> bytes:
    """Value of the first ``tag`` in ``buf`` (top level only)."""
    for found, value in parse_tlv(buf):
        if found == tag:
            return value
    raise errors.UnexpectedAnswer(f"tag {tag:X} missing")
