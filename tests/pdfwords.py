"""Words of a PDF with their boxes (pdftotext -bbox), as a reader's tool sees the page:
for tests that text stays inside its boxes and never runs into other text."""
from __future__ import annotations

import itertools
import re
import subprocess
from dataclasses import dataclass
from html import unescape


@dataclass(frozen=True)
class Word:
    """One word; x0…x1, y0…y1 in points from the bottom left (reportlab's coordinates)."""
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def words(pdf_path) -> list[Word]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], capture_output=True,
                         text=True, check=True).stdout
    found, page, height = [], 0, 0.0
    for line in out.splitlines():
        if m := re.search(r'<page width="[\d.]+" height="([\d.]+)"', line):
            page, height = page + 1, float(m.group(1))
        elif m := re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                            r'yMax="([\d.]+)">(.*)</word>', line):
            x0, top, x1, bottom = map(float, m.groups()[:4])
            found.append(Word(page, unescape(m.group(5)), x0, height - bottom, x1, height - top))
    return found


def overlapping_words(found: list[Word], slack: float = 0.5) -> list[tuple[Word, Word]]:
    """Pairs of words on one page whose boxes overlap by more than `slack` points both ways
    (text run into other text, e.g. a table cell overflowing into the next column)."""
    pairs = []
    for first, second in itertools.combinations(found, 2):
        if first.page != second.page:
            continue
        wide = min(first.x1, second.x1) - max(first.x0, second.x0)
        high = min(first.y1, second.y1) - max(first.y0, second.y0)
        if wide > slack and high > slack:
            pairs.append((first, second))
    return pairs


def page_text(pdf_path) -> str:
    """The text in the order it is drawn (pdftotext -raw: a table cell's lines together),
    lines kept (a date split over two lines shows)."""
    return subprocess.run(["pdftotext", "-raw", str(pdf_path), "-"], capture_output=True, text=True,
                          check=True).stdout


def fonts_not_embedded(pdf_path) -> list[str]:
    """Fonts pdffonts lists as not embedded (a reader without them shows something else)."""
    out = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True,
                         check=True).stdout
    return [row.split()[0] for row in out.splitlines()[2:] if row.split()[-5] != "yes"]
