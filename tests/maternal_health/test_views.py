"""Staff entry, guardian view, exports and worklists through the web, with the access log
and the authorisation rules of the handbook."""
import csv
import io
import json
import re
import subprocess

import pytest
from sqlalchemy import select

from portal.audit.models import AccessLogEntry
from portal.metering.models import UsageEvent
from services.maternal_health.models import Amendment, ChildCheckup, Immunisation, PostpartumCheck

BASE = "/services/maternal_health"


@pytest.fixture
def nurse_client(app, client, sign_in_as, family):
    app.config["WTF_CSRF_ENABLED"] = False
    return sign_in_as(family["nurse"])


def new_checkup(client, child, **values):
    data = {"occasion": "m3_4", "checked_on": "2024-10-01", "weight_kg": "6.5",
            "height_cm": "62.0", "head_cm": "41.0", **values}
    return client.post(f"{BASE}/staff/residents/{child.id}/records/checkup/new", data=data)


def errors(response) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]*)<', response.get_data(as_text=True))


def log_entries(db, city, subject_id):
    with db.transaction(city.id) as s:
        return s.scalars(select(AccessLogEntry).where(
            AccessLogEntry.subject_resident_id == subject_id)).all()


# ---------------------------------------------------------------- staff entry

def test_staff_records_a_checkup_and_it_is_logged_and_metered(nurse_client, family, db):
    response = new_checkup(nurse_client, family["child"])
    assert response.status_code == 302
    with db.transaction(family["city"].id) as s:
        row = s.scalar(select(ChildCheckup))
        assert (row.weight_kg, row.height_cm, row.weight_flag) == (6.5, 62.0, None)
        assert row.entered_by_name == "職員 hokenshi"
        assert s.scalar(select(UsageEvent).where(UsageEvent.service == "maternal_health",
                                                 UsageEvent.metric == "record_written"))
    actions = {(e.action, e.resource) for e in log_entries(db, family["city"], family["child"].id)}
    assert ("write", "maternal_health.checkup") in actions


def test_impossible_value_is_refused_beside_its_field_and_nothing_is_saved(nurse_client, family, db):
    response = new_checkup(nurse_client, family["child"], weight_kg="65")
    assert response.status_code == 422
    assert any("ありえません" in e for e in errors(response))
    assert 'id="weight_kg-error"' in response.get_data(as_text=True)
    assert 'value="62.0"' in response.get_data(as_text=True)   # the rest of the input is kept
    with db.transaction(family["city"].id) as s:
        assert s.scalar(select(ChildCheckup)) is None


def test_value_outside_the_band_is_saved_with_a_visible_flag(nurse_client, family, db):
    response = new_checkup(nurse_client, family["child"], weight_kg="4.9")
    page = nurse_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "範囲外" in page and "mh-flag" in page
    with db.transaction(family["city"].id) as s:
        assert s.scalar(select(ChildCheckup)).weight_flag == "3未満"


@pytest.mark.parametrize("kind, data, field, message", [
    ("prenatal", {"checked_on": "2024-10-01", "gestational_weeks": "50"}, "gestational_weeks", "4〜42"),
    ("prenatal", {"checked_on": "2024-10-01", "gestational_weeks": "20", "systolic_bp": "300"},
     "systolic_bp", "60〜250"),
    ("checkup", {"occasion": "m1", "checked_on": "2099-01-01"}, "checked_on", "未来の日付"),
    ("checkup", {"occasion": "m1", "checked_on": "2024-13-01"}, "checked_on", "日付を"),
    ("checkup", {"occasion": "m1", "checked_on": "2024-01-01"}, "checked_on", "生年月日より前"),
    ("immunisation", {"vaccine": "bcg", "dose_number": "x", "given_on": "2024-12-01"},
     "dose_number", "整数"),
    ("immunisation", {"vaccine": "", "dose_number": "1", "given_on": "2024-12-01"},
     "vaccine", "入力してください"),
])
def test_range_checks_answer_in_japanese_beside_the_field(nurse_client, family, kind, data,
                                                          field, message):
    subject = family["mother"] if kind == "prenatal" else family["child"]
    response = nurse_client.post(f"{BASE}/staff/residents/{subject.id}/records/{kind}/new",
                                 data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]*)<', body)
    assert error and message in error.group(1)


