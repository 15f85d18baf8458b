"""QR codes: reading photos of a pharmacy's QR codes, drawing the notebook as QR codes.

Reading uses zxing-cpp (a wheel with no system library) through Pillow. Structured-append
symbols are put in the order of their sequence numbers (read by `qr_sequence`, since
zxing-cpp's Python binding does not give them), whatever order the photos came in; other
symbols keep the photo order and, inside one photo, top to bottom, left to right."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from services.medication import jahis
from services.medication.jahis import records as r
from services.medication.qr_sequence import Sequence, read_header

# A part of this many bytes stays a QR version ≤ 25 at level M: readable by a phone
# camera from a printed page or a screen.
QR_PART_BYTES = 800


@dataclass(frozen=True)
class PhotoProblem:
    """A photo that gave no QR code (`index` 1-based in the upload order), or a sequence
    of structured-append QR codes with symbols missing (`index` 0, `detail` which)."""
    index: int
    reason: str  # unreadable_image, no_qr, sequence_incomplete
    detail: str = ""


@dataclass(frozen=True)
class Symbol:
    """One QR code read: its bytes and, for structured append, its place in the sequence."""
    data: bytes
    sequence: Sequence | None = None


def read_photos(photos: list[bytes]) -> tuple[list[bytes], list[PhotoProblem]]:
    """The raw bytes of every QR code in the photos, in sequence order (see the module)."""
    symbols: list[Symbol] = []
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
        symbols.extend(Symbol(c.bytes, sequence_of(c)) for c in codes)
    fragments, missing = in_sequence(symbols)
    problems += [PhotoProblem(0, "sequence_incomplete", text) for text in missing]
    return fragments, problems


def sequence_of(code) -> Sequence | None:
    """The structured-append header of a code zxing-cpp read, from its module matrix."""
    try:
        image = memoryview(code.to_image(scale=1, add_quiet_zones=False))
        version, mask = int(code.extra["Version"]), int(code.extra["DataMask"])
    except (KeyError, ValueError, TypeError):
        return None
    width, pixels = image.shape[1], image.tobytes()
    rows = [[1 if pixels[y * width + x] < 128 else 0 for x in range(width)]
            for y in range(image.shape[0])]
    return read_header(rows, version, code.ec_level, mask)


def in_sequence(symbols: list[Symbol]) -> tuple[list[bytes], list[str]]:
    """Structured-append symbols by sequence (first seen first), each by its index — a
    code photographed twice counts once — then the others in the order read. Also says,
    per sequence, which symbol numbers (1-based) are missing."""
    chains: dict[int, dict[int, Symbol]] = {}
    for symbol in symbols:
        if symbol.sequence is not None:
            chains.setdefault(symbol.sequence.parity, {}).setdefault(symbol.sequence.index,
                                                                     symbol)
    ordered, missing = [], []
    for chain in chains.values():
        count = max(s.sequence.count for s in chain.values())
        gaps = [str(n + 1) for n in range(count) if n not in chain]
        if gaps:
            missing.append(f"{'・'.join(gaps)} / {count}")
        ordered += [chain[n].data for n in sorted(chain)]
    return ordered + [s.data for s in symbols if s.sequence is None], missing


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
