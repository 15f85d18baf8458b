"""Municipality codes, and the scope that keeps one city's rows away from another."""
import pytest
from sqlalchemy import bindparam, func, select

from portal.db import (CrossTenantWriteError, Rows, UnscopedQueryError, across_municipalities,
                       rows_of, scoped)
from portal.registry.models import Resident, ResidentRead
from portal.tenancy.services import InvalidMunicipalityCode, check_digit, validate_code


@pytest.mark.parametrize("code", ["392049", "392111", "392120", "131016", "011002"])
def test_real_codes_pass_the_check_digit(code):
    assert validate_code(code) == code


@pytest.mark.parametrize("code", ["392048", "39204", "3920490", "39204a", "３９２０４９", ""])
def test_bad_codes_are_refused(code):
    with pytest.raises(InvalidMunicipalityCode):
        validate_code(code)


def test_check_digit_rule():
    assert check_digit("39204") == 9
    assert check_digit("39212") == 0  # remainder 1 → 11 - 1 = 10 → last digit 0


def test_duplicate_code_is_refused(make_city):
    make_city("392049", "南国市")
    with pytest.raises(ValueError):
        make_city("392049", "南国市")


def test_scoped_session_sees_only_its_city(db, make_city, make_resident):
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    make_resident(nankoku, family="南国")
    make_resident(konan, family="香南")
    with db.transaction(nankoku.id) as s:
        names = [r.family_name for r in s.scalars(scoped(Resident))]
    assert names == ["南国"]


def test_get_by_id_of_another_city_finds_nothing(db, make_city, make_resident):
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    other = make_resident(konan)
    with db.transaction(nankoku.id) as s:
        assert s.scalar(scoped(Resident, Resident.id == other.id)) is None


def test_unscoped_query_raises(db, make_city, make_resident):
    make_resident(make_city())
    with pytest.raises(UnscopedQueryError):
        with db.transaction() as s:
            s.scalars(select(Resident)).all()


def test_rows_read_for_a_page_are_the_sessions_city_only(db, make_city, make_resident):
    """rows_of reads by Core, past the ORM event: it adds the city itself."""
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    mine = make_resident(nankoku, family="南国")
    other = make_resident(konan, family="香南")
    with db.transaction(nankoku.id) as s:
        assert [r.family_name for r in rows_of(s, Resident)] == ["南国"]
        assert rows_of(s, Resident, Resident.id == other.id) == []
        assert [r.id for r in rows_of(s, Resident, Resident.id == mine.id)] == [mine.id]
    with pytest.raises(UnscopedQueryError):
        with db.transaction() as s:
            rows_of(s, Resident)


# Built once, as the pages' reads are (at import), and used by sessions of either city.
_BY_FAMILY = Rows(Resident, Resident.family_name == bindparam("family"),
                  order_by=(Resident.id,), stand_in=ResidentRead)


def test_rows_built_once_read_the_calling_sessions_city_only(db, make_city, make_resident):
    """Rows fills the city from each session it is called with, never from the first."""
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    mine = [make_resident(nankoku, family="山田", given=g) for g in ("一郎", "二郎")]
    theirs = make_resident(konan, family="山田", given="三郎")
    with db.transaction(nankoku.id) as s:
        found = _BY_FAMILY(s, family="山田")
        assert [r.id for r in found] == [p.id for p in mine]
        assert found[0].name == "山田\u3000一郎" and isinstance(found[0], ResidentRead)
    with db.transaction(konan.id) as s:
        assert [r.id for r in _BY_FAMILY(s, family="山田")] == [theirs.id]
        assert _BY_FAMILY(s, family="南国") == []
    with pytest.raises(UnscopedQueryError):
        with db.transaction() as s:
            _BY_FAMILY(s, family="山田")


def test_deliberate_cross_city_aggregate(db, make_city, make_resident):
    make_resident(make_city("392049", "南国市"))
    make_resident(make_city("392111", "香南市"))
    with db.transaction() as s:
        total = s.scalar(across_municipalities(select(func.count()).select_from(Resident)))
    assert total == 2


def test_writing_another_citys_row_raises(db, make_city, make_resident):
    nankoku, konan = make_city("392049", "南国市"), make_city("392111", "香南市")
    make_resident(konan)
    with pytest.raises(CrossTenantWriteError):
        with db.transaction(nankoku.id) as s:
            s.add(Resident(municipality_id=konan.id, number="X1", family_name="a",
                           given_name="b", family_name_kana="ア", given_name_kana="イ",
                           birth_date=__import__("datetime").date(2000, 1, 1), sex="1",
                           address="x", relationship_to_head="世帯主"))


def test_new_rows_take_the_sessions_city(db, make_city, make_resident):
    nankoku = make_city()
    person = make_resident(nankoku)
    assert person.municipality_id == nankoku.id
