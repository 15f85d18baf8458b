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
from services.maternal_health.models import Amendment, ChildCheckup, Immunisation

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
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["住民番号", "氏名", "カナ", "生年月日"]
    items = {(r[1], r[5]) for r in rows[1:]}
    assert ("土佐　太郎", "5種混合") in items
    # 次郎 (born 2023-02-01) is 2y1m on 2025-03-01 and never had his 1歳6か月児健診
    assert ("南海　次郎", "1歳6か月児") not in items   # the target ended at 2 years
    assert any(e.resource == "maternal_health.worklist"
               for e in log_entries(db, family["city"], family["child"].id))


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
