"""CSV import of the registry: documented columns, UTF-8 or CP932, errors that name row and
column, and all-or-nothing."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from csvrows import GOOD_ROWS, HEADER, replace, to_csv
from portal.db import scoped
from portal.registry.access import children_of, self_and_children, viewable_resident
from portal.registry.importer import (COLUMNS, ImportFailed, MAX_ERRORS, import_registry_csv,
                                      parse_date)
from portal.registry.models import (GuardianLink, Household, Resident, ResidentStatus,
                                    SealRegistration, Sex, TaxRecord)
from portal.registry.synthetic import populate
from tests.registry.sqlplans import captured, explained

JAPANESE_HEADER = [next(c.label for c in COLUMNS if c.key == key) for key in HEADER]
NOTHING = {"household": 0, "resident": 0, "guardian_link": 0, "seal_registration": 0,
           "tax_record": 0}


def residents_by_number(db, city) -> dict[str, Resident]:
    with db.transaction(city.id) as s:
        return {r.number: r for r in s.scalars(select(Resident))}


def failure(db, city, data: bytes, **kwargs) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        import_registry_csv(db, city.id, data, **kwargs)
    return caught.value


def located(errors) -> set[tuple[int | None, str | None]]:
    return {(e.row, e.column) for e in errors}


# --- a good file -----------------------------------------------------------------------

def test_good_file_creates_households_residents_guardians_seals_and_taxes(db, city, counts):
    result = import_registry_csv(db, city.id, to_csv(GOOD_ROWS))

    assert (result.residents, result.households_created, result.guardian_links,
            result.seal_registrations, result.tax_records) == (4, 2, 2, 1, 3)
    assert counts(city) == {"household": 2, "resident": 4, "guardian_link": 2,
                            "seal_registration": 1, "tax_record": 3}


def test_cells_are_converted_to_the_model(db, city):
    import_registry_csv(db, city.id, to_csv(GOOD_ROWS))
    people = residents_by_number(db, city)

    child = people["R003"]
    assert (child.family_name_kana, child.given_name_kana) == ("コウチ", "イチロウ")  # ｺｳﾁ → コウチ
    assert child.birth_date == date(2020, 4, 1)  # R2.4.1
    assert child.sex is Sex.MALE and child.status is ResidentStatus.ACTIVE
    elder = people["R004"]
    assert elder.birth_date == date(1940, 3, 3)  # 昭和15年3月3日
    assert elder.support_block is True and people["R001"].support_block is False
    assert elder.address == "南国市後免町2-3" and elder.relationship_to_head == "世帯主"
    assert child.household_id == people["R001"].household_id != elder.household_id
    assert child.municipality_id == city.id


def test_household_head_name_comes_from_the_head_row_when_the_cell_is_blank(db, city):
    import_registry_csv(db, city.id, to_csv(GOOD_ROWS))
    with db.transaction(city.id) as s:
        homes = {h.number: h for h in s.scalars(select(Household))}
    assert homes["H001"].head_name == "高知\u3000太郎"
    assert homes["H001"].address == "南国市大そね1番地"
    assert homes["H002"].head_name == "土佐　ウメ"


def test_household_address_defaults_to_the_first_members_address(db, city):
    rows = [replace(GOOD_ROWS, 2, "household_address", "")[0]]
    import_registry_csv(db, city.id, to_csv(rows))
    with db.transaction(city.id) as s:
        assert s.scalars(select(Household)).one().address == "南国市大そね1番地"


def test_guardians_seals_and_taxes_point_at_the_right_residents(db, city):
    import_registry_csv(db, city.id, to_csv(GOOD_ROWS))
    people = residents_by_number(db, city)
    number_of = {r.id: n for n, r in people.items()}
    with db.transaction(city.id) as s:
        links = {(number_of[link.guardian_id], number_of[link.child_id])
                 for link in s.scalars(select(GuardianLink))}
        seal = s.scalars(select(SealRegistration)).one()
        taxes = {(number_of[t.resident_id], t.fiscal_year): (t.total_income, t.taxable_income,
                                                             t.municipal_tax, t.prefectural_tax)
                 for t in s.scalars(select(TaxRecord))}
    assert links == {("R001", "R003"), ("R002", "R003")}
    assert (number_of[seal.resident_id], seal.registration_number, seal.registered_on,
            seal.active) == ("R001", "1001", date(2010, 5, 1), True)
    assert taxes == {("R001", 2024): (4000000, 3000000, 180000, 120000),
                     ("R001", 2025): (4100000, 3100000, 186000, 124000),
                     ("R004", 2025): (1200000, 700000, 45000, 30000)}


def test_existing_households_are_reused_and_existing_residents_can_be_guardians(
        db, city, counts, make_resident):
    parent = make_resident(city, family="高知", given="母")
    with db.transaction(city.id) as s:
        home = s.get(Household, parent.household_id)
    row = ["R100", home.number, "", "", "高知", "次郎", "コウチ", "ジロウ", "2019-01-01", "1", "子",
           home.address, "", "", parent.number, "", "", "", "", "", "", ""]

    result = import_registry_csv(db, city.id, to_csv([row]))

    assert (result.households_created, result.households_reused, result.guardian_links) == (0, 1, 1)
    child = residents_by_number(db, city)["R100"]
    assert child.household_id == home.id
    with db.transaction(city.id) as s:
        link = s.scalars(select(GuardianLink)).one()
    assert (link.guardian_id, link.child_id) == (parent.id, child.id)
    assert counts(city)["household"] == 1


def test_numbers_of_another_municipality_do_not_clash(db, make_city, counts):
    first, second = make_city("392049", "南国市"), make_city("392014", "高知市")
    import_registry_csv(db, first.id, to_csv(GOOD_ROWS))
    import_registry_csv(db, second.id, to_csv(GOOD_ROWS))
    assert counts(first)["resident"] == counts(second)["resident"] == 4


def test_japanese_headers_are_accepted(db, city, counts):
    import_registry_csv(db, city.id, to_csv(GOOD_ROWS, header=JAPANESE_HEADER))
    assert counts(city)["resident"] == 4
    assert JAPANESE_HEADER[:3] == ["住民番号", "世帯番号", "世帯主氏名"]


def test_optional_columns_may_be_left_out(db, city):
    header = HEADER[:12]
    rows = [row[:12] for row in GOOD_ROWS]
    result = import_registry_csv(db, city.id, to_csv(rows, header=header))
    assert (result.residents, result.guardian_links, result.tax_records) == (4, 0, 0)
    assert residents_by_number(db, city)["R002"].status is ResidentStatus.ACTIVE


# --- encodings ---------------------------------------------------------------------------

def test_cp932_file_is_detected(db, city):
    data = to_csv(GOOD_ROWS, header=JAPANESE_HEADER, encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the test really feeds Shift_JIS

    result = import_registry_csv(db, city.id, data)

    assert result.encoding == "cp932"
    assert residents_by_number(db, city)["R004"].family_name == "土佐"


def test_utf8_file_with_bom_is_read_without_the_bom_in_the_first_header(db, city):
    data = to_csv(GOOD_ROWS, encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")

    result = import_registry_csv(db, city.id, data)

    assert (result.encoding, result.residents) == ("utf-8", 4)
    assert "R001" in residents_by_number(db, city)


def test_a_file_path_is_accepted(db, city, tmp_path):
    path = tmp_path / "residents.csv"
    path.write_bytes(to_csv(GOOD_ROWS, encoding="cp932"))
    assert import_registry_csv(db, city.id, path).residents == 4
    assert import_registry_csv.__doc__  # public API is documented


def test_forcing_the_wrong_encoding_fails_with_a_row_and_writes_nothing(db, city, counts):
    data = to_csv(GOOD_ROWS, encoding="cp932")
    error = failure(db, city, data, encoding="utf-8").errors[0]
    assert error.row == 2 and "文字コード" in error.message
    assert counts(city) == NOTHING


# --- errors: row and column named, nothing written ------------------------------------------

def test_bad_date_names_row_and_column_in_japanese(db, city, counts):
    rows = replace(GOOD_ROWS, 3, "birth_date", "2024-13-01")
    errors = failure(db, city, to_csv(rows, header=JAPANESE_HEADER)).errors
    assert [str(e) for e in errors] == [
        "3行目「生年月日」: 日付の形式が正しくありません (2024-13-01)"]
    assert counts(city) == NOTHING


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("sex", "3", "性別は 1"),
    ("status", "gone", "状態は active"),
    ("support_block", "maybe", "はい/いいえ"),
    ("family_name_kana", "こうち", "カタカナ"),
    ("given_name_kana", "Taro", "カタカナ"),
    ("family_name", "", "必須項目が空です"),
    ("birth_date", "平成31年5月1日", "平成にない日付"),
    ("seal_registered_on", "", "登録日も必要"),
    ("total_income", "4000000;abc", "0以上の整数"),
    ("municipal_tax", "180000", "同じ数（2件）"),
    ("fiscal_year", "2024;2024", "同じ課税年度"),
    ("family_name", "長" * 33, "32文字以内"),
])
def test_each_kind_of_bad_cell_is_reported(db, city, counts, column, value, expected):
    errors = failure(db, city, to_csv(replace(GOOD_ROWS, 2, column, value))).errors
    assert len(errors) == 1
    assert (errors[0].row, errors[0].column) == (2, column)
    assert expected in errors[0].message
    assert counts(city) == NOTHING


def test_errors_are_collected_not_stopped_at_the_first(db, city, counts):
    rows = replace(GOOD_ROWS, 2, "sex", "x")
    rows = replace(rows, 4, "birth_date", "yesterday")
    rows = replace(rows, 5, "given_name_kana", "うめ")
    errors = failure(db, city, to_csv(rows)).errors
    assert located(errors) == {(2, "sex"), (4, "birth_date"), (5, "given_name_kana")}
    assert counts(city) == NOTHING


def test_duplicate_number_within_the_file_names_both_rows(db, city, counts):
    rows = replace(GOOD_ROWS, 5, "resident_number", "R002")
    errors = failure(db, city, to_csv(rows)).errors
    assert [(e.row, e.column) for e in errors] == [(5, "resident_number")]
    assert "R002" in errors[0].message and "（3行目と同じ）" in errors[0].message
    assert counts(city) == NOTHING


def test_a_resident_already_registered_is_not_overwritten(db, city, counts, make_resident):
    existing = make_resident(city, family="既存", given="住民")
    before = counts(city)
    rows = replace(GOOD_ROWS, 5, "resident_number", existing.number)

    errors = failure(db, city, to_csv(rows)).errors

    assert [(e.row, e.column) for e in errors] == [(5, "resident_number")]
    assert "登録済み" in errors[0].message
    assert counts(city) == before
    assert residents_by_number(db, city)[existing.number].family_name == "既存"


def test_unknown_guardian_is_an_error(db, city, counts):
    rows = replace(GOOD_ROWS, 4, "guardian_numbers", "R001;R999")
    errors = failure(db, city, to_csv(rows)).errors
    assert [(e.row, e.column) for e in errors] == [(4, "guardian_numbers")]
    assert "R999" in errors[0].message
    assert counts(city) == NOTHING


def test_a_resident_cannot_be_their_own_guardian(db, city):
    rows = replace(GOOD_ROWS, 4, "guardian_numbers", "R003")
    assert located(failure(db, city, to_csv(rows)).errors) == {(4, "guardian_numbers")}


def test_two_active_heads_in_one_household(db, city, counts):
    rows = replace(GOOD_ROWS, 3, "relationship_to_head", "世帯主")
    errors = failure(db, city, to_csv(rows)).errors
    assert located(errors) == {(3, "relationship_to_head")}
    assert counts(city) == NOTHING


def test_new_household_without_a_head(db, city):
    rows = replace(GOOD_ROWS, 5, "relationship_to_head", "同居人")
    rows = replace(rows, 5, "household_head_name", "")
    assert located(failure(db, city, to_csv(rows)).errors) == {(5, "household_head_name")}


def test_a_head_who_moved_out_is_named_as_the_cause(db, city, counts):
    """The message said there was no 続柄「世帯主」 row although the row was there: its
    head had moved out, and with nobody else as head the household has no current head."""
    rows = replace(GOOD_ROWS, 2, "status", "moved_out")
    errors = failure(db, city, to_csv(rows)).errors
    assert [(e.row, e.column) for e in errors] == [(2, "status")]
    message = errors[0].message
    assert "世帯主氏名も続柄「世帯主」の行もありません" not in message
    assert "H001" in message and "高知\u3000太郎" in message and "転出" in message
    assert "「household_head_name」の列" in message   # what to do, in the file's own words
    assert counts(city) == NOTHING


def test_a_deceased_head_is_named_too(db, city):
    errors = failure(db, city, to_csv(replace(GOOD_ROWS, 2, "status", "死亡"))).errors
    assert [(e.row, e.column) for e in errors] == [(2, "status")]
    assert "死亡" in errors[0].message and "高知\u3000太郎" in errors[0].message


def test_a_household_that_left_altogether_keeps_its_former_head(db, city):
    rows = GOOD_ROWS
    for row in (2, 3, 4):
        rows = replace(rows, row, "status", "moved_out")
    rows = replace(replace(rows, 5, "status", "死亡"), 5, "household_head_name", "")
    import_registry_csv(db, city.id, to_csv(rows))
    with db.transaction(city.id) as s:
        homes = {h.number: h.head_name for h in s.scalars(select(Household))}
    assert homes == {"H001": "高知\u3000太郎", "H002": "土佐\u3000ウメ"}


def test_conflicting_household_address(db, city):
    rows = replace(GOOD_ROWS, 3, "household_address", "南国市別の場所")
    assert located(failure(db, city, to_csv(rows)).errors) == {(3, "household_address")}


def test_header_problems_are_row_1(db, city, counts):
    header = [h for h in HEADER if h != "birth_date"] + ["favourite_colour"]
    rows = [[c for h, c in zip(HEADER, row) if h != "birth_date"] + ["青"] for row in GOOD_ROWS]
    errors = failure(db, city, to_csv(rows, header=header)).errors
    assert located(errors) == {(1, "生年月日"), (1, "favourite_colour")}
    assert any("必須の列がありません" in e.message for e in errors)
    assert counts(city) == NOTHING


def test_too_many_cells_in_a_row(db, city):
    rows = [list(r) for r in GOOD_ROWS]
    rows[1].append("extra")
    assert located(failure(db, city, to_csv(rows)).errors) == {(3, None)}


def test_errors_stop_at_the_limit_and_say_so(db, city, counts):
    rows = [replace(GOOD_ROWS, 5, "resident_number", f"X{i}")[3] for i in range(MAX_ERRORS + 50)]
    rows = [r[:9] + ["not a date"] + r[10:] for r in rows]  # every row: bad sex
    failed = failure(db, city, to_csv(rows))
    assert failed.truncated and len(failed.errors) == MAX_ERRORS
    assert failed.errors[0].row == 2 and failed.errors[-1].row == MAX_ERRORS + 1
    assert counts(city) == NOTHING


def test_empty_file_and_header_only(db, city):
    assert failure(db, city, b"").errors[0].row == 1
    assert "データ行がありません" in failure(db, city, to_csv([])).errors[0].message


def test_blank_lines_are_skipped_but_rows_keep_their_numbers(db, city):
    data = to_csv(replace(GOOD_ROWS, 5, "sex", "x")).replace(b"\r\nR004", b"\r\n\r\nR004")
    assert located(failure(db, city, data).errors) == {(6, "sex")}


def test_progress_reports_both_stages(db, city):
    calls = []
    import_registry_csv(db, city.id, to_csv(GOOD_ROWS), progress=lambda *a: calls.append(a))
    assert ("検証", 4, 4) in calls and calls[-1] == ("登録", 4, 4)


# --- dates -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2024-02-29", date(2024, 2, 29)), ("2024/2/9", date(2024, 2, 9)),
    ("R2.4.1", date(2020, 4, 1)), ("r2.4.1", date(2020, 4, 1)),
    ("令和2年4月1日", date(2020, 4, 1)), ("令和元年5月1日", date(2019, 5, 1)),
    ("H31.4.30", date(2019, 4, 30)), ("S64.1.7", date(1989, 1, 7)),
    ("平成元年1月8日", date(1989, 1, 8)), ("２０２４－０１－０２", date(2024, 1, 2)),
])
def test_dates_in_western_and_japanese_era_forms(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2023-02-29", "H31.5.1", "R1.4.30", "S64.1.8", "1.4.2020",
                                  "令和0年1月1日", "2024-1"])
def test_impossible_or_unknown_dates_are_rejected(text):
    from portal.registry.importer import CellError
    with pytest.raises(CellError):
        parse_date(text)


def test_an_undecodable_byte_far_into_the_file_names_its_row(db, city, counts, monkeypatch):
    from portal.registry import importer
    monkeypatch.setattr(importer, "_CHUNK", 64)  # the bad byte sits in a later chunk
    data = to_csv(GOOD_ROWS, encoding="cp932").replace("ウメ".encode("cp932"), b"\x85\x40", 1)
    errors = failure(db, city, data).errors
    assert [(e.row, e.column) for e in errors] == [(5, None)]
    assert "文字コード" in errors[0].message
    assert counts(city) == NOTHING

def test_right_after_a_bulk_import_a_guardians_children_are_read_by_index(db, city):
    """The planner knows what an import wrote as soon as it is committed: on PostgreSQL,
    planned from the empty tables, a guardian's children (every `/me/`) were read through
    the city's whole resident index until autovacuum's next pass. The statement is the
    app's own, tenant criteria included; SQLite goes by its indexes without statistics."""
    populate(db, city, 2000, seed=11)
    with db.transaction(city.id) as s:
        guardian = s.scalar(scoped(GuardianLink.guardian_id).order_by(GuardianLink.id).limit(1))
        with captured(s) as seen:
            assert children_of(s, guardian)
        (statement, parameters), = seen
        found = explained(s, statement, parameters)
    assert "ix_resident_" not in found, found            # no walk through the city's residents
    assert not re.search(r"^SCAN resident\b|Seq Scan on resident", found, re.M), found
    assert re.search(r"guardian_link.*(guardian_id|Index)|guardian_id", found), found


