"""The notebook summary PDF holds everything a pharmacist asks about — prescriptions, OTC
drugs, memos, the notes written at a visit — each table cell wrapped inside its column
(no text runs into other text), and 「なし」 under a heading with nothing to list."""
from __future__ import annotations

from datetime import date, timedelta

from tests.medication.helpers import post_import, ymd
from tests.medication.jahis_samples import visit_text
from tests.medication.test_views import city, hanako  # noqa: F401
from tests.pdfwords import fonts_not_embedded, overlapping_words, page_text, words

BASE = "/services/medication"
LONG_DRUG = "アムロジピンベシル酸塩口腔内崩壊錠５ｍｇ「サワイ」" * 2
LONG_OTC = "ロキソプロフェンナトリウム水和物配合かぜ薬ＥＸプレミアム（大容量）" * 2


def everything(today: date) -> str:
    return ("JAHISTC08,1\n1,高知 花子,2,19900401,,,,,,,\n2,1,ペニシリン系抗生物質で発疹,1\n"
            f"3,{LONG_OTC},20250101,20250105,2,1,4987188161027\n"
            "31,1,ロキソプロフェンナトリウム水和物,1,,2\n4,旅行中は朝の分を昼に飲む,20250102,2\n"
            "701,南国 薬子,はりまや薬局,0888000001,20230101,,1\n601,家族が管理しています,20250101\n"
            + visit_text(ymd(today - timedelta(days=3)), "はりまや薬局" * 4, "0412345", LONG_DRUG,
                         "4", "2171022F1022", 60)
            + "401,車の運転に注意,1\n601,朝は飲み忘れやすい,20250106\n")


def summary(client, sign_in_as, person, text: str, tmp_path):
    sign_in_as(person)
    assert post_import(client, person.id, text=text).status_code == 200  # the result is shown on the same page
    response = client.get(f"{BASE}/people/{person.id}/summary.pdf")
    assert response.status_code == 200 and response.content_type == "application/pdf"
    path = tmp_path / "summary.pdf"
    path.write_bytes(response.data)
    return path


def test_summary_holds_otc_drugs_memos_and_visit_notes(client, sign_in_as, hanako, tmp_path):
    path = summary(client, sign_in_as, hanako, everything(date.today()), tmp_path)
    text = "".join(page_text(path).split())
    for expected in (LONG_OTC, "ロキソプロフェンナトリウム水和物", "一般用医薬品（市販薬）",
                     "旅行中は朝の分を昼に飲む", "家族が管理しています", "手帳メモ・本人の記入",
                     "朝は飲み忘れやすい", "車の運転に注意", LONG_DRUG, "ペニシリン系抗生物質で発疹"):
        assert expected in text, expected
    assert "なし" not in text


def test_table_cells_wrap_inside_their_columns(client, sign_in_as, hanako, tmp_path):
    path = summary(client, sign_in_as, hanako, everything(date.today()), tmp_path)
    assert fonts_not_embedded(path) == []
    found = words(path)
    assert found and not overlapping_words(found)
    assert all(15 * 72 / 25.4 - 1 <= w.x0 and w.x1 <= (210 - 15) * 72 / 25.4 + 1 for w in found)


def test_an_empty_list_says_none(client, sign_in_as, hanako, tmp_path):
    old = visit_text("20200301", "はりまや薬局", "0412345", "ムコスタ錠100mg", "4", "2329021F1021", 7)
    path = summary(client, sign_in_as, hanako, "JAHISTC08,1\n1,高知 花子,2,19900401,,,,,,,\n" + old,
                   tmp_path)
    lines = [line.strip() for line in page_text(path).splitlines() if line.strip()]
    for heading in ("現在服用中の薬", "一般用医薬品（市販薬）", "アレルギー・副作用歴など"):
        assert lines[lines.index(heading) + 1] == "なし", heading
    assert "ムコスタ錠100mg" in "".join(lines)
