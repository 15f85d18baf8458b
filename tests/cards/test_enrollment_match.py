"""Enrollment binds a card only to the resident who agrees with all four facts the card
carries (name, birth date, sex, address): any single one differing refuses."""
from __future__ import annotations

from datetime import date

import pytest

from portal.cards.services import EnrollmentRefused, match_resident
from portal.registry.models import Sex

HOME = "高知県南国市大そね1番地"
CARD = {"name": "鈴木　裕樹", "birth_date": date(1985, 4, 1), "sex": "1", "address": HOME}


@pytest.fixture
def yuki(make_city, make_resident):
    return make_resident(make_city(), family="鈴木", given="裕樹", birth=date(1985, 4, 1),
                         sex=Sex.MALE, address=HOME)


def match(db, **card):
    with db.transaction() as s:
        return match_resident(s, **{**CARD, **card})


def test_all_four_facts_agree(db, yuki):
    assert match(db).id == yuki.id


def test_width_and_spaces_are_normalised(db, yuki):
    assert match(db, name="鈴木 裕樹", address="高知県南国市大そね１番地").id == yuki.id


@pytest.mark.parametrize("differs, detail", [
    ({"name": "鈴木　祐樹"}, "no resident matches"),
    ({"birth_date": date(1985, 4, 2)}, "no resident matches"),
    ({"sex": "2"}, "sex differs"),        # the probe's card: sex 2, bound to a man
    ({"sex": "3"}, "sex differs"),
    ({"address": "高知県南国市大そね2番地"}, "address differs"),
], ids=["name", "birth date", "sex", "sex unknown", "address"])
def test_one_fact_differing_refuses(db, yuki, differs, detail):
    with pytest.raises(EnrollmentRefused) as refused:
        match(db, **differs)
    assert refused.value.detail == detail
    assert "窓口" in refused.value.message


def test_a_card_of_unknown_sex_matches_a_registry_entry_without_one(db, make_city, make_resident):
    person = make_resident(make_city("392111", "香南市"), family="鈴木", given="裕樹",
                           birth=date(1985, 4, 1), sex=Sex.NOT_APPLICABLE, address=HOME)
    assert match(db, sex="3").id == person.id
