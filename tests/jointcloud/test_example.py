"""The worked example reproduces Nankoku's 5-year comparison from the seed, and the report
renders as table, SVG, CSV and PDF from the stored inputs."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest

from portal.jointcloud import example, report
from portal.jointcloud.apportion import split


def test_derived_group_totals_give_nankoku_exactly_the_seed_figures():
    totals = example.group_totals()
    build = split(totals["build"], example.FORMULA, example.members())
    operation = split(totals["operation"], example.FORMULA, example.members())
    assert build["392049"] == 84_400_000
    assert operation["392049"] * 5 == 110_880_000
    # …and each is the smallest such total: one yen less gives Nankoku less.
    assert split(totals["build"] - 1, example.FORMULA, example.members())["392049"] < 84_400_000


def test_populations_are_the_2015_census():
    assert {code: p for code, _n, p in example.CITIES} == {
        "392049": 47_982, "392111": 32_961, "392120": 27_513}


@pytest.fixture
def loaded(db):
    with db.transaction() as s:
        example.load(s)
    with db.transaction() as s:
        return report.build(s)


def test_report_reproduces_nankoku_single_vs_shared(loaded):
    rows = {(c.code, c.category): c for c in loaded.comparisons}
    build, operation = rows["392049", "build"], rows["392049", "operation"]
    assert (build.standalone, build.shared) == (185_220_000, 84_400_000)
    assert (operation.standalone, operation.shared) == (176_760_000, 110_880_000)
    assert report.comparison_totals(loaded) == [("392049", "南国市", 361_980_000, 195_280_000)]
    assert build.saving == 100_820_000 and operation.saving == 65_880_000
    assert round(100 * 166_700_000 / 361_980_000) == 46  # the seed's "about 46%"


def test_every_line_adds_up_and_report_is_reproducible(db, loaded):
    for line in loaded.lines:
        assert sum(line.shares.values()) == line.item.amount
    with db.transaction() as s:
        again = report.build(s)
    assert again.digest == loaded.digest and again.totals == loaded.totals


def test_loading_twice_is_refused_unless_replacing(db, loaded):
    with pytest.raises(ValueError):
        with db.transaction() as s:
            example.load(s)
    with db.transaction() as s:
        example.load(s, replace=True)
    with db.transaction() as s:
        assert report.build(s).digest == loaded.digest


def test_csv_has_every_line_and_totals(loaded):
    rows = list(csv.reader(io.StringIO(report.to_csv(loaded).lstrip("\ufeff"))))
    assert rows[0][:4] == ["年度", "区分", "費目", "金額（円）"]
    assert len(rows) == 1 + len(loaded.lines) + 2
    total_row = rows[-2]
    assert total_row[0] == "合計" and int(total_row[6]) == 84_400_000 + 110_880_000


def test_svg_has_a_bar_per_city_and_no_style_attributes(loaded):
    svg = report.to_svg(loaded)
    assert "style=" not in svg and "<script" not in svg
    for name in ("南国市", "香南市", "香美市"):
        assert name in svg
    assert svg.count("<rect") >= 6  # 3 cities × 2 categories (+ legend)


def test_pdf_embeds_the_japanese_font(loaded, tmp_path):
    pdf = report.to_pdf(loaded)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    assert shutil.which("pdffonts"), "poppler-utils (pdffonts) is required"
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    line = next(l for l in fonts.stdout.splitlines() if "IPAexGothic" in l)
    assert " yes " in line  # emb column
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "南国市" in text and "18,522" in text and "8,440" in text