def test_blood_pressure_diastolic_must_be_below_systolic(nurse_client, family):
    mother = family["mother"]
    nurse_client.post(f"{BASE}/staff/residents/{mother.id}/records/pregnancy/new",
                      data={"notified_on": "2024-01-10"})
    response = nurse_client.post(f"{BASE}/staff/residents/{mother.id}/records/prenatal/new", data={
        "checked_on": "2024-03-01", "gestational_weeks": "12", "systolic_bp": "90",
        "diastolic_bp": "120"})
    assert any("最低血圧" in e for e in errors(response))


def test_prenatal_checkup_hangs_on_the_latest_pregnancy_and_shows_on_the_timeline(
        nurse_client, family, sign_in_as):
    mother = family["mother"]
    nurse_client.post(f"{BASE}/staff/residents/{mother.id}/records/pregnancy/new", data={
        "notified_on": "2024-01-10", "expected_delivery_on": "2024-07-01",
        "mother_height_cm": "158", "pre_pregnancy_weight_kg": "50"})
    response = nurse_client.post(f"{BASE}/staff/residents/{mother.id}/records/prenatal/new", data={
        "checked_on": "2024-03-01", "gestational_weeks": "20", "gestational_days": "3",
        "systolic_bp": "118", "diastolic_bp": "72", "urine_protein": "−"})
    assert response.status_code == 302
    page = sign_in_as(mother).get(f"{BASE}/").get_data(as_text=True)
    assert "妊娠20週3日" in page and "出産予定日" in page and "118/72" in page


def test_prenatal_checkup_without_a_pregnancy_is_refused(nurse_client, family):
    response = nurse_client.post(
        f"{BASE}/staff/residents/{family['loner'].id}/records/prenatal/new",
        data={"checked_on": "2024-03-01", "gestational_weeks": "20"})
    assert response.status_code == 422 and "妊娠届出を先に" in response.get_data(as_text=True)


def test_birth_record_links_the_mother_and_starts_the_growth_chart(nurse_client, family, db):
    child = family["child"]
    response = nurse_client.post(f"{BASE}/staff/residents/{child.id}/records/birth/new", data={
        "born_on": "2024-06-10", "born_time": "04:35", "gestational_weeks": "39",
        "weight_kg": "3.10", "length_cm": "49.5", "head_cm": "33.5"})
    assert response.status_code == 302
    page = nurse_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "記録1件" in page  # the birth weight is the chart's first point


def test_a_birth_record_never_takes_the_father_for_the_mother(nurse_client, family, make_resident,
                                                             link_guardian):
    """A child whose only guardian is the father: the record is refused with a reason
    (guardians were ordered by sex code, and the first one was taken as the mother)."""
    from datetime import date
    from portal.api import Sex
    father = make_resident(family["city"], family="北", given="一郎", birth=date(1988, 3, 3),
                           sex=Sex.MALE)
    baby = make_resident(family["city"], family="北", given="二郎", birth=date(2024, 8, 1),
                         sex=Sex.MALE, household=father.household_id, relationship="子")
    link_guardian(father, baby)
    response = nurse_client.post(f"{BASE}/staff/residents/{baby.id}/records/birth/new", data={
        "born_on": "2024-08-01", "gestational_weeks": "39", "weight_kg": "3.10",
        "length_cm": "49.5", "head_cm": "33.5"})
    assert response.status_code == 422
    assert "母である保護者が登録されていません" in response.get_data(as_text=True)


# ---------------------------------------------------------------- postpartum checks

POSTPARTUM = {"checked_on": "2024-07-10", "days_after_birth": "30", "uterine_involution": "good",
              "lochia": "normal", "breasts": "normal", "systolic_bp": "112", "diastolic_bp": "70",
              "urine_protein": "−", "weight_kg": "54.5"}


def new_postpartum(client, mother, **values):
    return client.post(f"{BASE}/staff/residents/{mother.id}/records/postpartum/new",
                       data={**POSTPARTUM, **values})


