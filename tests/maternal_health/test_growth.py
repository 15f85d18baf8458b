"""Growth percentiles of the 2023 survey, plausibility of measurements, and SVG charts."""
import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from hypothesis import given, strategies as st

from services.maternal_health.growth import (
    DataError, Measure, Point, Verdict, age_limit, band_at, classify, growth_chart_svg, load,
    reference)

SVG = "{http://www.w3.org/2000/svg}"


def test_the_packaged_data_loads_and_is_monotone():
    ref = reference()
    assert {(m, s) for m in Measure for s in ("male", "female")} <= set(ref)
    for bands in ref.values():
        ages = [b.age_months for b in bands]
        assert ages == sorted(ages)
        for band in bands:
            assert list(band.values) == sorted(band.values)


def test_loading_refuses_percentiles_out_of_order(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("measure,unit,sex,band,band_label,age_months_min,age_months_max,"
                   "p3,p10,p25,p50,p75,p90,p97\n"
                   "weight,kg,male,birth,出生時,0,0,2.32,2.58,2.8,3.06,3.01,3.56,3.81\n")
    with pytest.raises(DataError):
        load(bad)


def test_band_points_match_the_published_table():
    birth = band_at(Measure.WEIGHT, "male", 0)
    assert birth.at(3) == 2.32 and birth.at(97) == 3.81
    # the 3〜4か月未満 band sits at 3.5 months
    assert band_at(Measure.HEIGHT, "female", 3.5).at(50) == pytest.approx(60.6)


def test_interpolation_lies_between_neighbouring_bands():
    lo, hi = band_at(Measure.WEIGHT, "female", 3.5), band_at(Measure.WEIGHT, "female", 4.5)
    mid = band_at(Measure.WEIGHT, "female", 4.0)
    for p in (3, 50, 97):
        assert mid.at(p) == pytest.approx((lo.at(p) + hi.at(p)) / 2)


def test_head_circumference_stops_at_three_years():
    assert band_at(Measure.HEAD, "male", 40) is None
    assert age_limit(Measure.HEAD) < 36 < age_limit(Measure.WEIGHT)


@pytest.mark.parametrize("measure, months, value, verdict", [
    (Measure.WEIGHT, 3.5, 6.5, Verdict.WITHIN),
    (Measure.WEIGHT, 3.5, 4.8, Verdict.FLAGGED),     # below the 3rd percentile
    (Measure.WEIGHT, 3.5, 9.9, Verdict.FLAGGED),     # above the 97th
    (Measure.WEIGHT, 3.5, 65.0, Verdict.IMPOSSIBLE),  # 65 kg typed for 6.5
    (Measure.WEIGHT, 3.5, 0.65, Verdict.IMPOSSIBLE),
    (Measure.WEIGHT, 0, 0.45, Verdict.FLAGGED),      # a very small preterm baby is real
    (Measure.HEIGHT, 18, 190.0, Verdict.IMPOSSIBLE),
    (Measure.HEAD, 48, 50.0, Verdict.NO_REFERENCE),
    (Measure.HEAD, 48, 500.0, Verdict.IMPOSSIBLE),
])
def test_classification(measure, months, value, verdict):
    assert classify(measure, "male", months, value).verdict is verdict


def test_flag_names_the_percentile_position():
    low = classify(Measure.WEIGHT, "female", 3.5, 4.5)
    assert low.flagged and low.position == "3未満"
    assert "範囲外" in low.message % low.args
    assert classify(Measure.WEIGHT, "female", 3.5, 6.06).position in ("25〜50", "50〜75")


def test_no_sex_means_no_comparison_but_absolute_limits_still_apply():
    assert classify(Measure.WEIGHT, None, 3, 6.0).verdict is Verdict.NO_REFERENCE
    assert classify(Measure.WEIGHT, None, 3, 600).refused


@given(months=st.floats(0, 75), p=st.sampled_from((3, 10, 25, 50, 75, 90, 97)),
       sex=st.sampled_from(("male", "female")))
def test_every_published_percentile_value_is_accepted(months, p, sex):
    value = band_at(Measure.WEIGHT, sex, months).at(p)
    assert classify(Measure.WEIGHT, sex, months, value).verdict is Verdict.WITHIN


def _chart(points, measure=Measure.WEIGHT, sex="male"):
    birth = date(2024, 6, 10)
    return growth_chart_svg(measure, sex, birth, points, "体重（男の子）")


def test_chart_is_valid_svg_with_title_survey_year_and_bands():
    birth = date(2024, 6, 10)
    svg = _chart([Point(birth, 3.1), Point(birth + timedelta(days=100), 4.8, flagged=True)])
    root = ElementTree.fromstring(svg)
    assert root.get("viewBox") == "0 0 760 500"
    assert root.find(f"{SVG}title").text == "体重（男の子）"
    assert "令和5年（2023年）乳幼児身体発育調査" in svg
    assert len(root.findall(f"{SVG}polygon")) >= 3   # two bands + one flagged diamond
    assert len(root.findall(f"{SVG}polygon[@class='flagged']")) == 1
    assert len(root.findall(f"{SVG}circle")) == 1


def test_chart_uses_no_style_attributes_or_scripts():
    svg = _chart([Point(date(2024, 7, 10), 4.0)])
    assert "style" not in svg and "<script" not in svg
    assert re.search(r'fill="#', svg) and re.search(r'stroke="#', svg)


def test_chart_widens_its_age_axis_to_show_every_point():
    birth = date(2024, 6, 10)
    infant = _chart([Point(birth + timedelta(days=200), 7.5)])
    toddler = _chart([Point(birth + timedelta(days=800), 12.0)])
    assert ">12<" in infant and "1歳" not in infant
    assert _axis(toddler) == ("年齢（歳）", ["0", "1", "2", "3"])


def test_chart_for_unknown_sex_says_there_is_no_reference_curve():
    svg = _chart([Point(date(2024, 7, 10), 4.0)], sex=None)
    assert "基準曲線はありません" in svg
    assert 'fill="#cfe0f3"' not in svg


def test_chart_escapes_text():
    svg = growth_chart_svg(Measure.HEIGHT, "female", date(2024, 1, 1), [], "<b>&")
    assert "&lt;b&gt;&amp;" in svg
    ElementTree.fromstring(svg)


# ---------------------------------------------------------------- chart geometry and words

PLOT = {"left": 78, "top": 70, "right": 736, "bottom": 436}   # the frame drawn as .plot-area


def _axis(svg: str) -> tuple[str, list[str]]:
    root = ElementTree.fromstring(svg)
    title = root.find(f"{SVG}text[@class='axis-x']").text
    return title, [t.text for t in root.findall(f"{SVG}text[@class='tick-x']")]


def _marks(root):
    """(class, left, top, right, bottom) of every measurement's mark."""
    out = []
    for circle in root.iter(f"{SVG}circle"):
        x, y, r = (float(circle.get(k)) for k in ("cx", "cy", "r"))
        out.append((circle.get("class"), x - r, y - r, x + r, y + r))
    for rect in root.findall(f"{SVG}rect[@class='beyond-reference']"):
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        out.append(("beyond-reference", x, y, x + w, y + h))
    for diamond in root.findall(f"{SVG}polygon[@class='flagged']"):
        xs, ys = zip(*(map(float, p.split(",")) for p in diamond.get("points").split()))
        out.append(("flagged", min(xs), min(ys), max(xs), max(ys)))
    return out


def test_every_mark_is_drawn_inside_the_plot_and_late_ones_are_flagged_with_a_note():
    """The head-circumference curves end at 2 years 9 months: a 3-year measurement was
    drawn half outside the frame, like the birth point on the left edge, and unexplained."""
    birth = date(2021, 1, 1)
    points = [Point(birth, 33.5), Point(date(2021, 7, 1), 43.0),
              Point(date(2022, 1, 1), 46.0, flagged=True), Point(date(2024, 5, 1), 50.0)]
    svg = growth_chart_svg(Measure.HEAD, "male", birth, points, "頭囲（男の子）")
    root = ElementTree.fromstring(svg)
    frame = root.find(f"{SVG}rect[@class='plot-area']")
    assert {k: float(frame.get(v)) for k, v in (("left", "x"), ("top", "y"))} == \
        {"left": PLOT["left"], "top": PLOT["top"]}
    marks = _marks(root)
    assert len(marks) == 4
    for kind, left, top, right, bottom in marks:
        assert PLOT["left"] <= left and right <= PLOT["right"], (kind, left, right)
        assert PLOT["top"] <= top and bottom <= PLOT["bottom"], (kind, top, bottom)
    assert [m[0] for m in marks].count("beyond-reference") == 1
    notes = [t.text for t in root.findall(f"{SVG}text[@class='note']")]
    assert "□ 基準曲線のない年齢の値（比較していません）" in notes
    assert "◆ 3〜97パーセンタイルの範囲外の値" in notes
    late = root.find(f"{SVG}rect[@class='beyond-reference']/{SVG}title").text
    assert late.startswith("2024-05-01: 50 cm") and "比較していません" in late


def test_a_chart_within_the_curves_has_no_notes():
    birth = date(2024, 6, 10)
    svg = _chart([Point(birth + timedelta(days=100), 6.0)])
    assert ElementTree.fromstring(svg).findall(f"{SVG}text[@class='note']") == []


@pytest.mark.parametrize("days, unit", [(200, "か月"), (800, "歳"), (2000, "歳")])
def test_the_age_axis_names_the_unit_its_ticks_are_in(days, unit):
    """It said 月齢 under ticks written in 歳; the ticks are now bare numbers and the axis
    title carries their unit."""
    birth = date(2024, 6, 10)
    title, ticks = _axis(_chart([Point(birth + timedelta(days=days), 9.0)]))
    assert title.endswith(f"（{unit}）")
    assert ticks and all(t.isdigit() for t in ticks), ticks
    assert [int(t) for t in ticks] == sorted(int(t) for t in ticks)
