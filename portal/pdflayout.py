"""Boxes and wrapped Japanese text for the portal's PDFs (reportlab).

Every element of a page gets a `Box`; text is wrapped to the box's width and, where the
box's height is fixed, shrunk until it fits. reportlab's own CJK wrapping breaks between
any two characters, so it splits years (「20｜29年」), URLs and ASCII words; `wrap_lines`
keeps a run of ASCII with its unit (2029年, 1期, （MR）) together and follows the basic
禁則 rules (no line starts with 、。）」 or a small kana)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

# An unbreakable token: opening brackets, then an ASCII run with an optional unit (or one
# other character), then closing punctuation and small kana that may not start a line.
_TOKEN = re.compile(r"[（「『【〔［《〈]*"
                    r"(?:[!-~]+[年月日歳円回期週時分号番人枚部]?|\s|.)"
                    r"[、。，．・：；？！）」』】〕］》〉ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ]*",
                    re.S)


class LayoutOverflow(ValueError):
    """Text that does not fit its box even at the smallest allowed size."""


@dataclass(frozen=True)
class Box:
    """A rectangle of a page in points, origin bottom left (reportlab's coordinates)."""
    name: str
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def overlaps(self, other: "Box") -> bool:
        """True if the interiors meet (touching edges is fine)."""
        return (self.x < other.right and other.x < self.right
                and self.y < other.top and other.y < self.top)

    def contains(self, x0: float, y0: float, x1: float, y1: float, slack: float = 0.5) -> bool:
        return (x0 >= self.x - slack and x1 <= self.right + slack
                and y0 >= self.y - slack and y1 <= self.top + slack)


def wrap_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (explicit newlines kept)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        lines.extend(_wrap_paragraph(paragraph, font, size, width))
    return lines


def _wrap_paragraph(text: str, font: str, size: float, width: float) -> list[str]:
    lines, current = [], ""
    for token in _TOKEN.findall(text):
        if stringWidth(current + token, font, size) <= width:
            current += token
            continue
        if current.strip():
            lines.append(current.rstrip())
        current = token.lstrip()
        while stringWidth(current, font, size) > width and len(current) > 1:
            # a token wider than the box (a long URL): break it where it must
            cut = _longest_prefix(current, font, size, width)
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _longest_prefix(text: str, font: str, size: float, width: float) -> int:
    cut = 1
    while cut < len(text) and stringWidth(text[:cut + 1], font, size) <= width:
        cut += 1
    return cut


def fit_text(text: str, font: str, size: float, width: float, height: float,
             min_size: float, leading: float = 1.3) -> tuple[float, list[str]]:
    """The largest size ≤ `size` (steps of 0.5 pt, not below `min_size`) at which the
    wrapped text fits the box, and its lines. Raises `LayoutOverflow` if none does."""
    while size >= min_size:
        lines = wrap_lines(text, font, size, width)
        if len(lines) * size * leading <= height:
            return size, lines
        size -= 0.5
    raise LayoutOverflow(f"text does not fit {width:.0f}×{height:.0f} pt: {text[:40]}…")


def draw_in_box(canvas, box: Box, text: str, font: str, size: float, min_size: float,
                align: str = "left", leading: float = 1.3) -> float:
    """Draw `text` wrapped (and shrunk) inside `box`, from its top. Returns the size used."""
    size, lines = fit_text(text, font, size, box.width, box.height, min_size, leading)
    canvas.setFont(font, size)
    for index, line in enumerate(lines):
        baseline = box.top - size * (0.9 + leading * index)
        if align == "center":
            canvas.drawCentredString(box.x + box.width / 2, baseline, line)
        elif align == "right":
            canvas.drawRightString(box.right, baseline, line)
        else:
            canvas.drawString(box.x, baseline, line)
    return size


class WrappedText(Flowable):
    """A platypus flowable (a table cell, a line of a frame) that wraps its text to the
    width it is given with `wrap_lines`, so nothing runs past a column or a frame."""

    def __init__(self, text: str, font: str, size: float, leading: float = 1.3,
                 align: str = "left") -> None:
        super().__init__()
        self.text, self.font, self.size = str(text), font, size
        self.leading, self.align = size * leading, align
        self.lines: list[str] = []

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if available_width != getattr(self, "width", None) or not self.lines:
            # tables ask again and again at the same width: wrap once
            self.lines = wrap_lines(self.text, self.font, self.size, available_width)
        self.width = available_width
        self.height = len(self.lines) * self.leading
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(self.font, self.size)
        for index, line in enumerate(self.lines):
            baseline = self.height - index * self.leading - self.size * 0.9 - (self.leading - self.size) / 2
            if self.align == "right":
                canvas.drawRightString(self.width, baseline, line)
            elif self.align == "center":
                canvas.drawCentredString(self.width / 2, baseline, line)
            else:
                canvas.drawString(0, baseline, line)

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """Long text may continue on the next page, between two lines."""
        self.wrap(available_width, available_height)
        fit = int(available_height // self.leading)
        if fit < 1 or fit >= len(self.lines):
            return []
        return [WrappedText("\n".join(self.lines[:fit]), self.font, self.size,
                            self.leading / self.size, self.align),
                WrappedText("\n".join(self.lines[fit:]), self.font, self.size,
                            self.leading / self.size, self.align)]


def grid_table(rows: list[list], widths: list[float], font: str, size: float = 9,
               header_colour=None):
    """A ruled table whose first row is the header; every cell wraps inside its column
    (`widths` in points, their sum the table's width). A cell may already be a flowable."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle
    cells = [[value if isinstance(value, Flowable) else WrappedText(value, font, size)
              for value in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),   # else the cell sets Helvetica, not embedded
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), header_colour or colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]))
    return table


def column_widths(total: float, *shares: float) -> list[float]:
    """Split `total` points in proportion to `shares`."""
    return [total * share / sum(shares) for share in shares]
