"""Deleting a departing city neither disables the access log's trigger nor holds the
other cities' pages: a page of 南国市 writes its access-log row while 香美市's deletion is
open and uncommitted. And the log stays append-only for everything else."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from portal import create_app
from portal.audit.models import AccessLogEntry
from portal.db import across_municipalities
from portal.jointcloud import leaving
from portal.registry.models import Household, Resident
from portal.sessions.services import open_session
from portal.staff.services import create_staff
from portal.tenancy.services import add_municipality
from tests.conftest import TEST_SECRET, card_settings, https_client


def without_waiting(url: str) -> str:
    """PostgreSQL: a statement waiting for a lock fails after 3 s instead of hanging the
    test (the old ALTER TABLE … DISABLE TRIGGER held every access-log writer)."""
    if not url.startswith("postgresql"):
        return url
    return url + "%20-clock_timeout%3D3000" if "options=" in url else url + "?options=-clock_timeout%3D3000"


def add_person(s, city, n: int) -> Resident:
    home = Household(municipality_id=city.id, number=f"H{n}", head_name="物部　花子", address=f"{city.name}1番地")
    s.add(home)
    s.flush()
    person = Resident(municipality_id=city.id, number=f"R{n}", household_id=home.id, family_name="物部",
                      given_name="花子", family_name_kana="モノベ", given_name_kana="ハナコ",
                      birth_date=date(1990, 4, 1), sex="2", address=home.address, relationship_to_head="世帯主")
    s.add(person)
    s.flush()
    return person


@pytest.fixture
def two_cities(committed_database_url, card_pki):
    app = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET, "TESTING": True, "OIDC_ISSUER": "https://localhost",
                      "DATABASE_URL": without_waiting(committed_database_url), **card_settings(card_pki)})
    database = app.extensions["madoguchi.db"]
    with database.transaction() as s:
        stay = add_municipality(s, "392049", "南国市", settings={"services": []})
        go = add_municipality(s, "392120", "香美市", settings={"services": []})
        stay_id, go_id = stay.id, go.id
    with database.transaction(go_id) as s:
        add_person(s, go, 2)
    with database.transaction(stay_id) as s:
        neighbour = add_person(s, stay, 1).id
        clerk = create_staff(s, stay_id, "clerk", "職員", "correct horse battery staple", ["registry_clerk"])
        token = open_session(s, "staff", clerk.id, stay_id, False)
        viewer = {"kind": "staff", "id": clerk.id, "mid": stay_id, "name": "職員", "roles": ["registry_clerk"]}
    client = https_client(app)
    with client.session_transaction() as sess:
        sess["sid"], sess["kiosk"], sess["viewer"] = token, False, viewer
    yield app, database, client, neighbour, stay_id
    database.engine.dispose()


def log_rows(database, city_id: int) -> int:
    with database.transaction() as s:
        return s.scalar(across_municipalities(select(func.count()).select_from(AccessLogEntry)
                                              .where(AccessLogEntry.municipality_id == city_id)))


def test_pages_of_another_city_are_written_while_a_city_is_deleted(two_cities, tmp_path):
    app, database, client, neighbour, stay_id = two_cities
    with database.transaction() as s:
        leaving.export_city(s, "392120", tmp_path / "out")
    manifest = leaving.read_manifest(tmp_path / "out")
    before = log_rows(database, stay_id)
    with database.transaction() as deleting:           # open, not committed, during the page
        deleted = leaving.delete_city(deleting, "392120", manifest)
        if database.engine.dialect.name == "postgresql":
            page = client.get(f"/registry/residents/{neighbour}")
            assert page.status_code == 200, page.get_data(as_text=True)[:300]
            assert log_rows(database, stay_id) == before + 1   # committed beside the deletion
        else:
            # SQLite has one writer at a time, so the page waits for the commit by design;
            # what must hold is that the deletion dropped no trigger to do its work.
            assert sorted(deleting.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'access_log'"
            ))) == ["access_log_no_delete", "access_log_no_update"]
    assert deleted["access_log"] == 1 and deleted["resident"] == 1
    assert client.get(f"/registry/residents/{neighbour}").status_code == 200
    with database.transaction() as s:
        assert s.scalar(text("SELECT count(*) FROM municipality WHERE code = '392120'")) == 0


def test_an_ordinary_delete_of_the_access_log_still_fails(two_cities):
    app, database, client, neighbour, stay_id = two_cities
    client.get(f"/registry/residents/{neighbour}")
    for statement in ("DELETE FROM access_log", "UPDATE access_log SET purpose = 'x'"):
        with pytest.raises(Exception, match="append-only"):
            with database.transaction() as s:
                s.execute(text(statement))
    assert log_rows(database, stay_id) == 1


def test_naming_one_city_lets_no_other_citys_rows_go(two_cities):
    """The permission covers the named city's rows only, and ends with its block."""
    app, database, client, neighbour, stay_id = two_cities
    client.get(f"/registry/residents/{neighbour}")
    with pytest.raises(Exception, match="append-only"):
        with database.transaction() as s:
            with leaving._access_log_deletion_allowed(s, stay_id + 1000):
                s.execute(text("DELETE FROM access_log"))
    with pytest.raises(Exception, match="append-only"):
        with database.transaction() as s:
            with leaving._access_log_deletion_allowed(s, stay_id):
                pass
            s.execute(text("DELETE FROM access_log"))
    assert log_rows(database, stay_id) == 1
