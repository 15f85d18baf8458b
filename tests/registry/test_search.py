"""Staff resident search: names and kana folded on both sides, wildcards as plain
characters, bounded results, the city's own residents only, and indexes rather than a
read of every resident (EXPLAIN on SQLite and PostgreSQL)."""
from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from portal.db import Database, make_engine
from portal.migrate import alembic_config, upgrade
from portal.plugins import load_plugins
from portal.registry.importer import import_registry_csv
from portal.registry.models import Resident, Sex
from portal.registry.names import fold
from portal.registry.search import LIMIT, find_residents
from tests.conftest import database_of_its_own
from tests.registry.sqlplans import captured, explained
from tests.registry.csvrows import GOOD_ROWS, to_csv

_serial = itertools.count(1)


@pytest.fixture
def person(make_resident, city):
    def create(family, given, family_kana="テスト", given_kana="タロウ", where=None):
        return make_resident(where or city, family=family, given=given,
                             family_kana=family_kana, given_kana=given_kana)
    return create


def names(db, city, query) -> set[str]:
    with db.transaction(city.id) as s:
        return {r.name for r in find_residents(s, query, Resident.id).residents}


@pytest.fixture
def clerk_client(make_staff, sign_in_as, city):
    return sign_in_as(make_staff(city, roles=("registry_clerk",)))


