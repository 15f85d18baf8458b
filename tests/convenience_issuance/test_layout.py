"""Certificate layout as a verifier meets it: the worst content the registry allows (full
32-character names, 64-character kana, 200-character addresses and 本籍, a 60-character
origin, a large household) laid out for every certificate type, printed at 150 and 300 dpi
(pdftoppm) and read back: the QR code decodes on every page (zxing-cpp, as a phone would),
every word lies inside one of the page's boxes, and no word touches the QR code's box."""
from __future__ import annotations

import itertools
import re
import subprocess
from datetime import date, datetime

import pytest
import zxingcpp
from PIL import Image

from portal.pdflayout import Box, wrap_lines
from services.convenience_issuance.certificates import (PAGE_BOXES, QR_BOX, CertificateContent,
                                                        Member, register_fonts, render)
from services.convenience_issuance.services import CertificateType
from tests.pdfwords import overlapping_words, words

ORIGIN = "https://shomei-kofu.example-city-long-name.lg.jp.invalid:843"
CODE = "ABCD-EFGH-JKMN-PQRS"
URL = f"{ORIGIN}/services/convenience_issuance/verify?code={CODE}"
FAMILY, GIVEN = "長" * 32, "髙" * 32                 # the registry's limits (String(32))
KANA = "ナガ" * 32                                    # String(64)
ADDRESS = ("高知県南国市大そね" + "一二三四五六七八九十" * 20)[:200]
HOUSEHOLD_SIZE = 12


def member(index: int) -> Member:
    return Member(f"{FAMILY}\u3000{GIVEN}", f"{KANA}\u3000{KANA}", date(1950 + index, 12, 31), "1",
                  "世帯主" if index == 0 else "子の配偶者の父母", ADDRESS, f"{FAMILY}\u3000{GIVEN}")


def worst_case(kind: CertificateType) -> CertificateContent:
    people = tuple(member(i) for i in range(HOUSEHOLD_SIZE))
    return CertificateContent(
        kind, "南国市" * 8, ADDRESS, people[0], datetime(2026, 7, 1, 10), "392049-2026-00000001",
        CODE, URL, head_name=people[0].name, members=people,
        options={"household": True, "relationship": True, "honseki": True, "fiscal_year": 2025},
        seal_registration_number="S" * 20, fiscal_year=2025,
        tax={"total_income": 999_999_999_999, "taxable_income": 999_999_999_999,
             "municipal_tax": 99_999_999_999, "prefectural_tax": 99_999_999_999})


@pytest.fixture(scope="module", params=list(CertificateType), ids=str)
def worst_pdf(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / f"{request.param}.pdf"
    path.write_bytes(render(worst_case(request.param)))
    return path


def test_origin_is_sixty_characters():
    assert len(ORIGIN) == 60


def test_the_page_boxes_do_not_overlap():
    for first, second in itertools.combinations(PAGE_BOXES, 2):
        assert not first.overlaps(second), (first, second)
    page = Box("page", 0, 0, 595.27, 841.89)
    assert all(page.contains(b.x, b.y, b.right, b.top, slack=0) for b in PAGE_BOXES)


@pytest.mark.parametrize("dpi", [150, 300])
def test_the_qr_code_decodes_on_every_page(worst_pdf, dpi, tmp_path):
    # grey PGM: what a scanner gives, and no PNG compression to wait for
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", str(worst_pdf), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert pages
    for page in pages:
        found = zxingcpp.read_barcodes(Image.open(page))
        assert [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode] == [URL], page.name


def test_every_word_is_inside_a_box_and_none_near_the_qr_code(worst_pdf):
    found = words(worst_pdf)
    assert found
    # pdftotext's box for a glyph runs a little above and below the text: allow 2 pt
    for w in found:
        assert any(b.contains(w.x0, w.y0, w.x1, w.y1, slack=2) for b in PAGE_BOXES), w
        assert not QR_BOX.overlaps(Box(w.text, w.x0, w.y0, w.x1 - w.x0, w.y1 - w.y0)), w
    assert not overlapping_words(found, slack=1.5)


def test_everything_long_is_printed_whole(worst_pdf):
    text = "".join(subprocess.run(["pdftotext", str(worst_pdf), "-"], capture_output=True,
                                  text=True, check=True).stdout.split())
    assert FAMILY + GIVEN in text and ADDRESS in text and CODE in text
    assert URL in text  # wrapped over lines, but all there
    if "住民票の写し" in text:
        assert text.count(KANA + KANA) == HOUSEHOLD_SIZE  # every member of the household


def test_a_large_household_continues_with_page_numbers(tmp_path):
    path = tmp_path / "household.pdf"
    path.write_bytes(render(worst_case(CertificateType.JUMINHYO)))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 1
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert all(f"{n}／{pages}" in text for n in range(1, pages + 1))
    assert text.count("交付番号") == pages
    assert len(re.findall(r"確認コード\s+" + CODE, text)) == pages
    last = text.split("\f")[pages - 1]
    assert "この写しは、住民票の原本と相違ないことを証明する。" in "".join(last.split())


def test_wrapping_keeps_numbers_with_their_units_and_breaks_long_urls():
    register_fonts()
    lines = wrap_lines("麻しん風しん混合（MR） 第1期 2029年12月31日 接種時期です", "Gothic", 9, 45)
    joined = "|".join(lines)
    for whole in ("2029年", "12月", "31日", "（MR）", "1期"):
        assert whole in lines_containing(lines, whole), joined
    from reportlab.pdfbase.pdfmetrics import stringWidth
    url_lines = wrap_lines(URL, "Gothic", 9, 100)
    assert "".join(url_lines) == URL and len(url_lines) > 1
    assert all(stringWidth(line, "Gothic", 9) <= 100 for line in url_lines + lines)


def lines_containing(lines: list[str], text: str) -> str:
    return next((line for line in lines if text in line), "")
