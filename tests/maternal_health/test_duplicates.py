"""A record entered twice (the same child, type and day) is not saved silently: the form
comes back with the records it resembles and a tick to confirm, and only the confirmed
second submission writes."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.api import Sex
from services.maternal_health.models import ChildCheckup, Immunisation, PostpartumCheck

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
