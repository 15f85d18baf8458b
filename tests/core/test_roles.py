"""Roles: the joint-cloud operator sees settings and usage, never a person."""
def test_operator_sees_cities_and_counts(client, sign_in_as, make_city, make_resident, make_staff):
    nankoku, konan = make_city("392049", "南国市", population=47982), make_city("392111", "香南市")
    make_resident(nankoku), make_resident(konan), make_resident(konan)
    sign_in_as(make_staff(nankoku, roles=["cloud_operator"]))
    page = client.get("/operator/").get_data(as_text=True)
    assert "南国市" in page and "香南市" in page and "47,982" in page
    assert client.get("/operator/cities/392111").status_code == 200


def test_operator_cannot_open_a_resident_even_of_its_own_city(client, sign_in_as, make_city,
                                                              make_resident, make_staff):
    city = make_city()
    person = make_resident(city)
    sign_in_as(make_staff(city, roles=["cloud_operator"]))
    assert client.get(f"/registry/residents/{person.id}").status_code == 403
    assert client.get("/registry/residents?q=高知").status_code == 403
    assert client.get(f"/registry/households/{person.household_id}").status_code == 403


def test_health_staff_search_but_do_not_open_registry_records(client, sign_in_as, make_city,
                                                              make_resident, make_staff):
    city = make_city()
    person = make_resident(city)
    sign_in_as(make_staff(city, roles=["health_staff"]))
    assert "高知" in client.get("/registry/residents?q=高知").get_data(as_text=True)
    assert client.get(f"/registry/residents/{person.id}").status_code == 403


def test_residents_cannot_reach_staff_pages(client, sign_in_as, make_city, make_resident):
    city = make_city()
    person = make_resident(city)
    sign_in_as(person)
    for path in ("/staff/", "/operator/", f"/registry/residents/{person.id}"):
        assert client.get(path).status_code == 403
