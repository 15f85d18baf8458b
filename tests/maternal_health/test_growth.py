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
    assert "2歳" in toddler


def test_chart_for_unknown_sex_says_there_is_no_reference_curve():
    svg = _chart([Point(date(2024, 7, 10), 4.0)], sex=None)
    assert "基準曲線はありません" in svg
    assert 'fill="#cfe0f3"' not in svg


def test_chart_escapes_text():
    svg = growth_chart_svg(Measure.HEIGHT, "female", date(2024, 1, 1), [], "<b>&")
    assert "&lt;b&gt;&amp;" in svg
    ElementTree.fromstring(svg)
