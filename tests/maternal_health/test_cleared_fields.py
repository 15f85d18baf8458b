"""An optional field emptied in an amendment means what it means on entry: gestational days
left empty are 0 days, an unticked transfusion is none, any other emptied field is blank.
The correction is saved with its history, never a server error — for every optional field
of every record type."""
import dataclasses
from datetime import date

import pytest
from sqlalchemy import select

from services.maternal_health.models import Amendment, BirthRecord, PrenatalCheckup
from services.maternal_health.services import RECORD_TYPES, Kind, RecordRefused, check_record

BASE = "/services/maternal_health"

# per record type: whose record, and an entry with every field filled
FILLED = {
    "pregnancy": ("mother", {
        "notified_on": "2023-10-02", "last_menstrual_period": "2023-08-20",
        "expected_delivery_on": "2024-05-26", "mother_height_cm": "158.0",
        "pre_pregnancy_weight_kg": "52.0", "first_visit_on": "2023-09-25",
        "quickening_on": "2024-01-05", "blood_type_abo": "A", "blood_type_rh": "+",
        "syphilis_result": "negative", "syphilis_tested_on": "2023-10-10",
        "hbs_antigen_result": "negative", "hbs_antigen_tested_on": "2023-10-10"}),
    "prenatal": ("mother", {
        "checked_on": "2024-01-10", "gestational_weeks": "20", "gestational_days": "3",
        "fundal_height_cm": "18.0", "abdominal_girth_cm": "80.0", "systolic_bp": "118",
        "diastolic_bp": "72", "oedema": "−", "urine_protein": "−", "urine_glucose": "+",
        "weight_kg": "56.0", "other_tests": "Hb 11.8", "instructions": "安静",
        "facility": "南国産婦人科"}),
    "birth": ("child", {
        "born_on": "2024-06-10", "born_time": "14:05", "gestational_weeks": "39",
        "gestational_days": "3", "presentation": "cephalic", "delivery_method": "vaginal",
        "labour_minutes": "480", "blood_loss_ml": "300", "transfusion": "y",
        "multiplicity": "single", "weight_kg": "3.100", "length_cm": "49.5",
        "chest_cm": "32.0", "head_cm": "33.5", "findings": "特になし", "attendant": "医師",
        "place": "南国病院"}),
    "postpartum": ("mother", {
        "checked_on": "2024-07-10", "days_after_birth": "30", "uterine_involution": "good",
        "lochia": "normal", "breasts": "normal", "systolic_bp": "112", "diastolic_bp": "70",
        "urine_protein": "−", "weight_kg": "54.5"}),
    "checkup": ("child", {
        "occasion": "m3_4", "checked_on": "2024-10-01", "weight_kg": "6.5", "height_cm": "62.0",
        "chest_cm": "40.0", "head_cm": "41.0", "nutrition": "good", "feeding": "breast",
        "findings": "healthy", "decayed_teeth": "1", "notes": "順調",
        "facility": "南国こどもクリニック"}),
    "immunisation": ("child", {
        "vaccine": "rota", "dose_number": "1", "given_on": "2024-08-10", "product": "rotarix",
        "lot": "AB123", "facility": "南国こどもクリニック"}),
}

# what an emptied optional field is stored as, where that is not NULL
EMPTY_MEANS = {"gestational_days": 0, "transfusion": False}


@pytest.fixture
def nurse(app, sign_in_as, family):
    app.config["WTF_CSRF_ENABLED"] = False
    return sign_in_as(family["nurse"])


@pytest.fixture
def entered(nurse, family, db):
    """Enter the filled record of `kind` (a prenatal checkup on a registered pregnancy);
    returns its id."""
    def enter(kind):
        whom, data = FILLED[kind]
        if kind == "prenatal":
            assert post_new(nurse, family["mother"], "pregnancy", {"notified_on": "2023-10-02"}).status_code == 302
        assert post_new(nurse, family[whom], kind, data).status_code == 302
        model = RECORD_TYPES[kind].model
        with db.transaction(family["city"].id) as s:
            return s.scalar(select(model.id).order_by(model.id.desc()))
    return enter


def post_new(client, person, kind, data):
    return client.post(f"{BASE}/staff/residents/{person.id}/records/{kind}/new", data=data)


def amend(client, kind, record_id, data):
    return client.post(f"{BASE}/staff/records/{kind}/{record_id}/amend",
                       data={"reason": "記入欄の誤り", **data})


def optional(kind) -> list[str]:
    return [spec.name for spec in RECORD_TYPES[kind].fields if not spec.required]


def test_every_field_of_the_filled_entries_is_filled():
    for kind, (_whom, data) in FILLED.items():
        assert set(data) == {spec.name for spec in RECORD_TYPES[kind].fields}, kind


@pytest.mark.parametrize("kind", FILLED)
def test_every_optional_field_emptied_in_an_amendment_is_saved_as_empty(
        nurse, family, db, entered, kind):
    record_id = entered(kind)
    kept = {spec.name: FILLED[kind][1][spec.name] for spec in RECORD_TYPES[kind].fields
            if spec.required}
    # an unticked box is not sent at all; every other emptied field is sent empty
    emptied = {spec.name: "" for spec in RECORD_TYPES[kind].fields
               if not spec.required and spec.kind is not Kind.BOOL}
    answer = amend(nurse, kind, record_id, {**kept, **emptied})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    model = RECORD_TYPES[kind].model
    with db.transaction(family["city"].id) as s:
        row = s.get(model, record_id)
        assert {name: getattr(row, name) for name in optional(kind)} == {
            name: EMPTY_MEANS.get(name) for name in optional(kind)}
        changed = set(s.scalars(select(Amendment.field_name).where(Amendment.record_id == record_id)))
    assert changed == set(optional(kind))


@pytest.mark.parametrize("kind, model", [("prenatal", PrenatalCheckup), ("birth", BirthRecord)])
def test_gestational_days_emptied_are_zero_days_in_the_record_and_its_history(
        nurse, family, db, entered, kind, model):
    record_id = entered(kind)
    data = {**FILLED[kind][1], "gestational_days": ""}
    assert amend(nurse, kind, record_id, data).status_code == 302
    with db.transaction(family["city"].id) as s:
        assert s.get(model, record_id).gestational_days == 0
        (change,) = s.scalars(select(Amendment)).all()
        assert (change.field_name, change.old_value, change.new_value) == ("gestational_days", "3", "0")
    form = nurse.get(f"{BASE}/staff/records/{kind}/{record_id}/amend").get_data(as_text=True)
    assert 'name="gestational_days"' in form and 'value="0"' in form
    # emptied again, the days are still 0: nothing changed, said beside the reason
    again = amend(nurse, kind, record_id, data)
    assert again.status_code == 422 and "変更された項目がありません" in again.get_data(as_text=True)


def test_an_empty_field_over_a_column_without_null_or_default_is_refused_beside_it():
    """None such today: were a field made optional over a NOT NULL column without a default
    (postpartum days after birth, here), empty is refused as a required field is."""
    postpartum = RECORD_TYPES["postpartum"]
    loosened = dataclasses.replace(postpartum, fields=tuple(
        dataclasses.replace(spec, required=False) for spec in postpartum.fields))
    with pytest.raises(RecordRefused) as refused:
        check_record(loosened, None, {"checked_on": date(2024, 7, 10), "days_after_birth": None},
                     date(2025, 3, 1))
    assert refused.value.errors == {"days_after_birth": [("入力してください。", {})]}
