"""Fixtures of the maternal_health tests: a city with a family (guardian, two children of
different guardians), health staff, and a fixed 'today' so schedules are reproducible."""
from datetime import date

import pytest

from tests.browser.conftest import live_server, browser, page  # noqa: F401
from portal.api import GuardianLink, Sex

TODAY = "2025-03-01"


@pytest.fixture
def fixed_today(app):
    app.config["MATERNAL_HEALTH_TODAY"] = TODAY
    return date.fromisoformat(TODAY)


@pytest.fixture
def link_guardian(db):
    def link(guardian, child):
        with db.transaction(child.municipality_id) as s:
            s.add(GuardianLink(guardian_id=guardian.id, child_id=child.id))
    return link


@pytest.fixture
def family(make_city, make_resident, make_staff, link_guardian, fixed_today):
    """南国市: mother 土佐花子 with baby 太郎 (born 2024-06-10); another mother with 次郎;
    a resident without children; health staff and a registry clerk."""
    city = make_city("392049", "南国市")
    mother = make_resident(city, family="土佐", given="花子", birth=date(1994, 5, 5))
    child = make_resident(city, family="土佐", given="太郎", birth=date(2024, 6, 10), sex=Sex.MALE,
                          household=mother.household_id, relationship="子",
                          family_kana="トサ", given_kana="タロウ")
    other_mother = make_resident(city, family="南海", given="道子", birth=date(1990, 1, 1))
    other_child = make_resident(city, family="南海", given="次郎", birth=date(2023, 2, 1),
                                sex=Sex.MALE, household=other_mother.household_id, relationship="子")
    link_guardian(mother, child)
    link_guardian(other_mother, other_child)
    loner = make_resident(city, family="独身", given="一郎", birth=date(1980, 1, 1), sex=Sex.MALE)
    nurse = make_staff(city, roles=["health_staff"], username="hokenshi")
    clerk = make_staff(city, roles=["registry_clerk"], username="clerk")
    return {"city": city, "mother": mother, "child": child, "other_mother": other_mother,
            "other_child": other_child, "loner": loner, "nurse": nurse, "clerk": clerk}
