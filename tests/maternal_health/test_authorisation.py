"""Who may open whose handbook: a guardian only their own children, staff only their own
city and only with the health role, other residents nothing."""
from datetime import date

import pytest

from portal.api import Sex

BASE = "/services/maternal_health"
CHILD_PAGES = ("/children/{id}", "/children/{id}/handbook.pdf", "/children/{id}/handbook.json")


@pytest.fixture
def other_city(make_city, make_resident, make_staff, link_guardian):
    city = make_city("392111", "香南市")
    parent = make_resident(city, family="秘匿", given="親", birth=date(1990, 1, 1))
    child = make_resident(city, family="秘匿", given="子", birth=date(2024, 1, 1), sex=Sex.MALE,
                          household=parent.household_id, relationship="子")
    link_guardian(parent, child)
    nurse = make_staff(city, roles=["health_staff"], username="y_nurse")
    return {"city": city, "parent": parent, "child": child, "nurse": nurse}


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


def test_every_maternal_health_route_refuses_city_y_ids(app, client, sign_in_as, family, other_city):
    """Walk every route of this service as each viewer of city X, filling every id with
    city Y's: no page answers with Y's data, none fails."""
    app.config["WTF_CSRF_ENABLED"] = False
    y_ids = {"resident_id": other_city["parent"].id, "child_id": other_city["child"].id,
             "record_id": other_city["child"].id}
    viewers = [family["mother"], family["loner"], family["nurse"], family["clerk"]]
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("maternal_health.")
             and r.endpoint != "maternal_health.static"]
    assert len(rules) >= 9
    for rule in rules:
        values = {a: y_ids.get(a, "checkup") for a in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for viewer in viewers:
            sign_in_as(viewer)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, data={"weight_kg": "4"})
                assert response.status_code != 500, (method, path)
                assert "秘匿".encode() not in response.data, (method, path, viewer)
