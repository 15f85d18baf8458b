"""Growth percentiles (乳幼児身体発育曲線) from the 2023 national survey, plausibility checks
for measurements, and server-rendered SVG growth charts.

Pure Python: no Flask, no database. The survey gives percentiles per age *band*; a band's
figures are placed at the band's middle age (the birth row at day 0, `d30` at 30 days) and
interpolated linearly between those points, which is how the handbook's smooth curves are
read too.

Charts are SVG built with presentation attributes (fill=, stroke=, font-size=) only — the
portal's CSP forbids style attributes — with a <title>/<desc> for screen readers, a
viewBox so they scale on a kiosk and on paper, and the survey year written on the chart.
"""
from __future__ import annotations

import csv
import enum
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

DATA_FILE = Path(__file__).parent / "data" / "growth-percentiles-2023.csv"
SURVEY = "令和5年（2023年）乳幼児身体発育調査（こども家庭庁）"
PERCENTILES = (3, 10, 25, 50, 75, 90, 97)
DAYS_PER_MONTH = 365.25 / 12


def N_(message: str) -> str:
    """Mark a message for extraction; translated where it is shown."""
    return message


class Measure(enum.StrEnum):
    WEIGHT = "weight"   # 体重 kg
    HEIGHT = "height"   # 身長 cm
    HEAD = "head"       # 頭囲 cm


MEASURE_LABELS = {Measure.WEIGHT: N_("体重"), Measure.HEIGHT: N_("身長"),
                  Measure.HEAD: N_("頭囲")}
UNITS = {Measure.WEIGHT: "kg", Measure.HEIGHT: "cm", Measure.HEAD: "cm"}


class DataError(ValueError):
    """The percentile file is malformed (non-monotone percentiles, unknown measure…)."""


@dataclass(frozen=True)
class Band:
    """Percentiles at one age (in months): `values[i]` belongs to PERCENTILES[i]."""
    age_months: float
    values: tuple[float, ...]

    def at(self, percentile: int) -> float:
        return self.values[PERCENTILES.index(percentile)]


# ---------------------------------------------------------------- loading

@lru_cache(maxsize=1)
def reference() -> dict[tuple[Measure, str], tuple[Band, ...]]:
    """The survey's percentile points by (measure, sex), sorted by age. Sex is "male" or
    "female". Raises DataError when a row's percentiles are not increasing."""
    return load(DATA_FILE)


