"""The apportionment report (按分報告): one structure, rendered as a table (template), an
SVG chart, CSV and PDF. Built from stored inputs only, and stamped with their digest."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from sqlalchemy.orm import Session

from portal.fonts import japanese_font
from portal.jointcloud import services
from portal.jointcloud.apportion import LineShares, totals_by

CATEGORY_LABELS = {"build": "初期（更改）費用", "operation": "運用費用",
                   "data_centre": "データセンター経費", "shared_change": "共同改修（法改正等）"}
CATEGORY_COLOURS = {"build": "#1f5f8b", "operation": "#5b9e4d", "data_centre": "#c9882b",
                    "shared_change": "#8b3f7a"}


@dataclass(frozen=True)
class Comparison:
    """単独 vs 共同: a city's standalone estimate against its shares over the same years."""

    code: str
    name: str
    category: str
    first_year: int
    last_year: int
    standalone: int
    shared: int

    @property
    def saving(self) -> int:
        return self.standalone - self.shared

    @property
    def saving_percent(self) -> float:
        return 100 * self.saving / self.standalone if self.standalone else 0.0


@dataclass
class Report:
    cities: list[tuple[str, str]]               # (code, name), code order
    lines: list[LineShares]
    by_category: dict[str, dict[str, int]]
    digest: str
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        out = {code: 0 for code, _ in self.cities}
        for shares in self.by_category.values():
            for code, yen in shares.items():
                out[code] = out.get(code, 0) + yen
        return out

    @property
    def grand_total(self) -> int:
        return sum(line.item.amount for line in self.lines)

    @property
    def years(self) -> tuple[int, int] | None:
        years = [line.item.fiscal_year for line in self.lines]
        return (min(years), max(years)) if years else None


def build(db: Session, first_year: int | None = None, last_year: int | None = None) -> Report:
    """Compute the report from the stored cost lines, basis and standalone estimates."""
    lines, basis = services.stored_inputs(db, first_year, last_year)
    results = services.compute(lines, basis)
    names = {b.code: b.name for rows in basis.values() for b in rows}
    cities = sorted(names.items())
    comparisons = []
    for estimate in services.standalone_estimates(db):
        shared = sum(r.shares.get(estimate.city_code, 0) for r in results
                     if r.item.category == estimate.category
                     and estimate.first_year <= r.item.fiscal_year <= estimate.last_year)
        comparisons.append(Comparison(estimate.city_code, names.get(estimate.city_code,
                                                                   estimate.city_code),
                                      estimate.category, estimate.first_year,
                                      estimate.last_year, estimate.amount_yen, shared))
    return Report(cities, results, totals_by(results), services.inputs_digest(lines, basis),
                  comparisons)


def man_yen(yen: int) -> str:
    """万円 with thousands separators, as the member cities' papers write them."""
    return f"{yen / 10_000:,.0f}" if yen % 10_000 == 0 else f"{yen / 10_000:,.4f}"


# --- CSV -------------------------------------------------------------------------------


