"""Reading photos of QR codes: structured-append symbols join in sequence order."""
from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from services.medication import jahis, qr
from tests.medication.jahis_samples import HANAKO_EXAMPLE, cp932

RAW = cp932(HANAKO_EXAMPLE * 3)


def png(symbol, scale: int = 3) -> bytes:
    buffer = io.BytesIO()
    symbol.save(buffer, kind="png", scale=scale)
    return buffer.getvalue()


def sheet(symbols) -> bytes:
    """Several QR codes side by side in one photo."""
    images = [Image.open(io.BytesIO(png(s))) for s in symbols]
    page = Image.new("L", (sum(i.width for i in images), max(i.height for i in images)), 255)
    x = 0
    for image in images:
        page.paste(image.convert("L"), (x, 0))
        x += image.width
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("error, count", [("l", 2), ("m", 4), ("h", 5)])
def test_structured_append_photos_in_reverse_order_join_by_sequence(error, count):
    symbols = segno.make_sequence(RAW, mode="byte", error=error, symbol_count=count,
                                  boost_error=False)
    assert len(symbols) == count
    fragments, problems = qr.read_photos([png(s) for s in reversed(symbols)])
    assert problems == [] and b"".join(fragments) == RAW
    assert jahis.parse_fragments(fragments).ok


def test_sequence_inside_one_photo_right_to_left_and_a_repeat():
    symbols = segno.make_sequence(RAW, mode="byte", error="m", symbol_count=3)
    photos = [sheet([symbols[2], symbols[1]]), png(symbols[0]), png(symbols[1])]
    fragments, problems = qr.read_photos(photos)
    assert problems == [] and b"".join(fragments) == RAW


def test_a_missing_symbol_is_named():
    symbols = segno.make_sequence(RAW, mode="byte", error="m", symbol_count=4)
    _fragments, problems = qr.read_photos([png(symbols[3]), png(symbols[0])])
    assert [(p.reason, p.detail) for p in problems] == [("sequence_incomplete", "2・3 / 4")]


def test_plain_qr_codes_keep_the_photo_order():
    parts = jahis.split_for_qr(jahis.parse(RAW).document, max_bytes=300)
    fragments, problems = qr.read_photos([qr.qr_png(p) for p in parts])
    assert problems == [] and fragments == parts
