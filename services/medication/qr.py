"""QR codes: reading photos of a pharmacy's QR codes, drawing the notebook as QR codes.

Reading uses zxing-cpp (a wheel with no system library) through Pillow. zxing-cpp does
not hand its Python callers the structured-append sequence numbers, so fragments are taken
in the order the photos were given and, inside one photo, top to bottom, left to right;
the reader reports a first fragment without the header, which is what a wrong order shows."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from services.medication import jahis
from services.medication.jahis import records as r

# A part of this many bytes stays a QR version ≤ 25 at level M: readable by a phone
# camera from a printed page or a screen.
QR_PART_BYTES = 800


@dataclass(frozen=True)
class PhotoProblem:
    """A photo that gave no QR code; `index` is 1-based in the upload order."""
    index: int
    reason: str  # unreadable_image, no_qr


def read_photos(photos: list[bytes]) -> tuple[list[bytes], list[PhotoProblem]]:
    """The raw bytes of every QR code in the photos, in reading order."""
    fragments: list[bytes] = []
    problems: list[PhotoProblem] = []
    for index, data in enumerate(photos, start=1):
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            problems.append(PhotoProblem(index, "unreadable_image"))
            continue
        codes = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
        codes = sorted((c for c in codes if c.valid), key=_reading_order)
        if not codes:
            problems.append(PhotoProblem(index, "no_qr"))
        fragments.extend(c.bytes for c in codes)
    return fragments, problems


def _reading_order(code) -> tuple[int, int]:
    top_left = code.position.top_left
    return (top_left.y // 50, top_left.x)  # rows of ~50 px, then left to right


def notebook_parts(document: r.Document, max_bytes: int = QR_PART_BYTES) -> list[bytes]:
    """The document as CP932 bytes in parts small enough for one QR code each (911 split)."""
    return jahis.split_for_qr(document, max_bytes=max_bytes)


def qr_data_uri(part: bytes, scale: int = 4) -> str:
    """A PNG data URI (the CSP allows `img-src data:`), byte mode so CP932 stays as is."""
    code = segno.make_qr(part, mode="byte", error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def qr_png(part: bytes, scale: int = 4) -> bytes:
    """The same QR code as PNG bytes (tests and printing)."""
    buffer = io.BytesIO()
    segno.make_qr(part, mode="byte", error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
