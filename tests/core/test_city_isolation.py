"""Nobody of city X can read anything of city Y, through any route.

The walk enumerates the app's whole URL map, so a route added later is walked too. Every
path parameter is filled with identifiers that belong to city Y; every viewer of city X
(a resident and each staff role) requests every route with every method it accepts. City
Y's people carry names, kana and addresses that appear nowhere else, so any leak shows."""
from __future__ import annotations

from datetime import date

import pytest

from portal.staff.models import Role

SECRET_MARKERS = ("秘匿", "ヒトク", "隠岐谷", "機密町")


@pytest.fixture
def two_cities(make_city, make_resident, make_staff):
    x, y = make_city("392049", "南国市"), make_city("392111", "香南市")
    y_parent = make_resident(y, family="秘匿", given="隠岐谷", family_kana="ヒトク",
                             given_kana="オキタニ", address="香南市機密町1番地")
    y_child = make_resident(y, family="秘匿", given="太郎", family_kana="ヒトク",
                            given_kana="タロウ", birth=date(2024, 5, 1), address="香南市機密町1番地",
                            household=y_parent.household_id, relationship="子")
    y_staff = make_staff(y, roles=[r.value for r in Role], username="y_admin")
    viewers = [make_resident(x, family="南国", given="住民")]
    viewers += [make_staff(x, roles=[role.value], username=f"x_{role.value}") for role in Role]
    return {"x_viewers": viewers, "y": y, "y_ids": {
        "resident_id": y_parent.id, "household_id": y_parent.household_id,
        "child_id": y_child.id, "staff_id": y_staff.id, "code": y.code}}


def fill(rule, y_ids) -> str | None:
    values = {}
    for arg in rule.arguments:
        if arg in y_ids:
            values[arg] = y_ids[arg]
        elif arg.endswith("_id") or arg == "id":
            values[arg] = y_ids["resident_id"]
        else:
            values[arg] = y_ids["code"]
    try:
        return rule.build(values, append_unknown=False)[1]
    except Exception:
        return None


def test_every_route_keeps_city_y_away_from_city_x(app, client, sign_in_as, two_cities):
    app.config["WTF_CSRF_ENABLED"] = False  # let POSTs reach their views
    walked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = fill(rule, two_cities["y_ids"])
        assert path is not None, f"cannot build {rule.rule}"
        for viewer in two_cities["x_viewers"]:
            sign_in_as(viewer)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, data=two_cities["y_ids"])
                body = response.get_data().decode("utf-8", errors="replace")
                leaked = [m for m in SECRET_MARKERS if m in body]
                assert not leaked, f"{method} {path} as {viewer} shows {leaked}"
                # A PDF, image or CSV about one of city Y's people cannot be searched for
                # the markers; it must not be served at all.
                if any(a.endswith("_id") for a in rule.arguments) and response.status_code < 300:
                    kind = response.mimetype or ""
                    assert kind in ("text/html", "application/json"), \
                        f"{method} {path} as {viewer} served {kind}"
                assert response.status_code != 500, f"{method} {path} failed"
                walked.add(rule.endpoint)
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - {"static"}
    assert walked == endpoints
    # The walk must include the routes that would leak if scoping broke.
    assert {"registry.resident", "registry.household", "audit.my_log"} <= walked


def test_same_routes_do_show_city_y_to_city_y(app, client, sign_in_as, two_cities, make_staff):
    """The markers are visible to city Y's own clerk, so the walk above can see a leak."""
    clerk = make_staff(two_cities["y"], roles=["registry_clerk"], username="y_clerk")
    sign_in_as(clerk)
    body = client.get(f"/registry/residents/{two_cities['y_ids']['resident_id']}").get_data(as_text=True)
    assert "秘匿" in body and "機密町" in body
