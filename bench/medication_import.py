"""JAHIS お薬手帳 import speed: records parsed, and parsed + stored, per second, beside
Python's `csv` module reading the same bytes in the same run (the ratio is the figure).

With the drug code master: the same import into a database holding a master of
--master-rows HOT rows (MEDIS-DC layout, synthetic), beside the same import without it
(the baseline, rounds interleaved in one database); the goal is ≤ 1.2×. Also the duplicate check of the
imported notebook (services.medication.drug_master.duplicate_report), with and without.

The document is synthetic: N visits of 2 RPs each (5, 11, 15, 51, 55, 2×201, 2×301, 421 →
10 records a visit), CP932 with half-width kana, as a pharmacy's system writes it.
"Stored" imports it into a temporary SQLite database (or --database-url) migrated to head,
in one all-or-nothing transaction, exactly as the import view does.

    python bench/medication_import.py [--visits 2000] [--rounds 3] [--master-rows 40000]
                                      [--database-url URL]
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

from sqlalchemy import delete  # noqa: E402

from portal.db import Database  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.plugins import load_plugins  # noqa: E402
from portal.registry.models import Household, Resident, Sex  # noqa: E402
from portal.tenancy.services import add_municipality  # noqa: E402
from services.medication import drug_master, jahis, services  # noqa: E402
from services.medication.master_files import HOT_COLUMNS, read_master  # noqa: E402
from services.medication.models import MedicationMasterCode, MedicationMasterVersion  # noqa: E402


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


def synthetic_master(rows: int) -> bytes:
    """A HOT code master of `rows` packages in MEDIS-DC's layout, the bench document's
    レセ電 code (ロキソニン 620098801) among them."""
    def row(hot13, rece, yakka, name):
        fields = [hot13, hot13[:7], "01", "01", "01", "", yakka, yakka, rece, "", name, name,
                  name, "1錠", "PTP", "10", "錠", "100", "錠", "内", "製造", "販売", "1", "20241001"]
        return ",".join(f'"{f}"' if f else "" for f in fields)
    lines = [",".join(f'"{c}"' for c in HOT_COLUMNS),
             row("9900001010101", "620098801", "1149019F1560", "ロキソニン錠60mg")]
    lines += [row(f"{1000000000000 + n * 100 + 1}", f"{610000000 + n}",
                  f"{1100 + n % 900:04d}{n % 997:03d}F{n % 10}{n % 1000:03d}", f"薬品{n}")
              for n in range(rows - 1)]
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


def compare_with_master(args, database, city_id, data, counter) -> dict:
    """Import with and without the master loaded, round by round in turn in the same
    database (the master is loaded before each "with" round and removed after it, untimed),
    so both kinds of import meet the same amount of data; then the duplicate check."""
    start = time.perf_counter()
    parsed_master = read_master(synthetic_master(args.master_rows), "MEDIS20241031.TXT")
    with database.transaction() as s:
        drug_master.load(s, parsed_master, "bench")
    load_s = time.perf_counter() - start
    timings = {"without": [], "with": []}
    residents = {}
    for _ in range(args.rounds):
        for key in ("without", "with"):
            with database.transaction() as s:
                if key == "with":
                    drug_master.load(s, parsed_master, "bench")
                else:
                    s.execute(delete(MedicationMasterCode))
                    s.execute(delete(MedicationMasterVersion))
            residents[key] = resident_id = new_resident(database, city_id, next(counter))
            start = time.perf_counter()
            with database.transaction(city_id) as s:
                services.import_document(s, resident_id, jahis.parse(data).document, "file", "bench")
            timings[key].append(time.perf_counter() - start)
    # the master is loaded now (the last round's "with")
    def check(resident_id):
        with database.transaction(city_id) as s:
            report, codes = drug_master.duplicate_report(s, services.dispensed(s, resident_id))
        return report, codes

    with_master = time_it(lambda: check(residents["with"]), args.rounds)
    report_with, codes = check(residents["with"])
    assert codes.loaded and report_with.alerts
    with database.transaction() as s:
        s.execute(delete(MedicationMasterCode))
        s.execute(delete(MedicationMasterVersion))
    without_master = time_it(lambda: check(residents["with"]), args.rounds)
    return {"codes": len(parsed_master.codes), "load_s": load_s,
            "without": statistics.median(timings["without"]),
            "with": statistics.median(timings["with"]),
            "alerts_without": without_master, "alerts_with": with_master}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--master-rows", type=int, default=40000)
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
        master = compare_with_master(args, database, city_id, data, counter)
        database.engine.dispose()

    print(f"document: {len(data):,} bytes, {records:,} records ({args.visits:,} visits), "
          f"database: {'given URL' if args.database_url else 'SQLite (temporary file)'}")
    print(f"{'csv.reader (cp932)':24} {records / csv_s:>12,.0f} records/s  ({csv_s * 1000:8.1f} ms)")
    print(f"{'jahis.parse':24} {records / parse_s:>12,.0f} records/s  ({parse_s * 1000:8.1f} ms)")
    print(f"{'parse + store':24} {records / store_s:>12,.0f} records/s  ({store_s * 1000:8.1f} ms)")
    print(f"ratio csv / jahis.parse:    {parse_s / csv_s:6.1f}× slower")
    print(f"ratio csv / parse + store:  {store_s / csv_s:6.1f}× slower")
    print(f"drug code master: {args.master_rows:,} HOT rows → {master['codes']:,} codes, "
          f"read + loaded in {master['load_s'] * 1000:.0f} ms")
    print(f"{'store, no master':24} {master['without'] * 1000:8.1f} ms   "
          f"{'with master':12} {master['with'] * 1000:8.1f} ms   "
          f"ratio {master['with'] / master['without']:5.2f}× (goal ≤ 1.20×)")
    print(f"{'alerts, no master':24} {master['alerts_without'] * 1000:8.1f} ms   "
          f"{'with master':12} {master['alerts_with'] * 1000:8.1f} ms   "
          f"ratio {master['alerts_with'] / master['alerts_without']:5.2f}×")


if __name__ == "__main__":
    main()
