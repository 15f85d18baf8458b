"""A percentile flag and a measurement's name read in English on English pages (they were
"Out of range (percentile: 3未満)" and "体重 is outside …")."""
from __future__ import annotations

import re

from flask_babel import force_locale, gettext

from services.maternal_health import growth
from services.maternal_health.views import position_words, tr_args

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")


def test_positions_and_measures_are_translated(app):
    flagged = growth.classify(growth.Measure.WEIGHT, "female", 12, 6.0)
    assert flagged.flagged and flagged.position == "3未満"
    with app.test_request_context(), force_locale("en"):
        assert position_words("3未満") == "below 3" and position_words("97超") == "above 97"
        assert position_words("25〜50") == "25–50"
        sentence = gettext(flagged.message, **tr_args(flagged.args))
        flag = gettext("範囲外（パーセンタイル：%(p)s）", p=position_words(flagged.position))
    assert not JAPANESE.search(sentence), sentence
    assert flag == "Out of range (percentile: below 3)"
    with app.test_request_context(), force_locale("ja"):
        assert position_words("3未満") == "3未満"


BASE = "/services/maternal_health"
# What an English page may still show in Japanese: people's and the city's names as
# registered (proper names), and the staff account's display name (職員 …).
NAMES = {"土佐", "太郎", "花子", "トサ", "タロウ", "コウチ", "ハナコ", "南海", "次郎", "南国市", "職員"}
WORD = re.compile(r"[^\s<>]*[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uff00-\uffef][^\s<>]*")


def _visible_words(html: str) -> set[str]:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<a [^>]*lang="ja"[^>]*>.*?</a>', " ", html, flags=re.S)
    words = WORD.findall(re.sub(r"<[^>]+>", " ", html))
    return {part for word in words for part in word.split("\u3000") if part}   # 氏　名


def test_english_pages_compose_no_japanese_around_names(app, sign_in_as, family):
    """Chart titles read "Weight（boy）", the form "Person：土佐 太郎（2024/6/10）": the
    punctuation around values was written in the templates, outside the catalog."""
    app.config["WTF_CSRF_ENABLED"] = False
    nurse, mother = sign_in_as(family["nurse"]), family["mother"]
    assert nurse.get("/lang/en?next=/").status_code == 302
    child = family["child"]
    checkup = {"occasion": "m3_4", "checked_on": "2024-10-01", "weight_kg": "4.0",
               "height_cm": "62.0", "head_cm": "41.0"}
    new = f"{BASE}/staff/residents/{child.id}/records/checkup/new"
    assert nurse.post(new, data=checkup).status_code == 302
    pages = {"duplicate": nurse.post(new, data=checkup)}
    for path in (f"{BASE}/staff/residents/{child.id}", f"{BASE}/staff/residents/{mother.id}",
                 f"{BASE}/staff/worklist", new):
        pages[path] = nurse.get(path)
    guardian = sign_in_as(mother)
    assert guardian.get("/lang/en?next=/").status_code == 302
    pages["handbook"] = guardian.get(f"{BASE}/children/{child.id}")
    assert pages["duplicate"].status_code == 409
    for name, response in pages.items():
        words = _visible_words(response.get_data(as_text=True))
        assert words <= NAMES, (name, sorted(words - NAMES))
    assert "Weight (boy)" in pages["handbook"].get_data(as_text=True)


def test_ages_and_counts_read_in_the_singular_for_one(app):
    """"1 months 1 days", "Weight (boy): 1 records" were written for a count of one."""
    from datetime import date

    from flask_babel import ngettext

    from services.maternal_health.views import display_age
    birth = date(2024, 1, 10)
    with app.test_request_context(), force_locale("en"):
        assert display_age(birth, date(2024, 2, 11)) == "1 month 1 day"
        assert display_age(birth, date(2024, 4, 10)) == "3 months 0 days"
        assert display_age(birth, date(2025, 2, 10)) == "1 year 1 month"
        assert display_age(birth, date(2026, 4, 10)) == "2 years 3 months"
        caption = "%(title)s：記録%(n)s件"
        assert ngettext(caption, caption, 1, title="Weight", n=1) == "Weight: 1 record"
        assert ngettext(caption, caption, 2, title="Weight", n=2) == "Weight: 2 records"
    with app.test_request_context(), force_locale("ja"):
        assert display_age(birth, date(2024, 2, 11)) == "1か月1日"
        assert display_age(birth, date(2026, 4, 10)) == "2歳3か月"