def load(path: Path) -> dict[tuple[Measure, str], tuple[Band, ...]]:
    """Read a percentile CSV in the survey layout (see data/README.md)."""
    points: dict[tuple[Measure, str], list[Band]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            values = tuple(float(row[f"p{p}"]) for p in PERCENTILES)
            if any(a >= b for a, b in zip(values, values[1:])):
                raise DataError(f"percentiles not increasing: {row['measure']} {row['sex']} {row['band']}")
            key = (Measure(row["measure"]), row["sex"])
            points.setdefault(key, []).append(Band(_band_age(row), values))
    return {key: tuple(sorted(bands, key=lambda b: b.age_months)) for key, bands in points.items()}


def _band_age(row: dict) -> float:
    if row["band"] == "birth":
        return 0.0
    if row["band"] == "d30":
        return 30 / DAYS_PER_MONTH
    return (float(row["age_months_min"]) + float(row["age_months_max"])) / 2


def sex_key(sex_code: str) -> str | None:
    """Registry sex code ("1" male, "2" female) → the survey's key; None otherwise."""
    return {"1": "male", "2": "female"}.get(str(sex_code))


def age_months(birth: date, on: date) -> float:
    """Age in (fractional) months, as the chart's x axis."""
    return (on - birth).days / DAYS_PER_MONTH


def band_at(measure: Measure, sex: str, months: float) -> Band | None:
    """Percentiles at `months` of age, linearly interpolated; None outside the survey."""
    bands = reference().get((Measure(measure), sex))
    if not bands or months < 0 or months > bands[-1].age_months:
        return None
    i = bisect_right([b.age_months for b in bands], months)
    if i >= len(bands):
        return bands[-1]
    lo, hi = bands[i - 1], bands[i]
    t = (months - lo.age_months) / (hi.age_months - lo.age_months)
    return Band(months, tuple(a + (b - a) * t for a, b in zip(lo.values, hi.values)))


def age_limit(measure: Measure, sex: str = "male") -> float:
    """The oldest age (months) the survey covers for `measure`."""
    return reference()[(Measure(measure), sex)][-1].age_months


# ---------------------------------------------------------------- classifying a value

class Verdict(enum.StrEnum):
    WITHIN = "within"          # 3〜97パーセンタイルの範囲内
    FLAGGED = "flagged"        # 範囲外 — accepted, shown with a flag
    IMPOSSIBLE = "impossible"  # 入力誤りと考えられる値 — refused
    NO_REFERENCE = "no_reference"  # 基準値のない年齢・性別 — accepted without comparison


# Outside these multiples of the 3rd/97th percentile a value is taken as a typing error
# (e.g. 65 kg typed for 6.5 kg). Wide on purpose: very small preterm infants must pass.
IMPOSSIBLE_FACTORS = {Measure.WEIGHT: (0.35, 2.2), Measure.HEIGHT: (0.65, 1.3),
                      Measure.HEAD: (0.65, 1.3)}
# Absolute limits, the only check at birth and outside the survey's ages.
ABSOLUTE_LIMITS = {Measure.WEIGHT: (0.3, 80.0), Measure.HEIGHT: (20.0, 200.0),
                   Measure.HEAD: (15.0, 70.0)}


@dataclass(frozen=True)
class Classification:
    """Where one measurement sits against the survey's percentiles."""
    measure: Measure
    value: float
    verdict: Verdict
    band: Band | None
    position: str            # "3未満", "3〜10", … "97超", or "" without reference

    @property
    def flagged(self) -> bool:
        return self.verdict is Verdict.FLAGGED

    @property
    def refused(self) -> bool:
        return self.verdict is Verdict.IMPOSSIBLE

    @property
    def message(self) -> str:
        """Japanese message template for the form / page (percent-format with `self.args`)."""
        return {
            Verdict.WITHIN: N_("%(label)sは3〜97パーセンタイルの範囲内です。"),
            Verdict.FLAGGED: N_("%(label)sが3〜97パーセンタイルの範囲外です（パーセンタイル：%(position)s）。記録しますが、確認してください。"),
            Verdict.IMPOSSIBLE: N_("%(label)sの値（%(value)s %(unit)s）はこの月齢ではありえません。入力を確認してください。"),
            Verdict.NO_REFERENCE: N_("%(label)sの基準値がない年齢・性別のため、比較していません。"),
        }[self.verdict]

    @property
    def args(self) -> dict:
        return {"label": MEASURE_LABELS[self.measure], "value": f"{self.value:g}",
                "unit": UNITS[self.measure], "position": self.position}


def classify(measure: Measure, sex: str | None, months: float, value: float) -> Classification:
    """Judge a measurement taken at `months` of age: impossible values are refused; values
    outside the 3rd–97th percentile band are accepted with a flag."""
    measure = Measure(measure)
    low, high = ABSOLUTE_LIMITS[measure]
    band = band_at(measure, sex, months) if sex else None
    if not low <= value <= high:
        return Classification(measure, value, Verdict.IMPOSSIBLE, band, "")
    if band is None:
        return Classification(measure, value, Verdict.NO_REFERENCE, None, "")
    f_low, f_high = IMPOSSIBLE_FACTORS[measure]
    if months > 0.5 and not band.at(3) * f_low <= value <= band.at(97) * f_high:
        return Classification(measure, value, Verdict.IMPOSSIBLE, band, "")
    position = percentile_position(band, value)
    verdict = Verdict.WITHIN if band.at(3) <= value <= band.at(97) else Verdict.FLAGGED
    return Classification(measure, value, verdict, band, position)


def percentile_position(band: Band, value: float) -> str:
    """The percentile interval a value falls in, e.g. "25〜50"."""
    if value < band.at(3):
        return "3未満"
    if value > band.at(97):
        return "97超"
    for (p_lo, v_lo), (p_hi, v_hi) in zip(zip(PERCENTILES, band.values),
                                         zip(PERCENTILES[1:], band.values[1:])):
        if v_lo <= value <= v_hi:
            return f"{p_lo}〜{p_hi}"
    return "97"


# ---------------------------------------------------------------- SVG chart

@dataclass(frozen=True)
class Point:
    """One plotted measurement."""
    on: date
    value: float
    flagged: bool = False


WIDTH, HEIGHT = 760, 500
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 70, 64
PAD = 12   # px between the plot's frame and its data, so a mark at an edge stays inside
FONT = "IPAexGothic, 'Noto Sans CJK JP', 'Hiragino Sans', sans-serif"
COLOURS = {"outer": "#cfe0f3", "inner": "#9fc2e7", "median": "#0b4f8a", "grid": "#b8b8b8",
           "ink": "#1a1a1a", "point": "#1a1a1a", "flag": "#b00020"}
WORDS = {"age_months": "月齢（か月）", "age_years": "年齢（歳）",
         "survey": SURVEY + " 3〜97パーセンタイル",
         "no_reference": "この性別・年齢の基準曲線はありません",
         "flagged": "◆ 3〜97パーセンタイルの範囲外の値",
         "beyond": "□ 基準曲線のない年齢の値（比較していません）"}


def chart_range(measure: Measure, points: Sequence[Point], birth: date) -> float:
    """The x-axis end (months), on a labelled tick: 12 for an infant, 36 to three years,
    then whole years to the survey's end or the oldest point, whichever is later, so an
    infant's chart is not squeezed into six years and no point falls off the axis."""
    oldest = max((age_months(birth, p.on) for p in points), default=0.0)
    if oldest <= 12:
        return 12.0
    if oldest <= 36:
        return 36.0
    return 12.0 * math.ceil(max(oldest, age_limit(measure)) / 12)


def growth_chart_svg(measure: Measure, sex: str | None, birth: date, points: Sequence[Point],
                     title: str, labels: dict[str, str] | None = None) -> str:
    """An SVG growth chart: the 3–97 and 10–90 percentile bands and the 50th line of the
    2023 survey for `sex`, with the child's `points` over them: flagged ones (outside the
    3rd–97th) as red diamonds, ones older than the survey's curves as hollow squares, each
    kind explained by a note on the chart. `labels` holds translated texts (keys of
    WORDS); Japanese defaults."""
    measure = Measure(measure)
    words = {**WORDS, **(labels or {})}
    x_end = chart_range(measure, points, birth)
    curve = _curve(measure, sex, x_end)
    values = [p.value for p in points] + [v for b in curve for v in (b.at(3), b.at(97))]
    y_lo, y_hi = _nice_range(values or list(ABSOLUTE_LIMITS[measure]))
    plot = _Plot(x_end, y_lo, y_hi)
    last = curve[-1].age_months if curve else -1.0
    marks = [(p, _mark_kind(p, age_months(birth, p.on), last)) for p in points]
    parts = [_open(title, words, measure), _grid(plot, measure, words)]
    if curve:
        parts.append(_bands(plot, curve))
    parts.append(_points(plot, birth, marks, UNITS[measure], words))
    parts.append(_notes(words, {kind for _, kind in marks}, has_curve=bool(curve)))
    parts.append("</svg>")
    return "".join(parts)


def _mark_kind(point: Point, months: float, last_reference: float) -> str:
    """"beyond" past the end of the reference curves (nothing to compare with), "flagged"
    outside the 3rd–97th percentile, else "point"."""
    if last_reference >= 0 and months > last_reference + 1e-9:
        return "beyond"
    return "flagged" if point.flagged else "point"


@dataclass(frozen=True)
class _Plot:
    x_end: float
    y_lo: float
    y_hi: float

    def x(self, months: float) -> float:
        return LEFT + PAD + (WIDTH - LEFT - RIGHT - 2 * PAD) * months / self.x_end

    def y(self, value: float) -> float:
        return (HEIGHT - BOTTOM - PAD
                - (HEIGHT - TOP - BOTTOM - 2 * PAD) * (value - self.y_lo) / (self.y_hi - self.y_lo))


def _curve(measure: Measure, sex: str | None, x_end: float) -> list[Band]:
    if not sex or (measure, sex) not in reference():
        return []
    bands = [b for b in reference()[(measure, sex)] if b.age_months <= x_end]
    nxt = band_at(measure, sex, x_end)
    if nxt is not None and bands and bands[-1].age_months < x_end:
        bands.append(nxt)
    return bands


def _nice_range(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    step = _step(hi - lo)
    return (max(0.0, (lo // step) * step), (hi // step + 1) * step)


def _step(span: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 20):
        if span / step <= 10:
            return step
    return 50


def _open(title: str, words: dict, measure: Measure) -> str:
    t = escape(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'role="img" aria-labelledby="chart-{measure}-title chart-{measure}-desc" '
            f'class="growth-chart-svg" font-family="{escape(FONT)}">'
            f'<title id="chart-{measure}-title">{t}</title>'
            f'<desc id="chart-{measure}-desc">{escape(words["survey"])}</desc>'
            f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
            + _text(LEFT, 30, title, 22, COLOURS["ink"], weight="bold")
            + _text(LEFT, 54, words["survey"], 15, COLOURS["ink"]))


def _grid(plot: _Plot, measure: Measure, words: dict) -> str:
    """The plot's frame, value lines, and age ticks in the unit the axis title names:
    months up to one year, whole years after (half-years as unlabelled lines to three)."""
    out = [f'<rect class="plot-area" x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
           f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="{COLOURS["grid"]}" stroke-width="1"/>']
    step = _step(plot.y_hi - plot.y_lo)
    value = plot.y_lo
    while value <= plot.y_hi + 1e-9:
        y = plot.y(value)
        out.append(_line(LEFT, y, WIDTH - RIGHT, y, COLOURS["grid"], 1))
        out.append(_text(LEFT - 8, y + 5, f"{value:g}", 15, COLOURS["ink"], anchor="end"))
        value += step
    in_months = plot.x_end <= 12
    grid_step = 1 if in_months else 6 if plot.x_end <= 36 else 12
    for month in range(0, int(plot.x_end) + 1, grid_step):
        x = plot.x(month)
        out.append(_line(x, TOP, x, HEIGHT - BOTTOM, COLOURS["grid"], 1))
        if in_months or month % 12 == 0:
            label = month if in_months else month // 12
            out.append(_text(x, HEIGHT - BOTTOM + 22, label, 15, COLOURS["ink"], anchor="middle",
                             css="tick-x"))
    axis = words["age_months"] if in_months else words["age_years"]
    out.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 14, axis, 16, COLOURS["ink"],
                     anchor="middle", css="axis-x"))
    out.append(_text(16, TOP - 8, UNITS[measure], 16, COLOURS["ink"]))
    return "".join(out)


def _bands(plot: _Plot, curve: Sequence[Band]) -> str:
    def area(p_lo: int, p_hi: int, colour: str) -> str:
        upper = [(plot.x(b.age_months), plot.y(b.at(p_hi))) for b in curve]
        lower = [(plot.x(b.age_months), plot.y(b.at(p_lo))) for b in reversed(curve)]
        return f'<polygon points="{_coords(upper + lower)}" fill="{colour}" stroke="none"/>'
    median = [(plot.x(b.age_months), plot.y(b.at(50))) for b in curve]
    edges = "".join(
        f'<polyline points="{_coords([(plot.x(b.age_months), plot.y(b.at(p))) for b in curve])}" '
        f'fill="none" stroke="{COLOURS["median"]}" stroke-width="1" stroke-dasharray="4 3"/>'
        for p in (3, 97))
    labels = "".join(_text(plot.x(curve[-1].age_months) - 4, plot.y(curve[-1].at(p)) - 4,
                           str(p), 13, COLOURS["median"], anchor="end") for p in (3, 50, 97))
    return (area(3, 97, COLOURS["outer"]) + area(10, 90, COLOURS["inner"]) + edges
            + f'<polyline points="{_coords(median)}" fill="none" stroke="{COLOURS["median"]}" stroke-width="2"/>'
            + labels)


def _points(plot: _Plot, birth: date, marks: Sequence[tuple[Point, str]], unit: str,
            words: dict) -> str:
    ordered = sorted(marks, key=lambda mark: mark[0].on)
    coords = [(plot.x(age_months(birth, p.on)), plot.y(p.value)) for p, _kind in ordered]
    out = []
    if len(coords) > 1:
        out.append(f'<polyline points="{_coords(coords)}" fill="none" stroke="{COLOURS["point"]}" stroke-width="2.5"/>')
    for (point, kind), (x, y) in zip(ordered, coords):
        out.append(_mark(kind, x, y, _point_title(point, unit, words.get(kind, ""))))
    return "".join(out)


def _mark(kind: str, x: float, y: float, title: str) -> str:
    """One measurement's mark; flags differ in shape too, not by colour alone."""
    tip = f"<title>{escape(title)}</title>"
    if kind == "flagged":
        return (f'<polygon points="{_coords([(x, y - 9), (x + 9, y), (x, y + 9), (x - 9, y)])}" '
                f'fill="{COLOURS["flag"]}" stroke="#ffffff" stroke-width="1.5" class="flagged">{tip}</polygon>')
    if kind == "beyond":
        return (f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" fill="#ffffff" '
                f'stroke="{COLOURS["flag"]}" stroke-width="2.5" class="beyond-reference">{tip}</rect>')
    return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{COLOURS["point"]}" '
            f'stroke="#ffffff" stroke-width="1.5" class="point">{tip}</circle>')


def _point_title(point: Point, unit: str, note: str) -> str:
    text = f"{point.on.isoformat()}: {point.value:g} {unit}"
    return f"{text} — {note.lstrip('◆□ ')}" if note else text


def _notes(words: dict, kinds: set[str], has_curve: bool) -> str:
    """What the chart cannot show by position alone, written on it (top left of the plot,
    where growth data, rising with age, leaves room)."""
    lines = [] if has_curve else [words["no_reference"]]
    lines += [words[kind] for kind in ("flagged", "beyond") if kind in kinds]
    return "".join(_text(LEFT + PAD, TOP + 24 + 20 * i, line, 15, COLOURS["flag"], css="note")
                   for i, line in enumerate(lines))


def _coords(pairs) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def _line(x1, y1, x2, y2, colour, width) -> str:
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}" stroke-width="{width}"/>')


def _text(x, y, content, size, colour, anchor="start", weight="normal", css="") -> str:
    kind = f' class="{css}"' if css else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{colour}" '
            f'text-anchor="{anchor}" font-weight="{weight}"{kind}>{escape(str(content))}</text>')
