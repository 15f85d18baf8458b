"""The drug code master: reading the published layouts, loading them (idempotent, all or
nothing, newer replaces older) and the duplicate check across code systems on the pages."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from services.medication import drug_master
from services.medication.master_files import (HOT_FIXTURE, SSK_FIXTURE, MasterFileError,
                                              read_master)
from services.medication.models import MedicationMasterCode, MedicationMasterVersion
from tests.medication.helpers import post_import, ymd
from tests.medication.jahis_samples import visit_text

BASE = "/services/medication"


def fixture(path) -> tuple[bytes, str]:
    return path.read_bytes(), path.name


def load(db, data: bytes, name: str, **options):
    with db.transaction() as s:
        outcome = drug_master.load(s, read_master(data, name), "test", **options)
        return outcome.status


def stored(db) -> dict[str, list]:
    with db.transaction() as s:
        return {"versions": s.execute(select(MedicationMasterVersion.source,
                                             MedicationMasterVersion.version_date)
                                      .order_by(MedicationMasterVersion.source)).all(),
                "codes": s.scalar(select(func.count()).select_from(MedicationMasterCode))}


def test_both_published_layouts_are_read_with_their_version():
    hot = read_master(*fixture(HOT_FIXTURE))
    ssk = read_master(*fixture(SSK_FIXTURE))
    assert (hot.source, hot.version_date, hot.records) == ("hot", date(2024, 10, 31), 6)
    assert (ssk.source, ssk.version_date, ssk.records) == ("ssk", date(2024, 10, 1), 5)
    hot_codes = {(c.code_kind, c.code): c.structured_code for c in hot.codes}
    # HOT13, HOT9 and HOT7; the product's レセ電 code and the 統一名 one it is claimed under
    assert hot_codes["6", "1003239050102"] == hot_codes["6", "100323905"] == "1121001X1018"
    assert hot_codes["2", "620008507"] == hot_codes["2", "611120070"] == "1121001X1018"
    assert {(c.code, c.structured_code) for c in ssk.codes} >= {("620098801", "1149019F1560")}


HOT_HEADER = HOT_FIXTURE.read_bytes().split(b"\r\n")[0]


def hot_file(*rows: str) -> bytes:
    return HOT_HEADER + b"\r\n" + "\r\n".join(rows).encode("cp932") + b"\r\n"


def hot_row(hot13="9900001010101", rece="620098801", yakka="1149019F1560", day="20241001",
            name="ロキソニン錠６０ｍｇ") -> str:
    fields = [hot13, hot13[:7], "01", "01", "01", "", yakka, yakka, rece, "", name, name, name,
              "６０ｍｇ１錠", "ＰＴＰ", "10", "錠", "100", "錠", "内", "第一三共", "第一三共", "1", day]
    return ",".join(f'"{f}"' if f else "" for f in fields)


def test_a_malformed_file_is_refused_with_line_numbers(db):
    data = hot_file(hot_row(), hot_row(rece="62009880"), '"9900002010101","9900002"',
                    hot_row(yakka="1149019-1560", day="20241399"))
    with pytest.raises(MasterFileError) as refused:
        read_master(data, "MEDIS20241031.TXT")
    assert refused.value.problems == [
        "3行目：レセプト電算処理システムコード（１）「62009880」は9桁の数字ではありません。",
        "4行目：項目数が 2 です（医薬品HOTコードマスターは 24）。",
        "5行目：薬価基準収載医薬品コード「1149019-1560」は12桁の医薬品コードではありません。",
        "5行目：個別医薬品コード「1149019-1560」は12桁の医薬品コードではありません。",
        "5行目：更新年月日「20241399」は日付（YYYYMMDD）ではありません。"]
    with pytest.raises(MasterFileError, match="^3行目：CP932 として読めない"):
        read_master(HOT_HEADER + b"\r\n" + hot_row().encode("cp932") + b"\r\n\x82\xff\r\n", "x.TXT")
    with pytest.raises(MasterFileError, match="版の日付がわかりません"):
        read_master(hot_file(hot_row(day="")), "hot.TXT")
    assert read_master(hot_file(hot_row(day="")), "MEDIS20241130.TXT").version_date == date(2024, 11, 30)
    with pytest.raises(MasterFileError, match="どちらの形式でもありません"):
        read_master("JAHISTC08,1\r\n".encode(), "x.csv")
    assert stored(db) == {"versions": [], "codes": 0}


def test_loading_is_idempotent_and_a_newer_version_replaces(db):
    assert load(db, *fixture(HOT_FIXTURE)) == "loaded"
    first = stored(db)
    assert load(db, *fixture(HOT_FIXTURE)) == "unchanged"
    assert stored(db) == first and first["codes"] == 25
    newer = hot_file(hot_row(), hot_row("9900009010101", "610406387", "1149032F1027"))
    assert load(db, newer, "MEDIS20241130.TXT") == "replaced"
    after = stored(db)
    assert after == {"versions": [("hot", date(2024, 11, 30))], "codes": 8}
    with pytest.raises(drug_master.MasterRefused, match="2024-11-30 版が読み込まれています"):
        load(db, *fixture(HOT_FIXTURE))
    assert stored(db) == after
    assert load(db, *fixture(HOT_FIXTURE), allow_older=True) == "replaced"
    assert stored(db) == first


def test_a_load_that_fails_midway_leaves_the_loaded_master(db):
    load(db, *fixture(SSK_FIXTURE))
    before = stored(db)
    master = read_master(hot_file(hot_row()), "MEDIS20241231.TXT")
    master.source = "ssk"  # stored under the other source: its codes clash on the key
    master.codes = master.codes + master.codes
    with pytest.raises(Exception):
        with db.transaction() as s:
            drug_master.load(s, master, "test")
    assert stored(db) == before


def test_the_master_is_national_data_shared_by_every_city(db, make_city):
    """No municipality_id: every city's session reads the same master, an unscoped session
    may load it (no UnscopedQueryError), and a leaving city's export and storage skip it."""
    from portal.jointcloud.leaving import city_tables
    from portal.metering.services import storage_by_city
    load(db, *fixture(SSK_FIXTURE))
    wanted = {("2", "620098801")}
    for city in (make_city("392049", "南国市"), make_city("392111", "香南市")):
        with db.transaction(city.id) as s:
            assert drug_master.code_map(s, wanted).structured("2", "620098801") == "1149019F1560"
    assert not {t.table.name for t in city_tables()} & {"medication_master_code",
                                                         "medication_master_version"}
    with db.transaction() as s:
        assert not any("medication_master_code" in tables for tables in storage_by_city(s).values())