def listed(client, query) -> str:
    response = client.get("/registry/residents", query_string={"q": query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("written, key", [
    ("元親\u3000二世", "元親二世"), ("ｼｹﾝ", "シケン"), ("しけん", "シケン"), ("ｶﾞｯｺｳ", "ガッコウ"),
    ("髙橋", "高橋"), ("渡邊", "渡辺"), ("﨑", "崎"), ("齋藤", "斎藤"), ("ジョン・スミス", "ジョンスミス"),
    ("ＳＭＩＴＨ", "smith"), ("％＿", "%_"), ("", "")])
def test_fold(written, key):
    assert fold(written) == key


# -- folding: what the registry holds and what staff type meet however either is written --

def test_a_name_stored_with_a_space_is_found_without_it_and_the_other_way(db, city, person):
    person("長宗我部", "元親\u3000二世")
    person("山内", "一豊二世")
    assert names(db, city, "元親二世") == {"長宗我部\u3000元親\u3000二世"}
    assert names(db, city, "一豊 二世") == {"山内\u3000一豊二世"}
    assert names(db, city, "長宗我部 元親") == {"長宗我部\u3000元親\u3000二世"}


def test_half_width_kana_finds_full_width_and_the_other_way(db, city, person):
    person("試験", "一", "シケン", "ハジメ")
    person("半角", "二", "ﾊﾝｶｸ", "ﾌﾀﾂ")  # written by the ORM as it came, not through the importer
    assert names(db, city, "ｼｹﾝ") == {"試験\u3000一"}
    assert names(db, city, "ハンカク") == {"半角\u3000二"}
    assert names(db, city, "ﾊﾝｶｸﾌﾀﾂ") == {"半角\u3000二"}


def test_a_hiragana_query_finds_katakana_kana(db, city, person):
    person("試験", "一", "シケン", "ハジメ")
    assert names(db, city, "しけん") == {"試験\u3000一"}
    assert names(db, city, "しけんはじめ") == {"試験\u3000一"}
    assert names(db, city, "しけ") == {"試験\u3000一"}  # short: the start of the kana


def test_old_and_variant_kanji_find_each_other(db, city, person):
    person("髙橋", "一郎")
    person("渡邊", "二郎")
    person("高崎", "三郎")
    assert names(db, city, "高橋") == {"髙橋\u3000一郎"}
    assert names(db, city, "渡辺二郎") == {"渡邊\u3000二郎"}
    assert names(db, city, "髙﨑") == {"高崎\u3000三郎"}


def test_full_width_letters_and_case_do_not_matter(db, city, person):
    person("ＳＭＩＴＨ", "Ｊｏｈｎ", "スミス", "ジョン")
    assert names(db, city, "smith") == {"ＳＭＩＴＨ\u3000Ｊｏｈｎ"}
    assert names(db, city, "ジョン・スミス") == set()  # kana is family first: スミスジョン
    assert names(db, city, "すみす・じょん") == {"ＳＭＩＴＨ\u3000Ｊｏｈｎ"}


# -- short queries: the start of a family or given name or kana ---------------------------

def test_one_or_two_characters_match_the_start_of_a_name_or_kana(db, city, person):
    person("佐藤", "花子", "サトウ", "ハナコ")
    person("加藤", "佐和", "カトウ", "サワ")
    person("林", "一", "ハヤシ", "ハジメ")
    assert names(db, city, "佐藤") == {"佐藤\u3000花子"}
    assert names(db, city, "花子") == {"佐藤\u3000花子"}  # the given name's start
    assert names(db, city, "佐") == {"佐藤\u3000花子", "加藤\u3000佐和"}
    assert names(db, city, "林") == {"林\u3000一"}
    assert names(db, city, "藤") == set()  # inside a name: type three characters for that
    assert names(db, city, "加藤佐") == {"加藤\u3000佐和"}
    assert names(db, city, "藤佐和") == {"加藤\u3000佐和"}  # three: anywhere


def test_the_resident_number_is_found_as_typed_in_full_width(db, city, person):
    someone = person("番号", "検索")
    wide = someone.number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert names(db, city, wide) == {"番号\u3000検索"}


# -- wildcards are characters ------------------------------------------------------------

def test_percent_and_underscore_list_nobody(db, city, person, clerk_client):
    for n in range(5):
        person("高知", f"太郎{n}")
    for query in ("%", "_", "%%", "__", "%%%", "___", "/", "//%", "\\%_"):
        assert names(db, city, query) == set(), query
    assert "該当する住民はいません" in listed(clerk_client, "%")
    assert "該当する住民はいません" in listed(clerk_client, "_")


def test_a_name_that_holds_a_wildcard_is_found_by_it_literally(db, city, person):
    person("記号", "ア_イウ")
    person("記号", "アXイウ")
    person("百", "%円")
    assert names(db, city, "ア_イ") == {"記号\u3000ア_イウ"}
    assert names(db, city, "%円") == {"百\u3000%円"}
    assert names(db, city, "_") == set()  # no name starts with _


def test_a_nul_in_the_query_is_a_clear_refusal_not_an_error(clerk_client, person):
    """PostgreSQL refuses a NUL in a string: it used to answer 500. The portal's input guard
    (portal/web/bodies.py) now refuses it in every query string, in plain words."""
    person("高知", "太郎")
    for query in ("\x00高知", "高\x00知太"):
        page = clerk_client.get("/registry/residents", query_string={"q": query})
        assert page.status_code == 400
        assert "Traceback" not in page.get_data(as_text=True)


# -- bounded, scoped, kept up to date ----------------------------------------------------

def test_results_are_bounded_and_the_page_says_there_are_more(db, city, person, clerk_client):
    for n in range(LIMIT + 3):
        person("佐藤", f"太郎{n:02d}", "サトウ", "タロウ")
    with db.transaction(city.id) as s:
        found = find_residents(s, "佐藤", Resident.id)
    assert len(found.residents) == LIMIT and found.more
    page = listed(clerk_client, "佐藤")
    assert page.count("佐藤\u3000太郎") == LIMIT
    assert 'id="more-results"' in page
    assert 'id="more-results"' not in listed(clerk_client, "佐藤 太郎00")


def test_each_row_shows_the_status_word_and_links_to_the_record_for_clerks_only(
        make_resident, city, make_staff, sign_in_as):
    """The rows of a listing: status words in the reader's language, and a link to the
    resident's record for those who may open it (registry staff), none for the others."""
    from portal.registry.models import ResidentStatus
    here = make_resident(city, family="佐藤", given="一郎", family_kana="サトウ", given_kana="イチロウ")
    gone = make_resident(city, family="佐藤", given="二郎", family_kana="サトウ", given_kana="ジロウ",
                         status=ResidentStatus.MOVED_OUT)
    clerk = sign_in_as(make_staff(city, roles=("registry_clerk",)))
    page = listed(clerk, "佐藤")
    for person, word in ((here, "住民"), (gone, "転出")):
        assert re.search(rf'<a href="/registry/residents/{person.id}">{person.family_name}\u3000'
                         rf'{person.given_name}</a>.*?<td>{word}</td>', page, re.S), page
        assert clerk.get(f"/registry/residents/{person.id}").status_code == 200
    clerk.get("/lang/en?next=/")
    english = listed(clerk, "佐藤")
    assert "<td>Moved out</td>" in english and "<td>住民</td>" not in english
    health = sign_in_as(make_staff(city, roles=("health_staff",)))
    assert "/registry/residents/" not in listed(health, "佐藤").split("<tbody>")[1]


def test_another_citys_residents_are_never_found(db, city, make_city, person):
    other = make_city("392111", "香南市")
    person("長宗我部", "元親", where=other)
    person("長宗我部", "盛親")
    assert names(db, city, "長宗我部") == {"長宗我部\u3000盛親"}
    assert names(db, city, "長宗我部元親") == set()
    assert names(db, other, "長宗我部") == {"長宗我部\u3000元親"}


def test_a_corrected_name_is_found_by_the_new_name_only(db, city, person):
    someone = person("旧姓", "花子", "キュウセイ", "ハナコ")
    with db.transaction(city.id) as s:
        row = s.get(Resident, someone.id)
        row.family_name, row.family_name_kana = "新姓", "シンセイ"
    assert names(db, city, "新姓花子") == {"新姓\u3000花子"}
    assert names(db, city, "しんせい") == {"新姓\u3000花子"}
    assert names(db, city, "旧姓花子") == set() and names(db, city, "きゅうせい") == set()


def test_imported_residents_are_searchable(db, city):
    import_registry_csv(db, city.id, to_csv(GOOD_ROWS))
    assert names(db, city, "こうちいちろう") == {"高知\u3000一郎"}  # ｺｳﾁ ｲﾁﾛｳ in the file
    assert names(db, city, "土佐ウ") == {"土佐\u3000ウメ"}


def test_the_handbook_and_notebook_searches_are_bounded_too(db, city, person, make_staff,
                                                           sign_in_as):
    for n in range(LIMIT + 1):
        person("佐藤", f"次郎{n:02d}", "サトウ", "ジロウ")
    client = sign_in_as(make_staff(city, roles=("health_staff",)))
    for url in ("/services/maternal_health/staff/", "/services/medication/staff"):
        page = client.get(url, query_string={"q": "佐藤"}).get_data(as_text=True)
        assert page.count("佐藤\u3000次郎") == LIMIT and 'id="more-results"' in page, url


# -- indexes, not a read of every resident ------------------------------------------------

# 100 family names (山本 ヤマモト, 中村 ナカムラ, …), about 1% of the residents each, as the
# commonest real ones are; eight given names.
SYLLABLES = (("山", "ヤマ"), ("田", "タ"), ("中", "ナカ"), ("川", "カワ"), ("木", "キ"),
             ("本", "モト"), ("村", "ムラ"), ("井", "イ"), ("藤", "フジ"), ("野", "ノ"))
GIVEN = (("翔太", "ショウタ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"),
         ("大輔", "ダイスケ"), ("陽菜", "ヒナ"), ("健", "ケン"), ("結衣", "ユイ"))


def fill(db, city, count: int) -> None:
    """`count` residents by Core executemany (the importer's way), keys from the defaults."""
    rows = []
    for n in range(count):
        (first, first_kana), (second, second_kana) = SYLLABLES[n % 10], SYLLABLES[n // 10 % 10]
        given, given_kana = GIVEN[n // 100 % 8]
        rows.append({"municipality_id": city.id, "number": f"B{next(_serial):09d}",
                     "family_name": first + second, "given_name": given + str(n),
                     "family_name_kana": first_kana + second_kana, "given_name_kana": given_kana,
                     "birth_date": date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                     "sex": Sex.FEMALE, "address": "南国市", "relationship_to_head": "世帯主"})
    with db.transaction(city.id) as s:
        for start in range(0, count, 2000):
            s.execute(insert(Resident), rows[start:start + 2000])


def settle(db, city) -> None:
    """Statistics, and the GIN indexes' pending entries merged as autovacuum leaves them."""
    with db.transaction(city.id) as s:
        if s.bind.dialect.name == "postgresql":
            s.execute(text("SELECT gin_clean_pending_list('ix_resident_name_key_trgm'), "
                           "gin_clean_pending_list('ix_resident_kana_key_trgm')"))
        s.execute(text("ANALYZE"))


def plan(db, city, query: str, *settings: str) -> str:
    """The plan of the search statement exactly as the app sends it (tenant criteria too)."""
    with db.transaction(city.id) as s:
        for setting in settings:
            s.execute(text(setting))
        with captured(s) as seen:
            find_residents(s, query, Resident.family_name_kana)
        (statement, parameters), = [(q, p) for q, p in seen if "FROM resident" in q]
        return explained(s, statement, parameters)


QUERIES = ("山本", "林", "やまもと", "中村健", "ヤマモトケン", "B000000007")


def test_the_search_uses_indexes_not_a_scan_of_every_resident(db, city, make_city):
    """Two cities of 8,000 and fresh statistics: for every query, the planner's own plan
    reads only matching rows through the search indexes — the trigram index (pg_trgm or
    FTS5) for three characters or more, the key btrees below that. On PostgreSQL the
    same holds with sequential scans priced out (`enable_seqscan = off`)."""
    other = make_city("392111", "香南市")
    fill(db, city, 8000)
    fill(db, other, 8000)
    settle(db, city)
    dialect = db.engine.dialect.name
    for query in QUERIES:
        plans = [plan(db, city, query)]
        if dialect == "postgresql":
            plans.append(plan(db, city, query, "SET LOCAL enable_seqscan = off"))
        for found in plans:
            reads_only_matches(found, dialect)
            trigram_index = "resident_search_fts VIRTUAL TABLE" if dialect == "sqlite" else "_trgm"
            assert (trigram_index in found) == (len(fold(query)) >= 3), (query, found)


def reads_only_matches(found: str, dialect: str) -> None:
    """Neither a scan of the table nor of the whole city through its municipality index."""
    assert "ix_resident_municipality_id" not in found, found
    if dialect == "sqlite":
        assert not re.search(r"^SCAN resident\b(?!_search_fts)", found, re.M), found
        assert re.search(r"USING INDEX ix_resident_\w+_key|VIRTUAL TABLE", found), found
    else:
        assert "Seq Scan on resident" not in found, found
        assert "Index Cond" in found, found


def test_searches_find_the_rows_the_plans_were_made_for(db, city):
    fill(db, city, 1000)
    with db.transaction(city.id) as s:
        found = find_residents(s, "ヤマモトケン", Resident.id, limit=1000).residents
    assert found and all(r.family_name == "山本" and r.given_name.startswith("健") for r in found)
    assert len(found) == len([n for n in range(1000) if n % 100 == 50 and n // 100 == 6])


# -- the migration -----------------------------------------------------------------------

@pytest.fixture
def url_before_search_keys(database_url, tmp_path):
    """A database of its own, migrated up to the revision before the search keys."""
    with database_of_its_own(database_url, tmp_path / "before.sqlite") as url:
        command.upgrade(alembic_config(url, load_plugins()), "0401")
        yield url


def test_the_migration_fills_the_keys_of_residents_already_there(url_before_search_keys):
    url = url_before_search_keys
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO municipality (code, name, name_en, prefecture, population,"
                          " settings) VALUES ('392049', '南国市', 'Nankoku', '高知県', 1, '{}')"))
        mid = conn.execute(text("SELECT id FROM municipality")).scalar()
        conn.execute(text(
            "INSERT INTO resident (municipality_id, number, family_name, given_name,"
            " family_name_kana, given_name_kana, birth_date, sex, address, relationship_to_head,"
            " status, move_out_filed, support_block) VALUES (:mid, :number, :family, :given,"
            " :family_kana, :given_kana, '1990-01-01', '1', '南国市', '世帯主', 'active',"
            " false, false)"),
            [{"mid": mid, "number": "R1", "family": "長宗我部", "given": "元親　二世",
              "family_kana": "ﾁｮｳｿｶﾍﾞ", "given_kana": "ﾓﾄﾁｶ ﾆｾｲ"},
             {"mid": mid, "number": "R2", "family": "髙橋", "given": "花子",
              "family_kana": "タカハシ", "given_kana": "ハナコ"}])
    engine.dispose()
    upgrade(url, load_plugins())
    db = Database(url)
    try:
        with db.transaction(mid) as s:
            def found(query):
                return {r.number for r in find_residents(s, query, Resident.id).residents}
            assert found("元親二世") == {"R1"} and found("ちょうそかべ") == {"R1"}
            assert found("高橋") == {"R2"} and found("たかはしはなこ") == {"R2"}
            assert s.scalars(select(Resident.name_key).order_by(Resident.number)).all() == [
                "長宗我部元親二世", "高橋花子"]
    finally:
        db.engine.dispose()
