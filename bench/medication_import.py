"""JAHIS お薬手帳 import speed: records parsed, and parsed + stored, per second, beside
Python's `csv` module reading the same bytes in the same run (the ratio is the figure).

The document is synthetic: N visits of 2 RPs each (5, 11, 15, 51, 55, 2×201, 2×301, 421 →
10 records a visit), CP932 with half-width kana, as a pharmacy's system writes it.
"Stored" imports it into a temporary SQLite database (or --database-url) migrated to head,
in one all-or-nothing transaction, exactly as the import view does.

    python bench/medication_import.py [--visits 2000] [--rounds 3] [--database-url URL]
"""
from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.db import Database  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.plugins import load_plugins  # noqa: E402
from portal.registry.models import Household, Resident, Sex  # noqa: E402
from portal.tenancy.services import add_municipality  # noqa: E402
from services.medication import jahis, services  # noqa: E402


def synthetic_document(visits: int) -> bytes:
    lines = ["JAHISTC08,1", "1,高知 花子,2,19900401,,,,,,,", "2,1,ペニシリンで発疹,1"]
    day = date(2015, 1, 1)
    for n in range(visits):
        day += timedelta(days=3)
        lines += [f"5,{day:%Y%m%d},1", f"11,はりまや薬局{n % 7},39,4,04{n % 7:05d},,,,1",
                  "15,薬剤師 太郎,,1", "51,高知中央病院,39,1,0123456,1", "55,土佐 一郎,内科,1",
                  f"201,1,ｱﾑﾛｼﾞﾋﾟﾝ錠5mg{n},1,錠,4,2171022F1022,1,,,",
                  "301,1,1日1回朝食後,28,日分,1,1,,1",
                  f"201,2,ﾛｷｿﾆﾝ錠60mg{n},3,錠,2,620098801,1,,,", "301,2,毎食後,7,日分,1,1,,1",
                  "421,残薬なし,1"]
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def record_count(data: bytes) -> int:
    return data.count(b"\r\n")


def time_it(fn, rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def csv_read(data: bytes) -> int:
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="cp932", newline=""))
    return sum(1 for _row in reader)


def prepare_database(url: str) -> tuple[Database, int, list[int]]:
    upgrade(url, load_plugins())
    database = Database(url)
    with database.transaction() as s:
        city = add_municipality(s, "392049", "南国市", settings={"services": ["medication"]})
    return database, city.id, []


def new_resident(database: Database, city_id: int, n: int) -> int:
    with database.transaction(city_id) as s:
        home = Household(number=f"B{n:07d}", head_name="高知 花子", address="南国市1")
        s.add(home)
        s.flush()
        person = Resident(number=f"B{n:08d}", household_id=home.id, family_name="高知",
                          given_name="花子", family_name_kana="コウチ", given_name_kana="ハナコ",
                          birth_date=date(1990, 4, 1), sex=Sex.FEMALE, address="南国市1",
                          relationship_to_head="世帯主")
        s.add(person)
    return person.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    data = synthetic_document(args.visits)
    records = record_count(data)
    assert csv_read(data) == records
    result = jahis.parse(data)
    assert result.ok, result.errors[:3]

    csv_s = time_it(lambda: csv_read(data), args.rounds)
    parse_s = time_it(lambda: jahis.parse(data), args.rounds)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        database, city_id, _ = prepare_database(url)
        counter = iter(range(10**6))

        def parse_and_store():
            resident_id = new_resident(database, city_id, next(counter))
            with database.transaction(city_id) as s:
                outcome = services.import_document(s, resident_id, jahis.parse(data).document,
                                                   "file", "bench")
            assert outcome.visits_added == args.visits

        store_s = time_it(parse_and_store, args.rounds)
        database.engine.dispose()

    print(f"document: {len(data):,} bytes, {records:,} records ({args.visits:,} visits), "
          f"database: {'given URL' if args.database_url else 'SQLite (temporary file)'}")
    print(f"{'csv.reader (cp932)':24} {records / csv_s:>12,.0f} records/s  ({csv_s * 1000:8.1f} ms)")
    print(f"{'jahis.parse':24} {records / parse_s:>12,.0f} records/s  ({parse_s * 1000:8.1f} ms)")
    print(f"{'parse + store':24} {records / store_s:>12,.0f} records/s  ({store_s * 1000:8.1f} ms)")
    print(f"ratio csv / jahis.parse:    {parse_s / csv_s:6.1f}× slower")
    print(f"ratio csv / parse + store:  {store_s / csv_s:6.1f}× slower")


if __name__ == "__main__":
    main()
