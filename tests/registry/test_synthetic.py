"""The synthetic generator: deterministic, realistic, and importable by the importer."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

import pytest
from faker import Faker

from portal.registry.importer import ImportFailed, import_registry_csv
from portal.registry.synthetic import generate_rows, populate, write_csv

AS_OF = date(2025, 4, 1)
KATAKANA = re.compile(r"[\u30A1-\u30FA\u30FC]+")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate_rows("南国市", 5000, seed=11, as_of=AS_OF))


@pytest.fixture(scope="module")
def households(rows) -> dict[str, list[dict[str, str]]]:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row["household_number"]].append(row)
    return grouped


def age(row) -> int:
    born = date.fromisoformat(row["birth_date"])
    return AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))


def test_same_seed_same_rows_other_seed_other_rows():
    first = list(generate_rows("南国市", 300, seed=5, as_of=AS_OF))
    assert first == list(generate_rows("南国市", 300, seed=5, as_of=AS_OF))
    assert first != list(generate_rows("南国市", 300, seed=6, as_of=AS_OF))


def test_exactly_the_number_asked_for_with_unique_numbers(rows):
    assert len(rows) == 5000
    assert len({r["resident_number"] for r in rows}) == 5000


def test_every_household_has_exactly_one_head_listed_first(households):
    for members in households.values():
        assert [m["relationship_to_head"] for m in members].count("世帯主") == 1
        head = members[0]
        assert head["relationship_to_head"] == "世帯主" and head["status"] == "active"
        assert head["household_head_name"] == f"{head['family_name']}\u3000{head['given_name']}"
        assert age(head) >= 18


def test_household_shapes_are_varied(households):
    def shape(members):
        return frozenset(m["relationship_to_head"] for m in members)
    shapes = [shape(m) for m in households.values()]
    assert any(s == {"世帯主"} and age(m[0]) >= 65 for s, m in zip(shapes, households.values()))
    assert any(s == {"世帯主", "妻", "子"} for s in shapes)           # couple with children
    assert any(s == {"世帯主", "子"} for s in shapes)                 # single parent
    assert any("孫" in s and ("妻" in s or "夫" in s) for s in shapes)  # three generations
    assert any(s & {"父", "母"} for s in shapes)
    sizes = [len(m) for m in households.values()]
    assert 1.8 < sum(sizes) / len(sizes) < 3.2


def test_minors_have_guardians_who_are_adults_of_their_household(rows, households):
    by_number = {r["resident_number"]: r for r in rows}
    minors = [r for r in rows if age(r) < 18]
    assert len(minors) > 300
    for child in minors:
        guardians = [by_number[n] for n in child["guardian_numbers"].split(";") if n]
        assert guardians, child
        for guardian in guardians:
            assert guardian["household_number"] == child["household_number"]
            assert age(guardian) >= 18 and guardian["status"] == "active"
    assert all(not r["guardian_numbers"] for r in rows if age(r) >= 18)


def test_names_have_katakana_readings_matching_kanji_and_sex(rows):
    fake = Faker("ja_JP")
    person = fake.provider("faker.providers.person")
    male = {pair[:2] for pair in person.first_name_male_pairs}
    female = {pair[:2] for pair in person.first_name_female_pairs}
    family = {pair[:2] for pair in person.last_name_pairs}
    for row in rows:
        assert KATAKANA.fullmatch(row["family_name_kana"]) and KATAKANA.fullmatch(row["given_name_kana"])
        assert (row["family_name"], row["family_name_kana"]) in family
        given = (row["given_name"], row["given_name_kana"])
        assert given in (male if row["sex"] == "1" else female), row


def test_ages_are_plausible(rows):
    ages = [age(r) for r in rows]
    assert min(ages) >= 0 and max(ages) <= 100
    elders = sum(a >= 65 for a in ages) / len(ages)
    children = sum(a < 15 for a in ages) / len(ages)
    assert 0.15 < elders < 0.45 and 0.05 < children < 0.25


def test_addresses_are_in_the_municipality_and_shared_by_the_household(households):
    for members in households.values():
        assert {m["address"] for m in members} == {members[0]["household_address"]}
        assert members[0]["address"].startswith("南国市") and "丁目" in members[0]["address"]


def test_seals_and_taxes_only_for_active_adults_with_two_fiscal_years(rows):
    with_seal = [r for r in rows if r["seal_number"]]
    with_tax = [r for r in rows if r["fiscal_year"]]
    assert 0.2 * len(rows) < len(with_seal) < 0.5 * len(rows)
    assert all(age(r) >= 18 and r["status"] == "active" for r in with_seal + with_tax)
    assert {r["fiscal_year"] for r in with_tax} == {"2024;2025"}
    adults = [r for r in rows if age(r) >= 18 and r["status"] == "active"]
    assert len(with_tax) == len(adults)


def test_a_few_moved_out_deceased_blocked_and_honseki(rows, households):
    statuses = [r["status"] for r in rows]
    assert 0 < statuses.count("moved_out") < 0.05 * len(rows)
    assert 0 < statuses.count("deceased") < 0.05 * len(rows)
    blocked = [h for h, m in households.items() if m[0]["support_block"] == "1"]
    assert 0 < len(blocked) < 0.02 * len(households)
    assert all(r["support_block"] == "1" for h in blocked for r in households[h])
    with_honseki = [m for m in households.values() if m[0]["honseki"]]
    assert 0.15 * len(households) < len(with_honseki) < 0.45 * len(households)
    assert all(m[0]["hittosha"] for m in with_honseki)


def test_round_trip_through_csv_and_the_importer(db, make_city, counts, tmp_path):
    city = make_city()
    rows = list(generate_rows(city.name, 1000, seed=3, as_of=AS_OF))
    path = tmp_path / "synthetic.csv"
    assert write_csv(path, rows, encoding="cp932", japanese_headers=True) == 1000

    result = import_registry_csv(db, city.id, path)

    assert result.encoding == "cp932"
    assert counts(city) == {
        "household": len({r["household_number"] for r in rows}),
        "resident": 1000,
        "guardian_link": sum(len(r["guardian_numbers"].split(";")) for r in rows if r["guardian_numbers"]),
        "seal_registration": sum(bool(r["seal_number"]) for r in rows),
        "tax_record": sum(len(r["fiscal_year"].split(";")) for r in rows if r["fiscal_year"]),
    }


def test_populate_writes_all_or_nothing(db, make_city, counts):
    city = make_city()
    assert populate(db, city, 400, seed=9, as_of=AS_OF) == 400
    after = counts(city)
    assert after["resident"] == 400 and after["guardian_link"] > 0

    with pytest.raises(ImportFailed):  # the same numbers again: refused, nothing added
        populate(db, city, 400, seed=9, as_of=AS_OF)
    assert counts(city) == after

    assert populate(db, city, 100, seed=9, as_of=AS_OF, start=401) == 100
    assert counts(city)["resident"] == 500


def test_a_file_of_several_batches_read_in_small_chunks_keeps_every_row_in_place(
        db, make_city, tmp_path, monkeypatch):
    """Records are held in batches and the file is decoded in chunks: rows after the first
    batch, and characters split across chunk boundaries, come out as written."""
    from portal.registry import importer
    from portal.registry.models import Resident, SealRegistration, TaxRecord
    from sqlalchemy import select

    monkeypatch.setattr(importer, "_CHUNK", 4093)  # odd, so multi-byte characters get split
    monkeypatch.setattr(importer, "BATCH", 97)
    city = make_city()
    rows = list(generate_rows(city.name, 500, seed=4, as_of=AS_OF))
    path = tmp_path / "synthetic.csv"
    write_csv(path, rows, encoding="cp932")

    assert import_registry_csv(db, city.id, path).residents == 500

    with db.transaction(city.id) as s:
        names = dict(s.execute(select(Resident.number, Resident.family_name)).all())
        seals = s.execute(select(Resident.number, SealRegistration.registration_number)
                          .join(Resident, SealRegistration.resident_id == Resident.id)
                          .order_by(SealRegistration.id)).all()
        taxes = s.execute(select(Resident.number, TaxRecord.fiscal_year)
                          .join(Resident, TaxRecord.resident_id == Resident.id)
                          .order_by(TaxRecord.id)).all()
    assert names == {r["resident_number"]: r["family_name"] for r in rows}
    assert [tuple(s) for s in seals] == [(r["resident_number"], r["seal_number"])
                                         for r in rows if r["seal_number"]]
    assert [tuple(t) for t in taxes] == [(r["resident_number"], int(year)) for r in rows
                                         if r["fiscal_year"]
                                         for year in r["fiscal_year"].split(";")]
