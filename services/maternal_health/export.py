"""The family's copy of a child's handbook: JSON (structured, for moving to another app or
city) and PDF (printable, the Japanese font embedded so it reads the same anywhere).

No Flask: a `Handbook` goes in, bytes or a dict come out."""
from __future__ import annotations

import io
from datetime import date

from portal.api import WrappedText, column_widths, grid_table, japanese_font
from services.maternal_health import growth, schedule
from services.maternal_health.services import CHECKUP_OCCASIONS, RECORD_TYPES, Handbook

FORMAT = "madoguchi.maternal_health.handbook/1"
FONT_NAME = "IPAexGothic"


class FontMissing(RuntimeError):
    """No Japanese TrueType font to embed: install Debian fonts-ipaexfont-gothic."""


# ---------------------------------------------------------------- JSON

def _row(row, key: str) -> dict:
    out = {spec.name: _plain(getattr(row, spec.name)) for spec in RECORD_TYPES[key].fields}
    out["entered_by"] = row.entered_by_name
    out["entered_at"] = row.entered_at.isoformat() + "Z"
    return out


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def handbook_dict(book: Handbook, today: date) -> dict:
    """The child's record as plain data: birth, checkups (with percentile flags),
    immunisations (vaccine, dose, date, lot, facility) and the schedule as of `today`."""
    child = book.child
    checkups = []
    for row in book.checkups:
        item = _row(row, "checkup")
        item["outside_3_97_percentile"] = {m: getattr(row, f"{m}_flag") for m in
                                           ("weight", "height", "head") if getattr(row, f"{m}_flag")}
        checkups.append(item)
    return {
        "format": FORMAT,
        "generated_on": today.isoformat(),
        "child": {"name": child.name, "name_kana": child.name_kana,
                  "birth_date": child.birth_date.isoformat(),
                  "sex": {"1": "male", "2": "female"}.get(child.sex.value, "unknown")},
        "birth": _row(book.birth, "birth") if book.birth else None,
        "checkups": checkups,
        "immunisations": [_row(row, "immunisation") for row in book.immunisations],
        "schedule": [{"vaccine": s.vaccine.value, "phase": s.phase, "status": s.status.value,
                      "doses_given": s.doses_given, "doses_planned": s.doses_planned,
                      "window": {"start": s.window.start.isoformat(),
                                 "end": s.window.end.isoformat(),
                                 "last_day": s.window.last_day.isoformat()} if s.window else None,
                      "reason": s.reason} for s in book.schedule],
        "growth_reference": growth.SURVEY,
    }


# ---------------------------------------------------------------- PDF

def handbook_pdf(book: Handbook, today: date) -> bytes:
    """A printable A4 PDF of the child's record, IPAexGothic embedded (subset)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    japanese_font(FONT_NAME)
    body = ParagraphStyle("body", fontName=FONT_NAME, fontSize=10, leading=15, wordWrap="CJK")
    heading = ParagraphStyle("h", parent=body, fontSize=14, leading=20, spaceBefore=8)
    title = ParagraphStyle("t", parent=body, fontSize=18, leading=26)
    width = A4[0] - 30 * mm - 12  # inside the page frame's 6 pt padding

    def table(rows, *shares):
        """Cells wrap inside their columns (a vaccine's name, a status, a facility)."""
        return grid_table(rows, column_widths(width, *(shares or [1] * len(rows[0]))), FONT_NAME,
                          header_colour=colors.HexColor("#e8f0f8"))

    child = book.child
    story = [Paragraph("母子健康手帳　記録の写し", title),
             WrappedText(f"{child.name}（{child.name_kana}）　生年月日 {_jdate(child.birth_date)}",
                         FONT_NAME, 10, leading=1.5),
             WrappedText(f"作成日 {_jdate(today)}", FONT_NAME, 10, leading=1.5)]
    if book.birth:
        b = book.birth
        story += [Paragraph("出産の状態", heading), table([
            ["出生日", "妊娠週数", "体重(kg)", "身長(cm)", "頭囲(cm)", "胸囲(cm)"],
            [_jdate(b.born_on), f"{b.gestational_weeks}週{b.gestational_days}日", _n(b.weight_kg),
             _n(b.length_cm), _n(b.head_cm), _n(b.chest_cm)]], 3, 2, 2, 2, 2, 2)]
    occasions = dict(CHECKUP_OCCASIONS)
    story += [Paragraph("乳幼児健康診査", heading), table(
        [["健診", "日付", "体重(kg)", "身長(cm)", "頭囲(cm)", "施設"]] +
        [[occasions.get(c.occasion, c.occasion), _jdate(c.checked_on),
          _flagged(c.weight_kg, c.weight_flag), _flagged(c.height_cm, c.height_flag),
          _flagged(c.head_cm, c.head_flag), c.facility or ""] for c in book.checkups]
        if book.checkups else [["記録はありません"]], *((3, 3, 2, 2, 2, 4) if book.checkups else ()))]
    story += [Paragraph("※ 印は3〜97パーセンタイルの範囲外（" + growth.SURVEY + "）", body)]
    story += [Paragraph("予防接種", heading), table(
        [["ワクチン", "回", "接種日", "ロット", "接種機関"]] +
        [[schedule.VACCINE_LABELS.get(schedule.Vaccine(r.vaccine), r.vaccine), str(r.dose_number),
          _jdate(r.given_on), r.lot or "", r.facility or ""] for r in book.immunisations]
        if book.immunisations else [["記録はありません"]], *((4, 1, 3, 2, 4) if book.immunisations else ()))]
    story += [Paragraph(f"接種予定（{_jdate(today)}時点）", heading), table(
        [["ワクチン", "状況", "説明"]] +
        [[s.label, schedule.STATUS_LABELS[s.status], s.reason] for s in book.schedule], 4, 3, 8)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm,
                            title="母子健康手帳 記録の写し", author="窓口 Madoguchi",
                            initialFontName=FONT_NAME)
    # The canvas starts in Helvetica unless told otherwise, which would leave a
    # non-embedded font in the file; start it in the embedded Japanese font instead.
    doc.build(story + [Spacer(1, 6)])
    return buffer.getvalue()


def _jdate(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _n(value) -> str:
    return "" if value is None else f"{value:g}"


def _flagged(value, flag) -> str:
    return _n(value) + (" ※" if flag else "")