# --- on the pages ----------------------------------------------------------------------

@pytest.fixture
def loxoprofen_twice(client, sign_in_as, make_city, make_resident):
    """The issue's case: loxoprofen as レセ電 at one pharmacy, as YJ at another, overlapping;
    and etodolac (same class 1149) coded as HOT9 at a third."""
    hanako = make_resident(make_city("392049", "南国市"))
    sign_in_as(hanako)
    today = date.today()
    text = ("JAHISTC08,1\n1,高知 花子,2,19900401,,,,,,,\n"
            + visit_text(ymd(today - timedelta(days=10)), "はりまや薬局", "0412345",
                         "ロキソニン錠60mg", "2", "620098801", 14)
            + visit_text(ymd(today - timedelta(days=3)), "ごめん駅前薬局", "0498765",
                         "ロキソプロフェンNa錠60mg", "4", "1149019F1560", 7)
            + visit_text(ymd(today - timedelta(days=2)), "のいち薬局", "0411111",
                         "ハイペン錠100mg", "6", "990000201", 7)
            + visit_text(ymd(today - timedelta(days=2)), "かがみ薬局", "0422222",
                         "胃薬X", "2", "699999999", 7))
    assert post_import(client, hanako.id, text=text).status_code == 200
    return hanako


def test_without_a_master_the_page_names_the_pairs_and_why(client, loxoprofen_twice):
    body = client.get(f"{BASE}/people/{loxoprofen_twice.id}/alerts").get_data(as_text=True)
    assert "同一成分の重複" not in body
    assert "期間が重なる次の 6 組は、同じ成分か判断できませんでした。" in body
    assert "ロキソニン錠60mg（はりまや薬局）／ロキソプロフェンNa錠60mg（ごめん駅前薬局）：薬品マスタがないため" in body
    assert "薬品マスタが読み込まれていないため" in body


def test_a_hot_code_needs_the_hot_master(client, db, loxoprofen_twice):
    load(db, *fixture(SSK_FIXTURE))
    body = client.get(f"{BASE}/people/{loxoprofen_twice.id}/alerts").get_data(as_text=True)
    assert "ロキソニン錠60mg（はりまや薬局）／ハイペン錠100mg（のいち薬局）：薬品マスタがないため" in body
    assert body.count("同一成分の重複") == 1


def test_with_the_master_the_same_ingredient_is_found_across_code_systems(
        app, client, db, loxoprofen_twice):
    load(db, *fixture(SSK_FIXTURE))
    load(db, *fixture(HOT_FIXTURE))
    statements = []
    engine = db.engine

    def count(_conn, _cursor, statement, *_args):
        if "medication_master" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        body = client.get(f"{BASE}/people/{loxoprofen_twice.id}/alerts").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1  # one lookup for the page, not one per drug
    rows = body.split('<tr class="med-alert')[1:]
    ingredient = [r for r in rows if "同一成分の重複" in r]
    assert len(ingredient) == 1 and "ロキソニン錠60mg" in ingredient[0]
    assert "ロキソプロフェンNa錠60mg" in ingredient[0] and "薬品マスタで薬価基準コードに置き換えて判定" in ingredient[0]
    same_class = [r for r in rows if "同効薬（同じ薬効分類）の重複" in r]
    assert len(same_class) == 2 and all("ハイペン錠100mg" in r and "med-alert-soft" in r
                                        for r in same_class)
    assert "医薬品マスター（支払基金） 2024-10-01 版" in body
    assert "医薬品HOTコードマスター（MEDIS-DC） 2024-10-31 版" in body
    assert "薬品コードが、読み込まれている薬品マスタにありません。" in body and "レセ電 699999999" in body
    current = client.get(f"{BASE}/people/{loxoprofen_twice.id}/current").get_data(as_text=True)
    assert current.count("同一成分の重複") == 2  # beside each of the two loxoprofens
    english = client.get(f"{BASE}/people/{loxoprofen_twice.id}/alerts?lang=en").get_data(as_text=True)
    assert "Compared through the drug code master" in english
    assert "HOT code master (MEDIS-DC), release of 2024-10-31" in english
