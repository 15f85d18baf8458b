"""Importing and reading お薬手帳 through the web, as residents, guardians and staff."""
from __future__ import annotations

import io
import random
import subprocess
from datetime import date

import pytest
from sqlalchemy import select, update

from portal.metering.models import UsageEvent
from portal.registry.models import GuardianLink, Sex
from services.medication import jahis, qr
from services.medication import models as m
from tests.medication.helpers import access_log, counts, overlapping_case, post_import
from tests.medication.jahis_samples import HANAKO_EXAMPLE, SPEC_EXAMPLE, cp932, for_patient

BASE = "/services/medication"


@pytest.fixture
def city(make_city):
    return make_city("392049", "南国市")


@pytest.fixture
def hanako(city, make_resident):
    return make_resident(city, family="高知", given="花子")


@pytest.fixture
def imported(client, sign_in_as, hanako):
    sign_in_as(hanako)
    response = post_import(client, hanako.id, text=overlapping_case(date.today()))
    assert response.status_code == 200
    return hanako


def test_pasted_text_becomes_a_timeline_with_allergies_first(client, db, city, imported):
    body = client.get(f"{BASE}/people/{imported.id}/").get_data(as_text=True)
    assert "ペニシリン系抗生物質で発疹" in body
    assert body.index("アレルギー歴") < body.index("アムロジピン錠5mg")
    assert body.index("ノルバスク錠5mg") < body.index("アムロジピン錠5mg")  # newest first
    assert "ノルバスク錠が5錠残っています" in body and "重複の可能性がある薬が" in body
    stored = counts(db, city.id)
    assert stored["medication_visit"] == 2 and stored["medication_drug"] == 4
    assert stored["medication_patient_note"] == 1 and stored["medication_visit_note"] == 1


def test_import_counts_usage_and_logs_access(db, city, imported):
    with db.transaction(city.id) as s:
        events = s.scalars(select(UsageEvent).where(UsageEvent.service == "medication")).all()
    assert [e.metric for e in events] == ["record_written"] and events[0].amount > 0
    actions = [(e.action, e.resource) for e in access_log(db, imported.id)]
    assert ("create", "medication.document") in actions


def test_the_same_document_twice_changes_nothing(client, db, city, imported):
    before = counts(db, city.id)
    response = post_import(client, imported.id, text=overlapping_case(date.today()))
    assert response.status_code == 200
    assert counts(db, city.id) == before
    assert "すでに取り込まれています" in response.get_data(as_text=True)


def test_our_own_export_imported_again_changes_nothing(client, db, city, hanako, sign_in_as):
    """The OTC drug and the memo were stored twice before; the page said 0 visits."""
    from tests.medication.test_idempotent_import import NOTEBOOK
    sign_in_as(hanako)
    first = post_import(client, hanako.id, file=(io.BytesIO(NOTEBOOK.encode("cp932")), "a.txt"))
    assert "新しく取り込んだもの" in first.get_data(as_text=True)
    before = counts(db, city.id)
    exported = client.get(f"{BASE}/people/{hanako.id}/export.txt").data
    again = post_import(client, hanako.id, file=(io.BytesIO(exported), "export.txt"))
    body = again.get_data(as_text=True)
    assert counts(db, city.id) == before
    assert "すでに取り込まれています" in body
    row = body[body.index("一般用医薬品"):]
    assert row.index("0 件") < row.index("1 件")  # 0 new, 1 already there


def test_a_visit_already_known_is_not_stored_again(client, db, city, imported):
    """A notebook export holding visits imported before adds only what is new."""
    text = overlapping_case(date.today()) + "5,20240101,1\n201,1,新しい薬,1,錠,1,,1,,,\n"
    assert post_import(client, imported.id, text=text).status_code == 200
    assert counts(db, city.id)["medication_visit"] == 3


