"""The notebook summary as a PDF with a Japanese font embedded (IPAex Gothic), so it
prints the same on any computer. reportlab embeds (subsets) TrueType fonts it draws."""
from __future__ import annotations

import io
from datetime import date

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from portal.api import japanese_font

FONT_NAME = "IPAexGothic"


def register_font() -> str:
    return japanese_font(FONT_NAME)


def summary_pdf(title: str, sections: list[tuple[str, list[list[str]]]], generated: date) -> bytes:
    """A4 PDF: a title, then for each section a heading and a table (first row = header).
    The caller supplies translated labels; this module only lays them out."""
    font = register_font()
    styles = {"title": ParagraphStyle("t", fontName=font, fontSize=16, leading=22),
              "h": ParagraphStyle("h", fontName=font, fontSize=12, leading=18, spaceBefore=8),
              "cell": ParagraphStyle("c", fontName=font, fontSize=9, leading=12)}
    story = [Paragraph(escape(title), styles["title"]),
             Paragraph(generated.isoformat(), styles["cell"]), Spacer(1, 4 * mm)]
    for heading, rows in sections:
        story.append(Paragraph(escape(heading), styles["h"]))
        if len(rows) > 1:
            story.append(_table(rows, styles["cell"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=title, leftMargin=15 * mm,
                      rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm).build(story)
    return buffer.getvalue()


def _table(rows: list[list[str]], style) -> Table:
    cells = [[Paragraph(escape(str(value)), style) for value in row] for row in rows]
    table = Table(cells, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table
