"""`madoguchi demo` leaves something on every page: the card's resident (a mother of three,
pregnant) sees her handbook, her children's pages in every immunisation state, her
medication notebook with a duplicate alert, her certificates and her activity log; the
nurse has a worklist; the operator has cost lines, a fixed basis and a report.

The demo is built once, in a database of its own (SQLite or PostgreSQL), through the same
function the command calls; tests/core/test_commands.py runs the command itself."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import create_app, demo, demo_family
from portal.migrate import upgrade
from portal.plugins import load_plugins
from portal.registry.models import Resident
from portal.staff.models import StaffAccount
from portal.tenancy.models import Municipality
from tests.conftest import TEST_SECRET, card_settings, database_of_its_own


@pytest.fixture(scope="module")
def demo_app(database_url, card_pki, tmp_path_factory):
    """The demo, built once for the module (the build takes seconds) in a database of its
    own that every test here reads; what the tests write (sign-ins, access-log rows) adds
    to it and changes nothing they look for."""
    with database_of_its_own(database_url, tmp_path_factory.mktemp("demo") / "demo.sqlite") as url:
        upgrade(url, load_plugins())
        application = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET, "TESTING": True,
                                  "DATABASE_URL": url, "OIDC_ISSUER": "https://localhost",
                                  **card_settings(card_pki)})
        database = application.extensions["madoguchi.db"]
        assert demo.build_demo(database, residents=12, seed=7)
        yield application
        database.engine.dispose()


@pytest.fixture
def app(demo_app):
    return demo_app


@pytest.fixture(scope="module")
def built(demo_app):
    db = demo_app.extensions["madoguchi.db"]
    with db.transaction() as s:
        city = s.scalar(select(Municipality).where(Municipality.code == "392049"))
    with db.transaction(city.id) as s:
        mother, father = demo_family.card_holders(s)
        children = sorted(demo_family.family(s).values(), key=lambda r: r.birth_date)[2:]
        staff = {a.username: a for a in s.scalars(select(StaffAccount))}
    return {"city": city, "mother": mother, "father": father, "children": children,
            "staff": staff}


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def test_the_card_resident_is_a_guardian_of_three(built, sign_in_as, client):
    sign_in_as(built["mother"])
    me = page(client, "/me/")
    assert "坂本" in me and all(c.given_name in me for c in built["children"])
    assert [c.given_name for c in built["children"]] == ["陽菜", "湊", "結菜"]


def test_the_handbook_shows_a_pregnancy_and_every_immunisation_state(built, sign_in_as, client):
    sign_in_as(built["mother"])
    handbook = page(client, "/services/maternal_health/")
    assert "妊婦健康診査" in handbook and "出産予定日" in handbook
    states, charts = set(), 0
    for child in built["children"]:
        body = page(client, f"/services/maternal_health/children/{child.id}")
        for label in ("接種済み", "接種時期です", "予定", "接種期間を過ぎています", "定期接種の対象外"):
            if label in body:
                states.add(label)
        charts += body.count("<svg")
        assert "乳幼児健康診査" in body or "健診" in body
    assert states == {"接種済み", "接種時期です", "予定", "接種期間を過ぎています", "定期接種の対象外"}
    assert charts >= 9


def test_one_growth_point_is_flagged(built, sign_in_as, client):
    sign_in_as(built["mother"])
    youngest = built["children"][-1]
    body = page(client, f"/services/maternal_health/children/{youngest.id}")
    assert "3未満" in body or "below" in body.lower()


def test_the_notebook_has_two_pharmacies_and_a_duplicate_alert(built, sign_in_as, client):
    sign_in_as(built["mother"])
    mine = f"/services/medication/people/{built['mother'].id}"
    notebook = page(client, mine + "/")
    assert "はりまや薬局" in notebook and "ごめん駅前薬局" in notebook
    alerts = page(client, mine + "/alerts")
    assert "カロナール錠200" in alerts and "アセトアミノフェン錠200mg「JG」" in alerts
    assert "成分" in alerts
    # famotidine as レセ電 at one pharmacy, as YJ at the other: found through the master
    [famotidine] = [row for row in alerts.split("<tr")[1:] if "ガスター散２％" in row]
    assert "同一成分の重複" in famotidine and "薬品マスタで薬価基準コードに置き換えて判定" in famotidine


def test_issued_certificates_are_listed_and_verify(built, sign_in_as, client):
    sign_in_as(built["mother"])
    body = page(client, "/services/convenience_issuance/")
    codes = re.findall(r"code=([0-9A-Za-z-]+)\"", body)
    assert len(codes) == 2
    verified = page(client, f"/services/convenience_issuance/verify?code={codes[0]}")
    assert "坂" in verified and "失効" not in verified


def test_the_activity_log_shows_the_nurse_writing_a_childs_record(built, sign_in_as, client):
    sign_in_as(built["mother"])
    page(client, "/services/maternal_health/")
    log = page(client, "/me/access-log/")
    assert "保健 さくら" in log


def test_the_second_card_holder_is_the_other_guardian(built, sign_in_as, client):
    sign_in_as(built["father"])
    handbook = page(client, "/services/maternal_health/")
    assert all(c.given_name in handbook for c in built["children"])


def test_the_nurse_has_children_to_remind(built, sign_in_as, client):
    sign_in_as(built["staff"]["nurse"])
    worklist = page(client, "/services/maternal_health/staff/worklist")
    assert "坂本" in worklist and "3歳児" in worklist


def test_the_operator_has_lines_a_basis_and_a_report(built, sign_in_as, client):
    sign_in_as(built["staff"]["operator"])
    report = page(client, "/operator/apportionment")
    assert "窓口ポータル運用・保守" in report and "2012" in report
    assert client.get("/operator/apportionment.pdf").status_code == 200
    usage = page(client, "/operator/usage")
    assert "南国市" in usage and "香美市" in usage


def test_a_second_build_changes_nothing(built, db):
    assert demo.build_demo(db, residents=12, seed=7) is False
    with db.transaction(built["city"].id) as s:
        assert len(s.scalars(select(Resident).where(Resident.family_name == "坂本",
                                                    Resident.number.like("D%"))).all()) == 5
