"""A record entered twice (the same child, type and day) is not saved silently: the form
comes back with the records it resembles and a tick to confirm, and only the confirmed
second submission writes. An amendment moving a record onto the day (occasion, vaccine)
of another is asked about the same way."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.api import Sex
from services.maternal_health.models import (Amendment, BirthRecord, ChildCheckup,
                                             Immunisation, PostpartumCheck, Pregnancy,
                                             PrenatalCheckup)

BASE = "/services/maternal_health"
CHECKUP_3Y = {"occasion": "y3", "checked_on": "2025-02-20", "weight_kg": "14.0",
              "height_cm": "95.0"}


@pytest.fixture
def nurse(app, sign_in_as, family):
    app.config["WTF_CSRF_ENABLED"] = False
    return sign_in_as(family["nurse"])


@pytest.fixture
def three_year_old(family, make_resident):
    return make_resident(family["city"], family="土佐", given="三郎", birth=date(2021, 12, 1),
                         sex=Sex.MALE, relationship="子")


def post(client, person, kind, data):
    return client.post(f"{BASE}/staff/residents/{person.id}/records/{kind}/new", data=data)


def count(db, city, model) -> int:
    with db.transaction(city.id) as s:
        return s.scalar(select(func.count()).select_from(model))


def hidden_ids(response) -> str:
    found = re.search(r'name="duplicate_of"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="duplicate_of"',
                      response.get_data(as_text=True))
    assert found, "the confirmation step carries the ids of the records it showed"
    return found[1] or found[2]


def test_a_second_identical_checkup_is_asked_about_and_not_saved(nurse, family, three_year_old, db):
    assert post(nurse, three_year_old, "checkup", CHECKUP_3Y).status_code == 302
    again = post(nurse, three_year_old, "checkup", CHECKUP_3Y)
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "同じ日の同じ乳幼児健康診査がすでに1件あります" in page
    assert "3歳児" in page and 'name="confirm_duplicate"' in page
    assert count(db, family["city"], ChildCheckup) == 1


def test_the_confirmed_second_entry_is_saved(nurse, family, three_year_old, db):
    post(nurse, three_year_old, "checkup", CHECKUP_3Y)
    ids = hidden_ids(post(nurse, three_year_old, "checkup", CHECKUP_3Y))
    confirmed = post(nurse, three_year_old, "checkup",
                     {**CHECKUP_3Y, "duplicate_of": ids, "confirm_duplicate": "y"})
    assert confirmed.status_code == 302
    assert count(db, family["city"], ChildCheckup) == 2


@pytest.mark.parametrize("forged", [{"confirm_duplicate": "y"},
                                    {"confirm_duplicate": "y", "duplicate_of": "999999"},
                                    {"duplicate_of": "1"}])
def test_a_tick_without_the_shown_records_or_ids_without_a_tick_confirm_nothing(
        nurse, family, three_year_old, db, forged):
    post(nurse, three_year_old, "checkup", CHECKUP_3Y)
    assert post(nurse, three_year_old, "checkup", {**CHECKUP_3Y, **forged}).status_code == 409
    assert count(db, family["city"], ChildCheckup) == 1


def test_another_occasion_on_the_same_day_is_no_duplicate(nurse, family, three_year_old, db):
    post(nurse, three_year_old, "checkup", CHECKUP_3Y)
    assert post(nurse, three_year_old, "checkup", {**CHECKUP_3Y, "occasion": "y4"}).status_code == 302
    assert count(db, family["city"], ChildCheckup) == 2


def test_the_same_vaccine_twice_on_one_day_is_asked_about(nurse, family, db):
    dose = {"vaccine": "hib", "dose_number": "1", "given_on": "2024-08-10"}
    assert post(nurse, family["child"], "immunisation", dose).status_code == 302
    assert post(nurse, family["child"], "immunisation", {**dose, "dose_number": "2"}).status_code == 409
    other = {**dose, "vaccine": "pcv"}
    assert post(nurse, family["child"], "immunisation", other).status_code == 302
    assert count(db, family["city"], Immunisation) == 2


def test_a_mothers_check_on_the_same_day_is_asked_about(nurse, family, db):
    check = {"checked_on": "2024-07-10", "days_after_birth": "30"}
    assert post(nurse, family["mother"], "postpartum", check).status_code == 302
    assert post(nurse, family["mother"], "postpartum", check).status_code == 409
    assert count(db, family["city"], PostpartumCheck) == 1


def test_the_confirmation_needs_the_csrf_token(app, sign_in_as, family, three_year_old, db):
    app.config["WTF_CSRF_ENABLED"] = False
    client = sign_in_as(family["nurse"])
    post(client, three_year_old, "checkup", CHECKUP_3Y)
    ids = hidden_ids(post(client, three_year_old, "checkup", CHECKUP_3Y))
    app.config["WTF_CSRF_ENABLED"] = True
    answer = post(client, three_year_old, "checkup",
                  {**CHECKUP_3Y, "duplicate_of": ids, "confirm_duplicate": "y"})
    assert answer.status_code != 302
    assert count(db, family["city"], ChildCheckup) == 1


def test_the_question_reads_in_english(nurse, family, three_year_old):
    post(nurse, three_year_old, "checkup", CHECKUP_3Y)
    assert nurse.get("/lang/en?next=/").status_code == 302
    page = post(nurse, three_year_old, "checkup", CHECKUP_3Y).get_data(as_text=True)
    assert "There is already 1 record of this kind (Infant and child checkup) for the same day" in page
    assert "I have checked the records already kept for this day" in page


# ---------------------------------------------------------------- amendments

# per record type: whose record, its model, two entries on different days, and the field
# that holds the day (the second is amended onto the first's day); the entries hold what
# the amendment form loads (gestational days 0, not blank)
AMENDED = {
    "pregnancy": ("mother", Pregnancy, {"notified_on": "2023-10-02"},
                  {"notified_on": "2023-10-20"}, "notified_on"),
    "prenatal": ("mother", PrenatalCheckup,
                 {"checked_on": "2024-01-10", "gestational_weeks": "20", "gestational_days": "0"},
                 {"checked_on": "2024-02-07", "gestational_weeks": "24", "gestational_days": "0"},
                 "checked_on"),
    "birth": ("child", BirthRecord,
              {"born_on": "2024-06-10", "gestational_weeks": "39", "gestational_days": "0"},
              {"born_on": "2024-06-11", "gestational_weeks": "39", "gestational_days": "0"},
              "born_on"),
    "postpartum": ("mother", PostpartumCheck, {"checked_on": "2024-07-10", "days_after_birth": "30"},
                   {"checked_on": "2024-08-09", "days_after_birth": "60"}, "checked_on"),
    "checkup": ("child", ChildCheckup, {"occasion": "m1", "checked_on": "2024-07-10"},
                {"occasion": "m1", "checked_on": "2024-07-12"}, "checked_on"),
    "immunisation": ("child", Immunisation, {"vaccine": "hib", "dose_number": "1",
                                             "given_on": "2024-08-10"},
                     {"vaccine": "hib", "dose_number": "2", "given_on": "2024-09-10"}, "given_on"),
}


def amend(client, kind, record_id, data):
    return client.post(f"{BASE}/staff/records/{kind}/{record_id}/amend",
                       data={"reason": "日付の転記誤り", **data})


def ids_of(db, city, model) -> list[int]:
    with db.transaction(city.id) as s:
        return list(s.scalars(select(model.id).order_by(model.id)))


def stored(db, city, model, record_id, name):
    with db.transaction(city.id) as s:
        return str(getattr(s.get(model, record_id), name))


def amendments(db, city) -> int:
    return count(db, city, Amendment)


@pytest.fixture
def two_records(nurse, family, db):
    """Two records of `kind` about one person on different days; returns their ids."""
    def enter(kind):
        whom, model, first, second, _day = AMENDED[kind]
        if kind == "prenatal":
            assert post(nurse, family["mother"], "pregnancy", {"notified_on": "2023-10-02"}).status_code == 302
        for data in (first, second):
            assert post(nurse, family[whom], kind, data).status_code == 302
        return ids_of(db, family["city"], model)
    return enter


@pytest.mark.parametrize("kind", AMENDED)
def test_an_amendment_onto_the_day_of_another_record_is_asked_about_and_not_saved(
        nurse, family, db, two_records, kind):
    _whom, model, first, second, day = AMENDED[kind]
    first_id, second_id = two_records(kind)
    answer = amend(nurse, kind, second_id, {**second, day: first[day]})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "同じ日の同じ" in page and 'name="confirm_duplicate"' in page
    assert hidden_ids(answer) == str(first_id)
    assert stored(db, family["city"], model, second_id, day) == second[day]
    assert amendments(db, family["city"]) == 0


@pytest.mark.parametrize("kind", AMENDED)
def test_the_confirmed_amendment_onto_another_records_day_is_saved(
        nurse, family, db, two_records, kind):
    _whom, model, first, second, day = AMENDED[kind]
    _first_id, second_id = two_records(kind)
    moved = {**second, day: first[day]}
    ids = hidden_ids(amend(nurse, kind, second_id, moved))
    confirmed = amend(nurse, kind, second_id, {**moved, "duplicate_of": ids, "confirm_duplicate": "y"})
    assert confirmed.status_code == 302
    assert stored(db, family["city"], model, second_id, day) == first[day]
    assert amendments(db, family["city"]) == 1


@pytest.mark.parametrize("forged", [{"confirm_duplicate": "y"},
                                    {"confirm_duplicate": "y", "duplicate_of": "999999"}])
def test_an_amendment_confirming_records_it_was_not_shown_is_asked_about(
        nurse, family, db, two_records, forged):
    _first_id, second_id = two_records("checkup")
    moved = {"occasion": "m1", "checked_on": "2024-07-10", **forged}
    assert amend(nurse, "checkup", second_id, moved).status_code == 409
    assert stored(db, family["city"], ChildCheckup, second_id, "checked_on") == "2024-07-12"


def test_a_changed_occasion_meeting_another_checkup_of_the_day_is_asked_about(nurse, family, db):
    child = family["child"]
    for occasion in ("m1", "m3_4"):
        assert post(nurse, child, "checkup", {"occasion": occasion, "checked_on": "2024-07-10"}).status_code == 302
    first_id, second_id = ids_of(db, family["city"], ChildCheckup)
    answer = amend(nurse, "checkup", second_id, {"occasion": "m1", "checked_on": "2024-07-10"})
    assert answer.status_code == 409 and hidden_ids(answer) == str(first_id)
    assert stored(db, family["city"], ChildCheckup, second_id, "occasion") == "m3_4"


def test_a_changed_vaccine_meeting_another_dose_of_the_day_is_asked_about(nurse, family, db):
    child = family["child"]
    for vaccine in ("hib", "pcv"):
        dose = {"vaccine": vaccine, "dose_number": "1", "given_on": "2024-08-10"}
        assert post(nurse, child, "immunisation", dose).status_code == 302
    first_id, second_id = ids_of(db, family["city"], Immunisation)
    answer = amend(nurse, "immunisation", second_id,
                   {"vaccine": "hib", "dose_number": "1", "given_on": "2024-08-10"})
    assert answer.status_code == 409 and hidden_ids(answer) == str(first_id)
    assert stored(db, family["city"], Immunisation, second_id, "vaccine") == "pcv"


def test_a_record_amended_where_it_stands_is_not_its_own_duplicate(nurse, family, three_year_old, db):
    assert post(nurse, three_year_old, "checkup", CHECKUP_3Y).status_code == 302
    (row_id,) = ids_of(db, family["city"], ChildCheckup)
    assert amend(nurse, "checkup", row_id, {**CHECKUP_3Y, "weight_kg": "14.2"}).status_code == 302
    assert amend(nurse, "checkup", row_id, {**CHECKUP_3Y, "weight_kg": "14.2",
                                            "checked_on": "2025-02-21"}).status_code == 302
    assert stored(db, family["city"], ChildCheckup, row_id, "checked_on") == "2025-02-21"


def test_correcting_a_confirmed_second_entry_in_place_is_not_asked_again(
        nurse, family, three_year_old, db):
    post(nurse, three_year_old, "checkup", CHECKUP_3Y)
    ids = hidden_ids(post(nurse, three_year_old, "checkup", CHECKUP_3Y))
    post(nurse, three_year_old, "checkup", {**CHECKUP_3Y, "duplicate_of": ids, "confirm_duplicate": "y"})
    _first_id, second_id = ids_of(db, family["city"], ChildCheckup)
    assert amend(nurse, "checkup", second_id, {**CHECKUP_3Y, "weight_kg": "14.2"}).status_code == 302
    assert stored(db, family["city"], ChildCheckup, second_id, "weight_kg") == "14.2"


def test_the_amendment_question_reads_in_english(nurse, family, db, two_records):
    _first_id, second_id = two_records("checkup")
    assert nurse.get("/lang/en?next=/").status_code == 302
    page = amend(nurse, "checkup", second_id,
                 {"occasion": "m1", "checked_on": "2024-07-10"}).get_data(as_text=True)
    assert "There is already 1 record of this kind (Infant and child checkup) for the same day" in page
    assert "I have checked the records already kept for this day and still want to make this correction" in page