def test_staff_records_a_postpartum_check_and_the_mother_sees_it(nurse_client, family, db,
                                                                 sign_in_as):
    mother = family["mother"]
    form = nurse_client.get(f"{BASE}/staff/residents/{mother.id}/records/postpartum/new")
    assert form.status_code == 200 and "産後の健康診査" in form.get_data(as_text=True)
    response = new_postpartum(nurse_client, mother)
    assert response.status_code == 302
    with db.transaction(family["city"].id) as s:
        row = s.scalar(select(PostpartumCheck))
        assert (row.mother_id, row.days_after_birth, row.systolic_bp, row.diastolic_bp,
                row.weight_kg, row.uterine_involution, row.lochia, row.breasts,
                row.urine_protein) == (mother.id, 30, 112, 70, 54.5, "good", "normal", "normal", "−")
        assert row.entered_by_name == "職員 hokenshi"
    actions = {(e.action, e.resource) for e in log_entries(db, family["city"], mother.id)}
    assert ("write", "maternal_health.postpartum") in actions
    staff_page = nurse_client.get(response.headers["Location"]).get_data(as_text=True)
    section = staff_page[staff_page.index('id="mother-h"'):]
    assert "産後の健康診査" in section and "54.5" in section and "112" in section
    assert f"/staff/records/postpartum/{row.id}/amend" in section
    own = sign_in_as(mother).get(f"{BASE}/").get_data(as_text=True)
    assert "産後の健康診査" in own and "112/70" in own and "54.5" in own


@pytest.mark.parametrize("values, field, message", [
    ({"days_after_birth": "400"}, "days_after_birth", "0〜365"),
    ({"days_after_birth": "-1"}, "days_after_birth", "0〜365"),
    ({"days_after_birth": ""}, "days_after_birth", "入力してください"),
    ({"days_after_birth": "三十"}, "days_after_birth", "整数"),
    ({"checked_on": ""}, "checked_on", "入力してください"),
    ({"checked_on": "2099-07-10"}, "checked_on", "未来の日付"),
    ({"systolic_bp": "300"}, "systolic_bp", "60〜250"),
    ({"diastolic_bp": "10"}, "diastolic_bp", "30〜150"),
    ({"systolic_bp": "90", "diastolic_bp": "120"}, "diastolic_bp", "最低血圧"),
    ({"weight_kg": "15"}, "weight_kg", "25〜200"),
    ({"weight_kg": "540"}, "weight_kg", "25〜200"),
    ({"weight_kg": "abc"}, "weight_kg", "数値"),
    ({"lochia": "green"}, "lochia", "選択肢"),
])
def test_postpartum_impossible_values_are_refused_beside_the_field(nurse_client, family, db,
                                                                   values, field, message):
    response = new_postpartum(nurse_client, family["mother"], **values)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]*)<', body)
    assert error and message in error.group(1), body[body.find("error"):][:300]
    assert 'value="2024-07-10"' in body or field == "checked_on"   # the rest of the input is kept
    with db.transaction(family["city"].id) as s:
        assert s.scalar(select(PostpartumCheck)) is None


def test_postpartum_amendment_keeps_each_old_value_and_refuses_impossible_ones(
        nurse_client, family, db):
    mother = family["mother"]
    new_postpartum(nurse_client, mother)
    with db.transaction(family["city"].id) as s:
        row_id = s.scalar(select(PostpartumCheck.id))
    url = f"{BASE}/staff/records/postpartum/{row_id}/amend"
    form = nurse_client.get(url).get_data(as_text=True)
    assert 'value="54.5"' in form and 'value="30"' in form
    impossible = nurse_client.post(url, data={**POSTPARTUM, "weight_kg": "545", "reason": "転記誤り"})
    assert impossible.status_code == 422
    assert "25〜200" in re.search(r'id="weight_kg-error">([^<]*)<', impossible.get_data(as_text=True)).group(1)
    done = nurse_client.post(url, data={**POSTPARTUM, "weight_kg": "53.0", "days_after_birth": "31",
                                        "reason": "体重計の読み違い"})
    assert done.status_code == 302
    with db.transaction(family["city"].id) as s:
        row = s.get(PostpartumCheck, row_id)
        assert (row.weight_kg, row.days_after_birth, row.systolic_bp) == (53.0, 31, 112)
        changes = {(a.record_type, a.record_id, a.subject_resident_id, a.field_name, a.old_value,
                    a.new_value, a.reason, a.amended_by_name)
                   for a in s.scalars(select(Amendment))}
    assert changes == {
        ("postpartum", row_id, mother.id, "weight_kg", "54.5", "53", "体重計の読み違い", "職員 hokenshi"),
        ("postpartum", row_id, mother.id, "days_after_birth", "30", "31", "体重計の読み違い", "職員 hokenshi")}
    actions = {(e.action, e.resource) for e in log_entries(db, family["city"], mother.id)}
    assert ("amend", "maternal_health.postpartum") in actions
    page = nurse_client.get(f"{BASE}/staff/residents/{mother.id}").get_data(as_text=True)
    history = page[page.index('id="amendments"'):]
    assert "産後の健康診査" in history and "産後日数" in history and "体重計の読み違い" in history


