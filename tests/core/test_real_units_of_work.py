"""Pages served by an app on a database of its own, with real commits and one connection
per unit of work as in production (the rest of the suite shares one test connection, which
hides waits between connections). A page that logs a read renders while its unit of work
is open; anything the template reads besides (the city's branding) must not wait for it."""
from __future__ import annotations

import re
from datetime import date

import pytest

from portal import create_app
from portal.migrate import upgrade
from portal.registry.models import GuardianLink, Resident
from portal.tenancy.services import add_municipality
from tests.conftest import TEST_SECRET, card_settings
from tests.core.test_city_isolation import paths, two_cities  # noqa: F401  (fixture)


@pytest.fixture
def app(committed_database_url, card_pki):
    application = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET, "TESTING": True,
                              "OIDC_ISSUER": "https://portal.test",
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


def test_every_page_answers_with_one_connection_per_unit_of_work(app, client, sign_in_as,
                                                                  two_cities, make_resident):
    """Every GET route, as city Y's staff holding every role and as a resident: no page
    fails (500) or gives up waiting for a lock another unit of work of the same request
    holds (503 after SQLite's busy timeout)."""
    y = two_cities
    failed = []
    for viewer in (y["y_staff"], make_resident(y["y"], family="南", given="一")):
        sign_in_as(viewer)
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or "GET" not in rule.methods:
                continue
            for path in paths(rule, y):
                status = client.get(path, query_string={"q": "秘匿"}).status_code
                if status >= 500:
                    failed.append(f"{status} {path}")
    assert failed == []


@pytest.fixture
def dev_app(tmp_path):
    application = create_app({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    upgrade(application.config["DATABASE_URL"], application.extensions["madoguchi.services"])
    yield application
    application.extensions["madoguchi.db"].engine.dispose()


def test_demo_sign_in_reaches_the_home_page(dev_app):
    """The development sign-in reads the resident, then opens the session in a unit of work
    of its own: it must not wait for itself (it once answered 503 after 30 s)."""
    database = dev_app.extensions["madoguchi.db"]
    with database.transaction() as s:
        city = add_municipality(s, "392049", "南国市")
    with database.transaction(city.id) as s:
        s.add(Resident(number="R1", family_name="土佐", given_name="花子", family_name_kana="トサ",
                       given_name_kana="ハナコ", birth_date=date(1990, 4, 1), sex="2",
                       address="南国市1", relationship_to_head="世帯主"))
    client = dev_app.test_client()
    form = client.get("/dev/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    person = re.search(r'name="resident_id"[^>]*value="([^"]+)"', form).group(1)
    signed_in = client.post("/dev/sign-in", data={"csrf_token": token, "resident_id": person})
    assert signed_in.status_code == 302
    assert "土佐" in client.get("/me/").get_data(as_text=True)