def to_csv(report: Report) -> str:
    """One row per cost line with each city's share in yen, then totals; UTF-8 with BOM so
    spreadsheet programs read the Japanese correctly."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    codes = [code for code, _ in report.cities]
    out.writerow(["年度", "区分", "費目", "金額（円）", "按分式", "利用量の指標"]
                 + [f"{name}（{code}）" for code, name in report.cities])
    for line in report.lines:
        item = line.item
        out.writerow([item.fiscal_year, CATEGORY_LABELS.get(item.category, item.category),
                      item.label, item.amount, item.formula.describe(), item.usage_metric]
                     + [line.shares.get(code, 0) for code in codes])
    totals = report.totals
    out.writerow(["合計", "", "", report.grand_total, "", ""] + [totals[c] for c in codes])
    out.writerow(["入力のSHA-256", report.digest])
    return "\ufeff" + buffer.getvalue()


# --- SVG -------------------------------------------------------------------------------


def to_svg(report: Report, width: int = 760) -> str:
    """Stacked horizontal bars: each city's total share by category. Presentation
    attributes only (no style attributes: the Content-Security-Policy forbids them)."""
    label_w, bar_h, gap, top = 150, 28, 14, 40
    categories = [c for c in CATEGORY_LABELS if c in report.by_category] + sorted(
        set(report.by_category) - set(CATEGORY_LABELS))
    totals = report.totals
    scale = (width - label_w - 110) / max([1, *totals.values()])
    parts = []
    for i, (code, name) in enumerate(report.cities):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h / 2 + 5}" text-anchor="end">'
                     f'{escape(name)}</text>')
        x = label_w
        for category in categories:
            value = report.by_category[category].get(code, 0)
            w = value * scale
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                             f'fill="{CATEGORY_COLOURS.get(category, "#777777")}">'
                             f'<title>{escape(name)} {escape(CATEGORY_LABELS.get(category, category))}'
                             f' {value:,}円</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar_h / 2 + 5}">{round(totals[code] / 10_000):,}万円</text>')
    legend_y = top + len(report.cities) * (bar_h + gap) + 10
    for j, category in enumerate(categories):
        lx = label_w + j * 160
        parts.append(f'<rect x="{lx}" y="{legend_y}" width="14" height="14" '
                     f'fill="{CATEGORY_COLOURS.get(category, "#777777")}"/>')
        parts.append(f'<text x="{lx + 20}" y="{legend_y + 12}">'
                     f'{escape(CATEGORY_LABELS.get(category, category))}</text>')
    height = legend_y + 30
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" font-family="IPAexGothic, sans-serif" '
            f'font-size="13"><title>団体別の負担額（区分別）</title>'
            f'<text x="0" y="20" font-size="15">団体別の負担額（区分別・万円）</text>'
            + "".join(parts) + "</svg>")


# --- PDF -------------------------------------------------------------------------------


def to_pdf(report: Report, title: str = "共同利用経費 按分報告") -> bytes:
    """A PDF with the Japanese font embedded (subset), the tables and the input digest."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    japanese_font("IPAexGothic")
    body = ParagraphStyle("body", fontName="IPAexGothic", fontSize=9, leading=13)
    heading = ParagraphStyle("h", parent=body, fontSize=14, leading=20)
    buffer = io.BytesIO()
    # initialFontName: the canvas otherwise starts every page in Helvetica, a font
    # reference that is never embedded even when no text is set in it
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=title,
                            leftMargin=15 * mm, rightMargin=15 * mm,
                            initialFontName="IPAexGothic")
    grid = TableStyle([("FONTNAME", (0, 0), (-1, -1), "IPAexGothic"),
                       ("FONTSIZE", (0, 0), (-1, -1), 8),
                       ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")),
                       ("ALIGN", (3, 1), (-1, -1), "RIGHT")])
    story = [Paragraph(title, heading), Paragraph(_period(report), body), Spacer(1, 4 * mm),
             Table(_line_rows(report), repeatRows=1, style=grid), Spacer(1, 6 * mm)]
    if report.comparisons:
        story += [Paragraph("単独構築との比較（万円）", heading),
                  Table(_comparison_rows(report), style=grid), Spacer(1, 6 * mm)]
    story.append(Paragraph(f"入力（費目・按分基礎）のSHA-256: {report.digest}", body))
    story.append(Paragraph("端数処理: 各団体の正確な負担額の円未満を切り捨て、残りの円を"
                           "端数の大きい団体から1円ずつ配分（同じ端数は団体コードの小さい順）。", body))
    doc.build(story)
    return buffer.getvalue()


def _period(report: Report) -> str:
    years = report.years
    return f"対象年度: {years[0]}〜{years[1]}年度" if years else "対象年度: なし"


def _line_rows(report: Report) -> list[list[str]]:
    codes = [code for code, _ in report.cities]
    rows = [["年度", "区分", "費目", "金額（円）", "按分式"] + [name for _, name in report.cities]]
    for line in report.lines:
        item = line.item
        rows.append([str(item.fiscal_year), CATEGORY_LABELS.get(item.category, item.category),
                     item.label, f"{item.amount:,}", item.formula.describe()]
                    + [f"{line.shares.get(c, 0):,}" for c in codes])
    totals = report.totals
    rows.append(["合計", "", "", f"{report.grand_total:,}", ""] + [f"{totals[c]:,}" for c in codes])
    return rows


def _comparison_rows(report: Report) -> list[list[str]]:
    rows = [["団体", "区分", "期間", "単独", "共同利用", "差額", "削減率"]]
    for c in report.comparisons:
        rows.append([c.name, CATEGORY_LABELS.get(c.category, c.category),
                     f"{c.first_year}〜{c.last_year}", man_yen(c.standalone), man_yen(c.shared),
                     f"△{man_yen(c.saving)}", f"{c.saving_percent:.1f}%"])
    for code, name, standalone, shared in comparison_totals(report):
        rows.append([name, "合計", "", man_yen(standalone), man_yen(shared),
                     f"△{man_yen(standalone - shared)}",
                     f"{100 * (standalone - shared) / standalone:.1f}%" if standalone else ""])
    return rows


def comparison_totals(report: Report) -> list[tuple[str, str, int, int]]:
    """Per city: (code, name, standalone total, shared total) over its comparisons."""
    out: dict[str, list] = {}
    for c in report.comparisons:
        entry = out.setdefault(c.code, [c.code, c.name, 0, 0])
        entry[2] += c.standalone
        entry[3] += c.shared
    return [tuple(v) for v in out.values()]