# ---------------------------------------------------------------- amendments

def test_amendment_keeps_old_value_who_when_and_why(nurse_client, family, db):
    new_checkup(nurse_client, family["child"], weight_kg="6.5")
    with db.transaction(family["city"].id) as s:
        row_id = s.scalar(select(ChildCheckup.id))
    url = f"{BASE}/staff/records/checkup/{row_id}/amend"
    form = nurse_client.get(url).get_data(as_text=True)
    assert 'value="6.5"' in form
    refused = nurse_client.post(url, data={"occasion": "m3_4", "checked_on": "2024-10-01",
                                           "weight_kg": "6.8", "height_cm": "62.0",
                                           "head_cm": "41.0", "reason": ""})
    assert any("理由" in e for e in errors(refused))
    done = nurse_client.post(url, data={"occasion": "m3_4", "checked_on": "2024-10-01",
                                        "weight_kg": "6.8", "height_cm": "62.0",
                                        "head_cm": "41.0", "reason": "転記誤り"})
    assert done.status_code == 302
    with db.transaction(family["city"].id) as s:
        assert s.get(ChildCheckup, row_id).weight_kg == 6.8
        (amendment,) = s.scalars(select(Amendment)).all()
        assert (amendment.field_name, amendment.old_value, amendment.new_value,
                amendment.reason, amendment.amended_by_name) == (
            "weight_kg", "6.5", "6.8", "転記誤り", "職員 hokenshi")
        assert amendment.amended_at is not None
    page = nurse_client.get(f"{BASE}/staff/residents/{family['child'].id}").get_data(as_text=True)
    history = page[page.index('id="amendments"'):]
    assert "転記誤り" in history and "6.5" in history and "6.8" in history


def test_amendment_history_cannot_be_edited(nurse_client, family, db):
    new_checkup(nurse_client, family["child"])
    with db.transaction(family["city"].id) as s:
        row_id = s.scalar(select(ChildCheckup.id))
    nurse_client.post(f"{BASE}/staff/records/checkup/{row_id}/amend", data={
        "occasion": "m3_4", "checked_on": "2024-10-02", "weight_kg": "6.5",
        "height_cm": "62.0", "head_cm": "41.0", "reason": "日付の訂正"})
    with pytest.raises(PermissionError):
        with db.transaction(family["city"].id) as s:
            s.scalar(select(Amendment)).old_value = "tampered"


def test_amendment_without_any_change_is_refused(nurse_client, family, db):
    new_checkup(nurse_client, family["child"])
    with db.transaction(family["city"].id) as s:
        row_id = s.scalar(select(ChildCheckup.id))
    response = nurse_client.post(f"{BASE}/staff/records/checkup/{row_id}/amend", data={
        "occasion": "m3_4", "checked_on": "2024-10-01", "weight_kg": "6.5",
        "height_cm": "62.0", "head_cm": "41.0", "reason": "念のため"})
    assert response.status_code == 422 and "変更された項目がありません" in response.get_data(as_text=True)


# ---------------------------------------------------------------- guardian view

def test_guardian_sees_checkups_charts_and_schedule_and_the_read_is_logged(
        nurse_client, family, sign_in_as, db):
    child = family["child"]
    new_checkup(nurse_client, child, weight_kg="4.9")
    nurse_client.post(f"{BASE}/staff/residents/{child.id}/records/immunisation/new", data={
        "vaccine": "dpt_ipv_hib", "dose_number": "1", "given_on": "2024-08-10",
        "lot": "AB123", "facility": "南国こどもクリニック"})
    page = sign_in_as(family["mother"]).get(f"{BASE}/children/{child.id}").get_data(as_text=True)
    assert page.count("<svg") == 3 and "令和5年（2023年）乳幼児身体発育調査" in page
    assert "AB123" in page and "南国こどもクリニック" in page
    assert "mh-status overdue" in page       # 5種混合 dose 2 is late on 2025-03-01
    assert "範囲外" in page
    assert "style=" not in page and "<script>" not in page   # CSP-clean
    reads = [e for e in log_entries(db, family["city"], child.id)
             if e.actor_type == "resident" and e.resource == "maternal_health.child"]
    assert reads and reads[0].actor_id == family["mother"].id


