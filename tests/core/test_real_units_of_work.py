"""Pages served by an app on a database of its own, with real commits and one connection
per unit of work as in production (the rest of the suite shares one test connection, which
hides waits between connections). A page that logs a read renders while its unit of work
is open; anything the template reads besides (the city's branding) must not wait for it."""
from __future__ import annotations

from datetime import date

import pytest

from portal import create_app
from portal.registry.models import GuardianLink
from tests.conftest import TEST_SECRET, card_settings


@pytest.fixture
def app(committed_database_url, card_pki):
    application = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET, "TESTING": True,
                              "DATABASE_URL": committed_database_url, **card_settings(card_pki)})
    yield application
    application.extensions["madoguchi.db"].engine.dispose()


def test_logged_pages_show_the_city_branding(db, client, sign_in_as, make_city, make_resident,
                                            make_staff):
    city = make_city("392049", "南国市")
    with db.transaction() as s:
        row = s.get(type(city), city.id)
        row.settings = {**row.settings,
                        "branding": {"display_name": "なんこく窓口", "primary_colour": "#0b5394"}}
    mother = make_resident(city, family="土佐", given="花子")
    child = make_resident(city, family="土佐", given="太郎", birth=date(2024, 6, 10),
                          household=mother.household_id, relationship="子")
    with db.transaction(city.id) as s:
        s.add(GuardianLink(guardian_id=mother.id, child_id=child.id))
    pages = {mother: ["/me/", "/me/access-log/", f"/services/maternal_health/children/{child.id}",
                      f"/services/medication/people/{mother.id}/"],
             make_staff(city, roles=["registry_clerk", "health_staff"], username="clerk"):
                 [f"/registry/residents/{mother.id}",
                  f"/services/maternal_health/staff/residents/{child.id}"]}
    for person, paths in pages.items():
        sign_in_as(person)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert "なんこく窓口" in response.get_data(as_text=True), path
