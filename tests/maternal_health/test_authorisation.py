"""Who may open whose handbook: a guardian only their own children, staff only their own
city and only with the health role, other residents nothing."""
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal.api import Sex
from services.maternal_health import models as mh
from services.maternal_health.services import RECORD_TYPES

BASE = "/services/maternal_health"
CHILD_PAGES = ("/children/{id}", "/children/{id}/handbook.pdf", "/children/{id}/handbook.json")


@pytest.fixture
def other_city(db, make_city, make_resident, make_staff, link_guardian):
    city = make_city("392111", "香南市")
    parent = make_resident(city, family="秘匿", given="親", birth=date(1990, 1, 1))
    child = make_resident(city, family="秘匿", given="子", birth=date(2024, 1, 1), sex=Sex.MALE,
                          household=parent.household_id, relationship="子")
    link_guardian(parent, child)
    nurse = make_staff(city, roles=["health_staff"], username="y_nurse")
    records = seed_records(db, city, parent, child)
    return {"city": city, "parent": parent, "child": child, "nurse": nurse, "records": records}


def seed_records(db, city, mother, child) -> dict[str, tuple[int, int]]:
    """One handbook record of every type in city Y, each carrying the marker 秘匿:
    kind → (record id, id of the resident the record is about)."""
    entered = {"entered_by_name": "香南 保健師", "entered_at": datetime(2024, 2, 1)}
    with db.transaction(city.id) as s:
        pregnancy = mh.Pregnancy(mother_id=mother.id, notified_on=date(2023, 5, 1), **entered)
        s.add(pregnancy)
        s.flush()
        rows = {
            "pregnancy": pregnancy,
            "prenatal": mh.PrenatalCheckup(pregnancy_id=pregnancy.id, mother_id=mother.id,
                                           checked_on=date(2023, 8, 1), gestational_weeks=20,
                                           facility="秘匿産科", instructions="秘匿の指示", **entered),
            "birth": mh.BirthRecord(mother_id=mother.id, child_id=child.id,
                                    pregnancy_id=pregnancy.id, born_on=date(2024, 1, 1),
                                    gestational_weeks=39, weight_kg=3.0, place="秘匿産科",
                                    findings="秘匿の所見", **entered),
            "postpartum": mh.PostpartumCheck(mother_id=mother.id, checked_on=date(2024, 2, 1),
                                             days_after_birth=31, weight_kg=54.0, **entered),
            "checkup": mh.ChildCheckup(child_id=child.id, occasion="m1", checked_on=date(2024, 2, 3),
                                       weight_kg=4.2, notes="秘匿の所見", facility="秘匿医院",
                                       **entered),
            "immunisation": mh.Immunisation(child_id=child.id, vaccine="bcg", dose_number=1,
                                            given_on=date(2024, 6, 3), lot="秘匿LOT",
                                            facility="秘匿医院", **entered),
        }
        s.add_all(rows.values())
        s.flush()
        assert set(rows) == set(RECORD_TYPES)
        return {kind: (row.id, getattr(row, RECORD_TYPES[kind].subject)) for kind, row in rows.items()}


def y_counts(db, city) -> dict:
    with db.transaction(city.id) as s:
        return {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                for model in (*(rt.model for rt in RECORD_TYPES.values()), mh.Amendment)}


@pytest.mark.parametrize("path", CHILD_PAGES)
def test_guardian_of_a_cannot_open_b(client, sign_in_as, family, path):
    sign_in_as(family["mother"])
    assert client.get(BASE + path.format(id=family["child"].id)).status_code == 200
    assert client.get(BASE + path.format(id=family["other_child"].id)).status_code == 404


@pytest.mark.parametrize("path", CHILD_PAGES)
def test_resident_who_is_not_a_guardian_sees_nothing(client, sign_in_as, family, path):
    sign_in_as(family["loner"])
    for child in (family["child"], family["other_child"]):
        response = client.get(BASE + path.format(id=child.id))
        assert response.status_code == 404
        assert "太郎" not in response.get_data(as_text=True)
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "保護者として登録されているお子さんはいません" in page and "太郎" not in page


def test_a_guardian_cannot_reach_staff_pages(client, sign_in_as, family):
    sign_in_as(family["mother"])
    for path in ("/staff/", f"/staff/residents/{family['child'].id}", "/staff/worklist",
                 "/staff/worklist.csv", f"/staff/residents/{family['child'].id}/records/checkup/new"):
        assert client.get(BASE + path).status_code == 403


def test_staff_without_the_health_role_is_refused(client, sign_in_as, family):
    sign_in_as(family["clerk"])
    for path in (f"/staff/residents/{family['child'].id}", f"/children/{family['child'].id}",
                 "/staff/worklist.csv"):
        assert client.get(BASE + path).status_code == 403