def test_the_kept_handbook_sections_follow_the_records_the_reader_and_the_day(
        app, nurse_client, family, sign_in_as, db):
    """The sections are kept rendered per worker (child_sections), keyed by every record
    in full, the day and who reads: an amended value, a new record, the nurse's copy with
    its amend links, another day's schedule and the other language are never answered
    with what was kept for another. (One test client: it signs in as each in turn.)"""
    child = family["child"]
    new_checkup(nurse_client, child, weight_kg="6.5")
    mother, page = sign_in_as(family["mother"]), f"{BASE}/children/{child.id}"
    first = mother.get(page).get_data(as_text=True)
    assert "6.5 kg" in first and "/amend" not in first
    nurse_page = sign_in_as(family["nurse"]).get(f"{BASE}/staff/residents/{child.id}")
    assert "/amend" in nurse_page.get_data(as_text=True)
    with db.transaction(family["city"].id) as s:      # a correction, the row changed in place
        s.scalar(select(ChildCheckup)).weight_kg = 6.8
    amended = sign_in_as(family["mother"]).get(page).get_data(as_text=True)
    assert "6.8 kg" in amended and "6.5 kg" not in amended
    added = sign_in_as(family["nurse"]).post(
        f"{BASE}/staff/residents/{child.id}/records/immunisation/new",
        data={"vaccine": "bcg", "dose_number": "1", "given_on": "2024-11-01", "lot": "BCG-77",
              "facility": "香南医院"})
    assert added.status_code == 302
    mother = sign_in_as(family["mother"])
    assert "BCG-77" in mother.get(page).get_data(as_text=True)
    overdue = mother.get(page).get_data(as_text=True).count("mh-status overdue")
    app.config["MATERNAL_HEALTH_TODAY"] = "2024-07-01"          # the schedule of another day
    assert mother.get(page).get_data(as_text=True).count("mh-status overdue") != overdue
    assert mother.get("/lang/en?next=/").status_code == 302
    english = mother.get(page).get_data(as_text=True)
    assert '<h2 id="immunisation-h">Immunisation</h2>' in english and "予防接種" not in english


