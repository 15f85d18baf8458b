"""Bytes to lines and back: encoding detection, line ends, Japanese era dates."""
from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

UTF8_BOM = b"\xef\xbb\xbf"
EOF_MARK = b"\x1a"  # DOS end-of-file some pharmacy systems still append
_LINE_END = re.compile(rb"\r\n|\r|\n")

# 元号: letter → (first Gregorian year, first day of the era).
ERAS = {"M": (1868, date(1868, 1, 25)), "T": (1912, date(1912, 7, 30)),
        "S": (1926, date(1926, 12, 25)), "H": (1989, date(1989, 1, 8)),
        "R": (2019, date(2019, 5, 1))}


class DecodedLine(NamedTuple):
    """One line of the document: 1-based number, text, and whether bytes were replaced.
    (A named tuple: a document has tens of thousands of lines.)"""
    number: int
    text: str
    undecodable: bool = False


def detect_encoding(data: bytes) -> str:
    """`utf-8-sig`, `utf-8` or `cp932`. CP932 text (Shift_JIS with Microsoft's extensions,
    what QR readers hand over) is almost never valid UTF-8 — half-width kana alone are
    stray continuation bytes — so valid UTF-8 with non-ASCII bytes means an app wrote it."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp932"
    # Short CP932 can still be valid UTF-8 by chance (ﾆ夕 = C6 97 5B reads as 'Ɨ['); such a
    # reading has characters no Japanese document holds. Text that CP932 can write is taken
    # as the app's UTF-8; other text that is also valid CP932 is CP932.
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        try:
            data.decode("cp932")
        except UnicodeDecodeError:
            return "utf-8"
        return "cp932"
    return "utf-8"


def split_lines(data: bytes) -> list[bytes]:
    """Split raw bytes into lines. Safe before decoding: no CP932 trail byte is CR or LF."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    data = data.rstrip(EOF_MARK)
    lines = _LINE_END.split(data)
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def decode_lines(data: bytes) -> tuple[str, list[DecodedLine]]:
    """Decode the whole input once with the detected encoding; when some bytes do not
    decode, line by line, so a bad byte is reported on its own line and the rest reads."""
    encoding = detect_encoding(data)
    codec = "utf-8" if encoding.startswith("utf-8") else "cp932"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return encoding, _decode_each_line(data, codec)
    if text.startswith("\ufeff"):
        text = text[1:]
    # Same cut as split_lines (CR LF, CR or LF), with str methods: no CP932 trail byte is
    # CR or LF, so cutting the text is cutting the bytes.
    lines = text.rstrip("\x1a").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return encoding, [DecodedLine(n, t) for n, t in enumerate(lines, start=1)]


def _decode_each_line(data: bytes, codec: str) -> list[DecodedLine]:
    decoded = []
    for number, raw in enumerate(split_lines(data), start=1):
        try:
            decoded.append(DecodedLine(number, raw.decode(codec)))
        except UnicodeDecodeError:
            decoded.append(DecodedLine(number, raw.decode(codec, errors="replace"), True))
    return decoded


class DateFormatError(ValueError):
    """A date field is neither YYYYMMDD nor GYYMMDD."""


def parse_date(text: str) -> tuple[date, bool]:
    """Parse `YYYYMMDD` or era `GYYMMDD` (`R020410` → 2020-04-10). Returns the date and
    whether it falls before the start of the era it names (a warning, not an error)."""
    if re.fullmatch(r"\d{8}", text):
        return _make_date(int(text[:4]), int(text[4:6]), int(text[6:])), False
    match = re.fullmatch(r"([MTSHR])(\d{2})(\d{2})(\d{2})", text)
    if not match or int(match[2]) == 0:
        raise DateFormatError(text)
    first_year, era_start = ERAS[match[1]]
    value = _make_date(first_year + int(match[2]) - 1, int(match[3]), int(match[4]))
    return value, value < era_start


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DateFormatError(f"{year:04d}{month:02d}{day:02d}") from exc


def format_date(value: date | None) -> str:
    """Dates are written in the Gregorian form every version accepts."""
    return "" if value is None else f"{value.year:04d}{value.month:02d}{value.day:02d}"


_UNSAFE = re.compile(r"[,\r\n\x1a]")


def clean_field(value: str | None) -> str:
    """Make text safe for a comma-separated line: the format has no quoting, so a comma
    becomes the full-width `，` (as the spec asks) and line breaks become spaces."""
    if not value:
        return ""
    if _UNSAFE.search(value) is None:  # nearly always: one scan instead of five
        return value
    return (value.replace(",", "，").replace("\r\n", " ").replace("\r", " ")
            .replace("\n", " ").replace("\x1a", ""))
