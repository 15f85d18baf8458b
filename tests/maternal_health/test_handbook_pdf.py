"""The handbook PDF's tables: every cell wraps inside its column, so a long vaccine name
(「麻しん風しん混合（MR） 第1期」) never runs into the status column, a status
(「接種時期です」) never crosses the border, and a date is never split (「20｜29年」)."""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

from services.maternal_health import export, schedule
from services.maternal_health.services import Handbook
from tests.pdfwords import fonts_not_embedded, overlapping_words, page_text, words

BIRTH = date(2028, 1, 20)
TODAY = date(2029, 2, 1)   # MR 第1期 due; dates in 2029 and 2030 in the explanations
FACILITY = "社会医療法人 南国こどもクリニック附属 予防接種センター（第二診療棟）" * 2


def book() -> Handbook:
    child = SimpleNamespace(name="長" * 32 + "\u3000" + "髙" * 32, name_kana="ナガ" * 32,
                            birth_date=BIRTH)
    doses = [schedule.Dose(schedule.Vaccine.BCG, date(2028, 7, 1))]
    given = [SimpleNamespace(vaccine="mr", dose_number=1, given_on=date(2029, 1, 25),
                             lot="MR2029-0125", facility=FACILITY)]
    return Handbook(child=child, birth=None, checkups=[], immunisations=given,
                    schedule=schedule.schedule_for(BIRTH, doses, TODAY))


def rendered(tmp_path):
    path = tmp_path / "handbook.pdf"
    path.write_bytes(export.handbook_pdf(book(), TODAY))
    return path


def test_no_cell_runs_into_another(tmp_path):
    path = rendered(tmp_path)
    assert fonts_not_embedded(path) == []
    found = words(path)
    assert found
    assert not overlapping_words(found), overlapping_words(found)[:3]
    margin, right = 15 * 72 / 25.4, (210 - 15) * 72 / 25.4
    assert all(margin - 1 <= w.x0 and w.x1 <= right + 1 for w in found)


def test_labels_statuses_and_dates_stay_whole(tmp_path):
    lines = page_text(rendered(tmp_path)).splitlines()
    text = "\n".join(lines)
    assert any("麻しん風しん混合（MR）" in line for line in lines)
    assert "接種時期です" in lines or any("接種時期です" in line for line in lines)
    assert "".join(FACILITY.split()) in "".join(text.split())
    assert re.search(r"2029年", text)
    assert not re.search(r"\d\n[\d年月日]", text), "a number split from its digits or unit"