def test_family_export_pdf_embeds_the_japanese_font(nurse_client, family, sign_in_as, tmp_path):
    new_checkup(nurse_client, family["child"])
    response = sign_in_as(family["mother"]).get(f"{BASE}/children/{family['child'].id}/handbook.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "h.pdf"
    path.write_bytes(response.data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    ipa = [line for line in fonts.splitlines() if "IPAexGothic" in line]
    assert ipa and ipa[0].split()[-5:-2] == ["yes", "yes", "yes"]   # emb sub uni
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "土佐" in text and "乳幼児健康診査" in text and "6.5" in text


def test_family_export_json_holds_the_records(nurse_client, family, sign_in_as):
    child = family["child"]
    nurse_client.post(f"{BASE}/staff/residents/{child.id}/records/immunisation/new", data={
        "vaccine": "bcg", "dose_number": "1", "given_on": "2024-11-20", "lot": "BCG-9"})
    data = json.loads(sign_in_as(family["mother"]).get(f"{BASE}/children/{child.id}/handbook.json").data)
    assert data["child"]["birth_date"] == "2024-06-10"
    assert data["immunisations"][0]["lot"] == "BCG-9"
    bcg = next(s for s in data["schedule"] if s["vaccine"] == "bcg")
    assert bcg["status"] == "done"


# ---------------------------------------------------------------- worklists

def test_worklist_lists_overdue_children_and_exports_csv(nurse_client, family, db):
    page = nurse_client.get(f"{BASE}/staff/worklist").get_data(as_text=True)
    assert "土佐　太郎" in page and "南海　次郎" in page
    response = nurse_client.get(f"{BASE}/staff/worklist.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"   # one charset
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["住民番号", "氏名", "カナ", "生年月日", "保護者氏名", "送付先住所", "項目",
                       "標準の時期の終わり", "定期接種・健診として受けられる最終日", "内容"]
    items = {(r[1], r[6]) for r in rows[1:]}
    assert ("土佐　太郎", "5種混合") in items
    # a letter: to the guardian at her address, the dates in columns of their own
    letter = next(r for r in rows[1:] if (r[1], r[6]) == ("土佐　太郎", "5種混合"))
    assert letter[4] == family["mother"].name and letter[5] == family["mother"].address
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", letter[7]) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", letter[8])
    assert letter[7] < letter[8]
    assert any(e.resource == "maternal_health.worklist"             # her record was read too
               for e in log_entries(db, family["city"], family["mother"].id))
    # 次郎 (born 2023-02-01) is 2y1m on 2025-03-01 and never had his 1歳6か月児健診
    assert ("南海　次郎", "1歳6か月児") not in items   # the target ended at 2 years
    assert any(e.resource == "maternal_health.worklist"
               for e in log_entries(db, family["city"], family["child"].id))


def test_child_who_missed_a_statutory_checkup_is_on_the_worklist_with_the_reason(
        nurse_client, family, make_resident, link_guardian, db):
    """On 2025-03-01: 三郎 (born 2023-05-15, 1y9m) is past 20 months without his 1歳6か月児
    健診, still inside its target (until 2 years); 花 (born 2021-09-15, 3y5m) is past 38
    months without her 3歳児健診; 四郎, as old as 三郎, had his and is not listed for it."""
    from datetime import date, datetime
    from portal.api import Sex
    city, mother = family["city"], family["mother"]
    saburo = make_resident(city, family="土佐", given="三郎", birth=date(2023, 5, 15), sex=Sex.MALE,
                           household=mother.household_id, relationship="子")
    hana = make_resident(city, family="土佐", given="花", birth=date(2021, 9, 15),
                         household=mother.household_id, relationship="子")
    shiro = make_resident(city, family="南海", given="四郎", birth=date(2023, 5, 15), sex=Sex.MALE)
    for child in (saburo, hana, shiro):
        link_guardian(mother, child)
    with db.transaction(city.id) as s:
        s.add(ChildCheckup(child_id=shiro.id, occasion="y1_6", checked_on=date(2024, 11, 20),
                           entered_by_name="t", entered_at=datetime(2024, 11, 20)))
    response = nurse_client.get(f"{BASE}/staff/worklist.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    missed = {(r[1], r[6]): r[9] for r in rows[1:] if r[6] in ("1歳6か月児", "3歳児")}
    assert missed == {
        ("土佐　三郎", "1歳6か月児"): "未受診です（2025年5月14日まで受診できます）。",
        ("土佐　花", "3歳児"): "未受診です（2025年9月14日まで受診できます）。"}
    page = nurse_client.get(f"{BASE}/staff/worklist").get_data(as_text=True)
    table = page[page.index('id="worklist"'):]
    assert "土佐　三郎" in table and "1歳6か月児" in table
    assert "未受診です（2025年5月14日まで受診できます）。" in table
    assert f"/staff/residents/{saburo.id}" in table
    assert any(e.resource == "maternal_health.worklist" for e in log_entries(db, city, saburo.id))
    english = nurse_client.get(f"{BASE}/staff/worklist?lang=en").get_data(as_text=True)
    assert "Not yet attended (can be attended until 2025/5/14)." in english
    assert "未受診です" not in english


def test_vaccinated_child_leaves_the_worklist(nurse_client, family, db):
    child = family["child"]
    with db.transaction(family["city"].id) as s:
        for vaccine, day in [("dpt_ipv_hib", "2024-08-10"), ("dpt_ipv_hib", "2024-09-10"),
                             ("dpt_ipv_hib", "2024-10-10"), ("pcv", "2024-08-10"),
                             ("pcv", "2024-09-10"), ("pcv", "2024-10-10"), ("hepb", "2024-08-10"),
                             ("hepb", "2024-09-10"), ("hepb", "2025-01-10"), ("bcg", "2024-11-10")]:
            from datetime import date, datetime
            s.add(Immunisation(child_id=child.id, vaccine=vaccine, dose_number=1,
                               given_on=date.fromisoformat(day), entered_by_name="t",
                               entered_at=datetime(2025, 1, 1)))
    response = nurse_client.get(f"{BASE}/staff/worklist.csv")
    names = {r[1] for r in csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))}
    assert "土佐　太郎" not in names and "南海　次郎" in names


def test_menu_offers_the_handbook_to_residents_and_the_desk_to_health_staff(client, sign_in_as, family):
    home = sign_in_as(family["mother"]).get("/").get_data(as_text=True)
    assert f'href="{BASE}/"' in home
    staff_menu = sign_in_as(family["nurse"]).get("/staff/").get_data(as_text=True)
    assert f"{BASE}/staff/" in staff_menu
    clerk_menu = sign_in_as(family["clerk"]).get("/staff/").get_data(as_text=True)
    assert f"{BASE}/staff/" not in clerk_menu