def test_a_residents_own_page_reads_them_and_their_children_by_primary_key(db, city):
    """/me/ reads the resident and their children in one statement: by primary key, not
    through the city (an `id = … OR id IN (…)` read all of its residents on PostgreSQL)."""
    populate(db, city, 2000, seed=11)
    with db.transaction(city.id) as s:
        guardian = s.scalar(scoped(GuardianLink.guardian_id).order_by(GuardianLink.id).limit(1))
        with captured(s) as seen:
            me, children = self_and_children(s, guardian)
        assert me.id == guardian and children
        (statement, parameters), = seen
        found = explained(s, statement, parameters)
    assert "ix_resident_" not in found, found
    assert not re.search(r"^SCAN resident\b|Seq Scan on resident", found, re.M), found
    assert re.search(r"pk_resident|INTEGER PRIMARY KEY", found), found


def test_a_notebook_opened_by_a_guardian_is_checked_and_read_by_primary_key(db, city):
    """The medication pages read the person asked for with the guardian check in one
    statement, by primary key; anyone but the viewer and their children is not found."""
    populate(db, city, 2000, seed=11)
    with db.transaction(city.id) as s:
        guardian, child = s.execute(select(GuardianLink.guardian_id, GuardianLink.child_id)
                                    .order_by(GuardianLink.id).limit(1)).one()
        viewer = type("Viewer", (), {"id": guardian})()
        with captured(s) as seen:
            assert viewable_resident(s, viewer, child).id == child
        assert viewable_resident(s, viewer, guardian).id == guardian
        stranger = s.scalar(scoped(Resident.id).where(Resident.id.not_in(
            [guardian, child])).limit(1))
        assert viewable_resident(s, viewer, stranger) is None
        (statement, parameters), = seen
        found = explained(s, statement, parameters)
    assert "ix_resident_" not in found, found
    assert not re.search(r"^SCAN resident\b|Seq Scan on resident", found, re.M), found