def test_a_bad_document_is_rejected_with_its_diagnostics(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    bad = "JAHISTC08,1\n201,1,薬,1,錠,1,,1,,,\n5,R021340,1\n"
    response = post_import(client, hanako.id, text=bad)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "2行目 レコード201" in body and "3行目 レコード5 「調剤等年月日」" in body
    assert "何も保存していません" in body
    assert set(counts(db, city.id).values()) == {0}


def test_warnings_are_listed_with_the_result_and_a_dropped_value_is_named(client, db, city,
                                                                         hanako, sign_in_as):
    """An impossible birth date, an unknown record and missing optional fields are kept
    with a warning each, shown on the result page by line and field."""
    sign_in_as(hanako)
    text = ("JAHISTC08,1\n1,高知 花子,2,19991399,,,,,,,\n999,謎の記録\n"
            "5,20250301,1\n201,1,ムコスタ錠100mg,3,錠\n")
    response = post_import(client, hanako.id, text=text)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "取り込みました" in body
    assert "注意つきで取り込んだ項目（3 件）" in body
    assert "2行目 レコード1 「生年月日」" in body and "19991399" in body
    assert "空のまま取り込みました" in body
    assert "3行目" in body and "「999」" in body
    assert "5行目 レコード201" in body and "足りません" in body
    assert counts(db, city.id)["medication_drug"] == 1


def test_a_refused_document_lists_its_warnings_apart(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    text = "JAHISTC08,1\n4,メモ,X010101,2\n5,R021340,1\n"
    body = post_import(client, hanako.id, text=text).get_data(as_text=True)
    assert "取り込めない理由（1 件）" in body and "そのほかの注意（1 件）" in body
    assert body.index("3行目 レコード5") < body.index("そのほかの注意") < body.index("2行目 レコード4")
    assert set(counts(db, city.id).values()) == {0}


def test_no_source_or_two_sources_is_a_form_error(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    response = post_import(client, hanako.id)
    assert "どれか一つを選んでください" in response.get_data(as_text=True)
    both = post_import(client, hanako.id, text=SPEC_EXAMPLE,
                       file=(io.BytesIO(cp932(SPEC_EXAMPLE)), "a.txt"))
    assert "どれか一つを選んでください" in both.get_data(as_text=True)
    assert set(counts(db, city.id).values()) == {0}


def test_cp932_file_upload(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    response = post_import(client, hanako.id, file=(io.BytesIO(cp932(HANAKO_EXAMPLE)), "qr.txt"))
    assert response.status_code == 200
    body = client.get(f"{BASE}/people/{hanako.id}/").get_data(as_text=True)
    assert "2020年4月10日" in body and "ｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ5mg" in body


def _photo(parts: list[bytes]) -> tuple[io.BytesIO, str]:
    from PIL import Image
    images = [Image.open(io.BytesIO(qr.qr_png(p))) for p in parts]
    sheet = Image.new("L", (sum(i.width for i in images) + 40 * len(images),
                            max(i.height for i in images)), 255)
    x = 0
    for image in images:
        sheet.paste(image.convert("L"), (x, 0))
        x += image.width + 40
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer, "photo.png"


def test_photos_of_split_qr_codes_in_any_order(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    document = jahis.parse(overlapping_case(date.today())).document
    parts = jahis.split_for_qr(document, max_bytes=300)
    assert len(parts) >= 3
    random.Random(4).shuffle(parts)
    photos = [_photo([p]) for p in parts]
    assert post_import(client, hanako.id, photos=photos).status_code == 200
    assert counts(db, city.id)["medication_drug"] == 4


def test_structured_append_fragments_cut_inside_a_character(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    raw = cp932(HANAKO_EXAMPLE)
    cut = raw.index("高知".encode("cp932")) + 1
    photo = _photo([raw[:cut], raw[cut:]])  # both QR codes in one photo, left to right
    assert post_import(client, hanako.id, photos=[photo]).status_code == 200
    body = client.get(f"{BASE}/people/{hanako.id}/").get_data(as_text=True)
    assert "ｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ5mg" in body


def test_a_photo_without_qr_code_is_rejected(client, db, city, hanako, sign_in_as):
    from PIL import Image
    sign_in_as(hanako)
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    blank.seek(0)
    response = post_import(client, hanako.id, photos=[(blank, "blank.png"),
                                                      (io.BytesIO(b"not an image"), "x.jpg")])
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1 枚目の写真" in body and "2 枚目の写真" in body
    assert set(counts(db, city.id).values()) == {0}


@pytest.fixture
def child(db, city, make_resident, hanako):
    kid = make_resident(city, family="高知", given="太郎", birth=date(2020, 5, 1), sex=Sex.MALE,
                        household=hanako.household_id, relationship="子", given_kana="タロウ")
    with db.transaction(city.id) as s:
        s.add(GuardianLink(guardian_id=hanako.id, child_id=kid.id))
    return kid


def test_someone_elses_document_is_refused_with_the_reason(client, db, city, hanako, sign_in_as):
    """土佐 花子 (born 1985) does not go into 高知 花子's notebook, as a resident or staff."""
    tosa = for_patient(SPEC_EXAMPLE, "土佐 花子", "2", "19850707", "ﾄｻ ﾊﾅｺ")
    sign_in_as(hanako)
    response = post_import(client, hanako.id, text=tosa)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "高知\u3000花子 さんのものではないようです" in body
    assert "氏名（漢字・カナとも） が一致しません" in body and "土佐 花子" in body
    assert "生年月日 が一致しません" in body and "1985-07-07" in body
    assert "性別" not in body.split("取り込んでいません")[1].split("</section>")[0]
    assert set(counts(db, city.id).values()) == {0}


def test_names_compare_by_width_spacing_and_kana(client, db, city, hanako, sign_in_as):
    """Half-width kana, full-width spaces or none, hiragana: the same person. A pharmacy
    without the kanji is matched by the kana."""
    sign_in_as(hanako)
    for name, kana in (("高知　花子", ""), ("高知花子", "ｺｳﾁ ﾊﾅｺ"), ("髙知 花子", "こうち はなこ")):
        data = for_patient(SPEC_EXAMPLE, name, "2", "19900401", kana)
        assert post_import(client, hanako.id, text=data).status_code == 200, name
    refused = post_import(client, hanako.id, text=for_patient(SPEC_EXAMPLE, sex="1"))
    assert refused.status_code == 422 and "性別 が一致しません" in refused.get_data(as_text=True)


def test_a_childs_document_goes_into_the_childs_notebook(client, db, city, hanako, child,
                                                         sign_in_as):
    sign_in_as(hanako)
    data = for_patient(SPEC_EXAMPLE, "高知 太郎", "1", "R020501")
    body = post_import(client, hanako.id, text=data).get_data(as_text=True)
    assert "高知\u3000太郎 さんのお薬手帳に取り込みました" in body
    with db.transaction(city.id) as s:
        owners = s.scalars(select(m.MedicationVisit.resident_id)).all()
    assert owners == [child.id]
    assert access_log(db, child.id)[-1].purpose.endswith("（保護者）")


def test_staff_cannot_import_a_document_into_the_wrong_person(client, db, city, hanako, child,
                                                              make_staff, sign_in_as):
    sign_in_as(make_staff(city, roles=["health_staff"]))
    data = for_patient(SPEC_EXAMPLE, "高知 太郎", "1", "20200501")
    assert post_import(client, hanako.id, text=data).status_code == 422
    assert set(counts(db, city.id).values()) == {0}


def test_current_history_and_search(client, imported):
    current = client.get(f"{BASE}/people/{imported.id}/current").get_data(as_text=True)
    assert "アムロジピン錠5mg" in current and "ﾛｷｿﾆﾝ錠60mg" in current
    drugs = client.get(f"{BASE}/people/{imported.id}/drugs").get_data(as_text=True)
    assert "ノルバスク錠5mg" in drugs
    history = client.get(f"{BASE}/people/{imported.id}/drugs?key=4-2171022F1022")
    assert "はりまや薬局" in history.get_data(as_text=True)
    assert client.get(f"{BASE}/people/{imported.id}/drugs?key=nope").status_code == 404
    # Full-width katakana finds the half-width name the pharmacy wrote.
    found = client.get(f"{BASE}/people/{imported.id}/search?q=ロキソニン").get_data(as_text=True)
    assert "ﾛｷｿﾆﾝ錠60mg" in found and "ムコスタ" not in found
    by_pharmacy = client.get(f"{BASE}/people/{imported.id}/search?q=ごめん").get_data(as_text=True)
    assert "ムコスタ錠100mg" in by_pharmacy


@pytest.mark.parametrize("page", ["/", "/current", "/drugs?key=4-2171022F1022",
                                  "/search?q=ロキソニン"])
def test_each_page_listing_drugs_names_the_dosage_form(client, imported, page):
    """The usage record's 剤型 (here 内服) beside the usage, on every page that lists drugs
    through the shared drug line. It needs the pages' labels: imported without them, the
    line showed no dosage form on three of these four pages."""
    body = client.get(f"{BASE}/people/{imported.id}{page}").get_data(as_text=True)
    assert "［内服］" in body


def test_the_kept_timeline_follows_the_notebook_and_the_language(client, db, city, imported):
    """The visits are kept rendered per worker (portal.web.fragments), keyed by every row
    in full: a visit added since, a row changed in place, or the other language is never
    answered with what was kept."""
    page = f"{BASE}/people/{imported.id}/"
    assert "ノルバスク錠5mg" in client.get(page).get_data(as_text=True)
    assert post_import(client, imported.id, text=HANAKO_EXAMPLE).status_code == 200
    added = client.get(page).get_data(as_text=True)
    assert "ｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ5mg" in added and "ノルバスク錠5mg" in added
    with db.transaction(city.id) as s:
        s.execute(update(m.MedicationDrug).where(m.MedicationDrug.name == "ノルバスク錠5mg")
                  .values(name="ノルバスク錠2.5mg"))
    changed = client.get(page).get_data(as_text=True)
    assert "ノルバスク錠2.5mg" in changed and "ノルバスク錠5mg" not in changed
    assert "<dt>薬剤師</dt>" in changed
    assert client.get("/lang/en?next=/").status_code == 302
    english = client.get(page).get_data(as_text=True)
    assert "<dt>Pharmacist</dt>" in english and "<dt>薬剤師</dt>" not in english


def test_search_wildcards_are_characters(client, imported):
    """% and _ used to match everything: q=% listed every drug of the notebook."""
    for query in ("%", "_", "%%", "錠%"):
        found = client.get(f"{BASE}/people/{imported.id}/search", query_string={"q": query})
        body = found.get_data(as_text=True)
        assert found.status_code == 200 and "ムコスタ" not in body and "ﾛｷｿﾆﾝ" not in body, query


def test_duplicate_alert_page_says_what_it_cannot_check(client, imported):
    body = client.get(f"{BASE}/people/{imported.id}/alerts").get_data(as_text=True)
    assert "同一成分の重複" in body and "YJコード・厚労省コードによる判定" in body
    # ロキソニン×ムコスタ (9-digit codes), and each of them against the other pharmacy's
    # YJ-coded amlodipine: a レセ電 code cannot be mapped to YJ without a master. The page
    # names each pair and why (tests/medication/test_drug_master.py: with a master).
    assert "期間が重なる次の 3 組は、同じ成分か判断できませんでした。" in body
    assert body.count("薬品マスタがないため") == 3
    assert "配合剤" in body


def test_every_page_is_in_the_access_log(client, db, imported):
    before = len(access_log(db, imported.id))
    for page in ("/", "/current", "/drugs", "/alerts", "/search?q=薬", "/qr", "/export.txt"):
        assert client.get(f"{BASE}/people/{imported.id}{page}").status_code == 200
    entries = access_log(db, imported.id)[before:]
    assert [e.resource for e in entries] == [
        "medication.timeline", "medication.current", "medication.drug_history",
        "medication.alerts", "medication.search", "medication.export_qr",
        "medication.export_text"]
    assert all(e.purpose.endswith("（本人）") for e in entries)


def test_export_text_reads_back(client, imported):
    response = client.get(f"{BASE}/people/{imported.id}/export.txt")
    assert "Shift_JIS" in response.content_type
    result = jahis.parse(response.data)
    assert result.ok and len(result.document.visits) == 2
    assert result.document.notes[0].text == "ペニシリン系抗生物質で発疹"


def test_qr_page_shows_codes_that_read_back(client, imported):
    body = client.get(f"{BASE}/people/{imported.id}/qr").get_data(as_text=True)
    assert body.count('src="data:image/png;base64,') >= 1


def test_pdf_summary_embeds_a_japanese_font(client, imported, tmp_path):
    response = client.get(f"{BASE}/people/{imported.id}/summary.pdf")
    assert response.content_type == "application/pdf"
    path = tmp_path / "summary.pdf"
    path.write_bytes(response.data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    row = next(line for line in fonts.splitlines() if "IPAexGothic" in line)
    assert row.split()[-5] == "yes"  # emb column
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "アムロジピン錠5mg" in text and "ペニシリン系抗生物質で発疹" in text
    assert "アレルギー" in text


def test_guardian_sees_a_childs_notebook_and_nobody_elses(client, db, city, make_resident,
                                                          sign_in_as, hanako, child):
    stranger = make_resident(city, family="土佐", given="次郎")
    sign_in_as(hanako)
    taro_data = for_patient(SPEC_EXAMPLE, "高知 太郎", "1", "20200501")
    assert post_import(client, child.id, text=taro_data).status_code == 200
    page = client.get(f"{BASE}/people/{child.id}/").get_data(as_text=True)
    assert "ｺﾘｵﾊﾟﾝｶﾌﾟｾﾙ5mg" in page
    assert access_log(db, child.id)[-1].purpose.endswith("（保護者）")
    index = client.get(f"{BASE}/").get_data(as_text=True)
    assert "太郎" in index and "花子" in index
    assert client.get(f"{BASE}/people/{stranger.id}/").status_code == 404
    sign_in_as(child)
    assert client.get(f"{BASE}/people/{hanako.id}/").status_code == 404


def test_health_staff_imports_for_a_resident_of_their_city(client, db, city, make_city,
                                                           make_staff, make_resident,
                                                           sign_in_as, hanako):
    nurse = make_staff(city, roles=["health_staff"])
    sign_in_as(nurse)
    found = client.get(f"{BASE}/staff?q=高知").get_data(as_text=True)
    assert f"/people/{hanako.id}/" in found
    assert post_import(client, hanako.id, text=HANAKO_EXAMPLE).status_code == 200
    assert counts(db, city.id)["medication_visit"] == 1
    assert access_log(db, hanako.id)[-1].purpose.endswith("（職員）")
    other = make_resident(make_city("392111", "香南市"), family="香南", given="住民")
    assert client.get(f"{BASE}/people/{other.id}/").status_code == 404
    clerk = make_staff(city, roles=["registry_clerk"])
    sign_in_as(clerk)
    assert client.get(f"{BASE}/people/{hanako.id}/").status_code == 403


def test_menu_for_residents_and_health_staff(app, city, hanako, make_staff):
    from portal.auth import Viewer
    from portal.staff.models import Role
    from services.medication.plugin import MedicationService
    plugin = MedicationService()
    with app.test_request_context():
        resident = Viewer("resident", hanako.id, city.id, hanako.name)
        nurse = Viewer("staff", 1, city.id, "職員", frozenset({Role.HEALTH_STAFF}))
        clerk = Viewer("staff", 2, city.id, "職員", frozenset({Role.REGISTRY_CLERK}))
        assert [i.endpoint for i in plugin.menu_items(resident)] == ["medication.index"]
        assert [i.endpoint for i in plugin.menu_items(nurse)] == ["medication.staff_search"]
        assert plugin.menu_items(clerk) == []


def test_without_the_japanese_font_the_pdf_page_says_so(client, imported, monkeypatch):
    """Fonts missing on a deployment: a plain Japanese 503, no traceback (the fonts are
    registered once per process, so the registry is shown empty for this request)."""
    from reportlab.pdfbase import pdfmetrics

    from portal import fonts
    monkeypatch.setattr(fonts, "FONT_FILES", {k: ("/nonexistent/font.ttf",) for k in fonts.FONT_FILES})
    monkeypatch.setattr(pdfmetrics, "getRegisteredFontNames", lambda: [])
    response = client.get(f"{BASE}/people/{imported.id}/summary.pdf")
    assert response.status_code == 503
    assert "日本語フォント" in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_refused_before_reading(client, db, city, hanako, sign_in_as,
                                                         monkeypatch):
    from services.medication import forms
    sign_in_as(hanako)
    big = cp932(HANAKO_EXAMPLE) + b" " * (5 * 1024 * 1024)
    read = []
    monkeypatch.setattr(jahis, "parse", lambda data: read.append(data))
    response = post_import(client, hanako.id, file=(io.BytesIO(big), "big.txt"))
    body = response.get_data(as_text=True)
    assert "「big.txt」は 5.0 MB あります。1つのファイルは 5.0 MB までです。" in body
    assert read == [] and set(counts(db, city.id).values()) == {0}
    assert forms.MAX_FILE_BYTES == 5 * 1024 * 1024  # the limit docs/medication.md states


def test_a_request_over_the_app_limit_gets_a_plain_page(client, app, city, hanako, sign_in_as):
    sign_in_as(hanako)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    response = post_import(client, hanako.id, file=(io.BytesIO(b"x" * 2 * 1024 * 1024), "a.txt"))
    assert response.status_code == 413
    assert "大きすぎ" in response.get_data(as_text=True)


def test_the_parts_of_a_split_document_as_several_files(client, db, city, hanako, sign_in_as):
    sign_in_as(hanako)
    document = jahis.parse(overlapping_case(date.today())).document
    parts = jahis.split_for_qr(document, max_bytes=300)
    files = [(io.BytesIO(p), f"part{n}.txt") for n, p in enumerate(reversed(parts))]
    files[0] = (io.BytesIO(b"\xef\xbb\xbf" + parts[-1].decode("cp932").encode("utf-8")), "u.txt")
    assert post_import(client, hanako.id, file=files).status_code == 200
    assert counts(db, city.id)["medication_drug"] == 4


def test_structured_append_photos_in_reverse_order(client, db, city, hanako, sign_in_as):
    import segno
    sign_in_as(hanako)
    symbols = segno.make_sequence(cp932(overlapping_case(date.today())), mode="byte",
                                  error="m", symbol_count=3)
    pngs = []
    for symbol in reversed(symbols):
        buffer = io.BytesIO()
        symbol.save(buffer, kind="png", scale=3)
        pngs.append(buffer.getvalue())
    photos = [(io.BytesIO(p), "qr.png") for p in pngs]
    assert post_import(client, hanako.id, photos=photos).status_code == 200
    assert counts(db, city.id)["medication_drug"] == 4
    missing = post_import(client, hanako.id, photos=[(io.BytesIO(pngs[0]), "qr.png")])
    assert missing.status_code == 422 and "1・2 / 3" in missing.get_data(as_text=True)


def test_current_drugs_show_pharmacy_doctor_and_their_alerts(client, city, imported, make_staff,
                                                             sign_in_as):
    """Beside each drug: the pharmacy, the doctor, and the duplicate alert it is part of —
    for the resident and for the nurse alike."""
    for viewer in (imported, make_staff(city, roles=["health_staff"])):
        sign_in_as(viewer)
        body = client.get(f"{BASE}/people/{imported.id}/current").get_data(as_text=True)
        row = body[body.index('<span class="med-drug">アムロジピン錠5mg'):]
        row = row[:row.index("</tr>")]
        assert "はりまや薬局" in row and "土佐 一郎" in row and "高知中央病院" in row
        assert "同一成分の重複" in row and "ノルバスク錠5mg（ごめん駅前薬局）と期間が重なっています" in row
        loxonin = body[body.index('<span class="med-drug">ﾛｷｿﾆﾝ錠60mg'):]
        assert "同一成分の重複" not in loxonin[:loxonin.index("</tr>")]