def test_staff_of_city_x_cannot_open_anyone_in_city_y(app, client, sign_in_as, family, other_city):
    app.config["WTF_CSRF_ENABLED"] = False
    sign_in_as(family["nurse"])
    y_child, y_parent = other_city["child"], other_city["parent"]
    paths = [f"/staff/residents/{y_child.id}", f"/staff/residents/{y_parent.id}",
             f"/children/{y_child.id}", f"/children/{y_child.id}/handbook.pdf",
             f"/children/{y_child.id}/handbook.json",
             f"/staff/residents/{y_child.id}/records/checkup/new"]
    for path in paths:
        response = client.get(BASE + path)
        assert response.status_code == 404, path
        assert "秘匿" not in response.get_data(as_text=True)
    posted = client.post(f"{BASE}/staff/residents/{y_child.id}/records/checkup/new",
                         data={"occasion": "m1", "checked_on": "2024-02-01", "weight_kg": "4"})
    assert posted.status_code == 404
    search = client.get(f"{BASE}/staff/?q=秘匿").get_data(as_text=True)
    assert 'id="results"' not in search and "該当する住民はいません" in search
    worklist = client.get(f"{BASE}/staff/worklist.csv").get_data(as_text=True)
    assert "秘匿" not in worklist


def test_staff_of_city_y_do_see_their_own_child(client, sign_in_as, other_city):
    """The same request succeeds for the right city, so the 404s above mean something."""
    sign_in_as(other_city["nurse"])
    page = client.get(f"{BASE}/staff/residents/{other_city['child'].id}").get_data(as_text=True)
    assert "秘匿" in page


def test_every_maternal_health_route_refuses_city_y_ids(app, client, db, sign_in_as, family,
                                                        other_city):
    """Walk every route of this service as each viewer of city X, filling every id with
    city Y's of the right kind (a record route once per record type, with Y's record of that
    type and the resident it is about): no page answers with Y's data, none serves a file
    about Y, none fails, and nothing of Y changes."""
    app.config["WTF_CSRF_ENABLED"] = False
    before = y_counts(db, other_city["city"])
    y_ids = {"resident_id": other_city["parent"].id, "child_id": other_city["child"].id}
    viewers = [family["mother"], family["loner"], family["nurse"], family["clerk"]]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("maternal_health.")
             and r.endpoint != "maternal_health.static"]
    assert len(rules) >= 9
    # Values that pass every record form, so a POST that reached Y's record would write.
    form = {"weight_kg": "4", "reason": "walk", "occasion": "m1", "checked_on": "2024-02-05",
            "notified_on": "2023-05-02", "gestational_weeks": "20", "days_after_birth": "30",
            "born_on": "2024-01-01", "vaccine": "bcg", "dose_number": "1", "given_on": "2024-06-04"}
    walked = set()
    for rule in rules:
        if "kind" in rule.arguments:
            combos = [{"kind": kind, "record_id": record_id, "resident_id": subject}
                      for kind, (record_id, subject) in other_city["records"].items()]
        elif "resident_id" in rule.arguments:   # the mother's records, then the child's
            combos = [{"resident_id": other_city["parent"].id}, {"resident_id": other_city["child"].id}]
        else:
            combos = [{}]
        for combo in combos:
            values = {a: combo.get(a, y_ids.get(a)) for a in rule.arguments}
            path = rule.build(values, append_unknown=False)[1]
            for viewer in viewers:
                sign_in_as(viewer)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    response = client.open(path, method=method, data=form)
                    assert response.status_code != 500, (method, path)
                    assert "秘匿".encode() not in response.data, (method, path, viewer)
                    if rule.arguments and response.status_code < 300:  # a PDF can hide a name
                        assert response.mimetype in ("text/html", "application/json"), (method, path)
                    walked.add((rule.endpoint, combo.get("kind")))
    assert {("maternal_health.amend", kind) for kind in RECORD_TYPES} <= walked
    assert {("maternal_health.new_record", kind) for kind in RECORD_TYPES} <= walked
    assert y_counts(db, other_city["city"]) == before


def test_city_y_nurse_does_see_the_records_the_walk_asks_for(client, sign_in_as, other_city):
    """Each of Y's records opens for Y's own nurse and shows its marker, so the walk above
    really points at records that exist."""
    sign_in_as(other_city["nurse"])
    for kind, (record_id, _subject) in other_city["records"].items():
        response = client.get(f"{BASE}/staff/records/{kind}/{record_id}/amend")
        assert response.status_code == 200, kind
        assert "秘匿" in response.get_data(as_text=True), kind
