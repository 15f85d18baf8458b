"""The resident's home page and the staff menu name the city in the page's language: the
English name on English pages, the Japanese one on Japanese pages or when the city has
no English name."""
from __future__ import annotations

import re

import pytest

# page language, the city's English name, the name the heading shows
NAMES = [("ja", "Nankoku", "南国市"), ("en", "Nankoku", "Nankoku"), ("en", "", "南国市")]
HOME = {"ja": "住民サービス", "en": "Resident services"}
STAFF_MENU = {"ja": "職員メニュー", "en": "Staff menu"}


def heading(client, path: str, lang: str) -> str:
    response = client.get(path, query_string={"lang": lang})
    assert response.status_code == 200
    return " ".join(re.search(r"<h1>([^<]*)</h1>", response.get_data(as_text=True))[1].split())


@pytest.mark.parametrize("lang, name_en, shown", NAMES)
def test_a_residents_home_page_names_their_city_in_its_language(
        client, sign_in_as, make_city, make_resident, lang, name_en, shown):
    city = make_city("392049", "南国市", name_en=name_en)
    sign_in_as(make_resident(city))
    assert heading(client, "/", lang) == f"{shown} {HOME[lang]}"


@pytest.mark.parametrize("lang, name_en, shown", NAMES)
def test_the_staff_menu_names_the_city_in_its_language(
        client, sign_in_as, make_city, make_staff, lang, name_en, shown):
    city = make_city("392049", "南国市", name_en=name_en)
    sign_in_as(make_staff(city, roles=["registry_clerk"]))
    assert heading(client, "/staff/", lang) == f"{shown} {STAFF_MENU[lang]}"
