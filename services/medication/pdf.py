"""The notebook summary as a PDF with a Japanese font embedded (IPAex Gothic), so it
prints the same on any computer. reportlab embeds (subsets) TrueType fonts it draws."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer

from portal.api import WrappedText, column_widths, grid_table, japanese_font

FONT_NAME = "IPAexGothic"
WIDTH = A4[0] - 30 * mm - 12  # inside the page frame's 6 pt padding


@dataclass(frozen=True)
class Section:
    """A heading and a table (first row = header); `shares` are the columns' relative
    widths. A section without rows below the header prints `empty` (「なし」)."""
    heading: str
    rows: list[list[str]]
    shares: tuple[float, ...] = ()


def register_font() -> str:
    return japanese_font(FONT_NAME)


def summary_pdf(title: str, sections: list[Section], generated: date, empty: str) -> bytes:
    """A4 PDF: a title, then each section's heading and its table, or `empty` under the
    heading when it has nothing. The caller supplies translated labels; this module only
    lays them out, every cell wrapped inside its column."""
    font = register_font()
    story = [WrappedText(title, font, 16, leading=1.4), WrappedText(generated.isoformat(), font, 9),
             Spacer(1, 4 * mm)]
    for section in sections:
        story += [Spacer(1, 3 * mm), WrappedText(section.heading, font, 12, leading=1.5)]
        if len(section.rows) > 1:
            shares = section.shares or (1,) * len(section.rows[0])
            story.append(grid_table(section.rows, column_widths(WIDTH, *shares), font))
        else:
            story.append(WrappedText(empty, font, 9, leading=1.5))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=title, leftMargin=15 * mm, rightMargin=15 * mm,
                      topMargin=15 * mm, bottomMargin=15 * mm,
                      initialFontName=font).build(story)  # not Helvetica (never embedded)
    return buffer.getvalue()
