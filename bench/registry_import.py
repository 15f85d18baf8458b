"""Benchmark: importing N synthetic residents through the registry importer, beside a
baseline measured in the same run — bare Core `executemany` of the same rows into the same
tables (households, residents, guardian links, seals, taxes), without any check.

Each measurement runs in its own child process so that its peak memory is its own:
memory is the child's peak resident set size, `resource.getrusage(RUSAGE_SELF).ru_maxrss`
(interpreter, SQLAlchemy and driver included; tracemalloc would miss the C drivers and
slow the run). Time is wall-clock from reading the CSV file to the commit.

    python bench/registry_import.py                       # 100,000 residents, SQLite temp file
    python bench/registry_import.py --residents 20000
    python bench/registry_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import delete, insert, select

from portal.db import Database
from portal.migrate import upgrade
from portal.plugins import load_plugins
from portal.registry.importer import TAX_KEYS, _batches, import_registry_csv
from portal.registry.models import (GuardianLink, Household, Resident, SealRegistration,
                                    TaxRecord)
from portal.registry.synthetic import generate_rows, write_csv
from portal.tenancy.models import Municipality
from portal.tenancy.services import add_municipality, check_digit

AS_OF = date(2025, 4, 1)


def main() -> None:
    args = _arguments()
    if args.child:
        print(json.dumps(_child(args)))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        csv_path = Path(folder) / "residents.csv"
        started = time.perf_counter()
        write_csv(csv_path, generate_rows("南国市", args.residents, args.seed, as_of=AS_OF))
        print(f"generated {args.residents:,} residents in {time.perf_counter() - started:.1f} s "
              f"({csv_path.stat().st_size / 1e6:.1f} MB CSV)")
        upgrade(url, load_plugins())
        cities = _cities(url)
        try:
            baseline = _run_child(args, url, csv_path, "baseline", cities[0])
            imported = _run_child(args, url, csv_path, "import", cities[1])
        finally:
            _clean(url, cities)
    _report(args, url, baseline, imported)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--child", choices=["baseline", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--municipality-id", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def _cities(url: str) -> list[int]:
    """Two throwaway municipalities (valid codes 99xxx + check digit), one per measurement,
    so the two runs insert the same numbers without clashing."""
    database = Database(url)
    ids = []
    with database.transaction() as s:
        for attempt in range(1000):
            code = f"99{attempt:03d}"
            code += str(check_digit(code))
            try:
                with s.begin_nested():
                    ids.append(add_municipality(s, code, f"ベンチ{len(ids) + 1}").id)
            except ValueError:
                continue  # taken by an earlier, interrupted run
            if len(ids) == 2:
                break
    database.engine.dispose()
    return ids


def _run_child(args, url: str, csv_path: Path, mode: str, municipality_id: int) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--csv", str(csv_path),
               "--municipality-id", str(municipality_id), "--database-url", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _child(args) -> dict:
    database = Database(args.database_url)
    started = time.perf_counter()
    if args.child == "baseline":
        rows = _bare_insert(database, args.municipality_id, Path(args.csv))
    else:
        rows = import_registry_csv(database, args.municipality_id, Path(args.csv)).residents
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    database.engine.dispose()
    return {"rows": rows, "seconds": seconds, "peak_mib": peak_kib / 1024}


def _bare_insert(database: Database, municipality_id: int, path: Path) -> int:
    """The floor: executemany of the same rows the import writes (households, residents,
    guardian links, seals, taxes), read from the CSV converting only what the column types
    demand; ids read back by number, as the import must. No checks at all."""
    mid = municipality_id
    with database.engine.begin() as connection:
        households = {}
        for row in _csv_rows(path):
            households.setdefault(row["household_number"], {
                "municipality_id": mid, "number": row["household_number"],
                "head_name": row["household_head_name"], "address": row["household_address"]})
        _insert_all(connection, Household.__table__, households.values())
        household_ids = _ids(connection, Household, mid)
        resident_ids, guardians, count = {}, [], 0
        for batch in _batches(_csv_rows(path)):
            connection.execute(insert(Resident.__table__), [_bare_resident(row, mid, household_ids)
                                                            for row in batch])
            resident_ids.update(_ids(connection, Resident, mid, [row["resident_number"] for row in batch]))
            _bare_extras(connection, batch, mid, resident_ids)
            guardians += [(g, row["resident_number"]) for row in batch
                          for g in row["guardian_numbers"].split(";") if g]
            count += len(batch)
        _insert_all(connection, GuardianLink.__table__, (
            {"municipality_id": mid, "guardian_id": resident_ids[g], "child_id": resident_ids[c]}
            for g, c in guardians))
    return count


def _csv_rows(path: Path):
    with open(path, encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def _insert_all(connection, table, rows) -> None:
    for batch in _batches(rows):
        connection.execute(insert(table), batch)


def _ids(connection, model, mid: int, numbers=None) -> dict[str, int]:
    query = select(model.number, model.id).where(model.municipality_id == mid)
    if numbers is not None:
        query = query.where(model.number.in_(numbers))
    return dict(connection.execute(query).all())


def _bare_resident(row: dict, mid: int, household_ids: dict[str, int]) -> dict:
    return {"municipality_id": mid, "number": row["resident_number"],
            "household_id": household_ids[row["household_number"]], "family_name": row["family_name"],
            "given_name": row["given_name"], "family_name_kana": row["family_name_kana"],
            "given_name_kana": row["given_name_kana"],
            "birth_date": date.fromisoformat(row["birth_date"]), "sex": row["sex"],
            "address": row["address"], "relationship_to_head": row["relationship_to_head"],
            "status": row["status"], "move_out_filed": row["move_out_filed"] == "1",
            "support_block": row["support_block"] == "1", "honseki": row["honseki"] or None,
            "hittosha": row["hittosha"] or None}


def _bare_extras(connection, batch: list[dict], mid: int, ids: dict[str, int]) -> None:
    seals = [{"municipality_id": mid, "resident_id": ids[row["resident_number"]], "active": True,
              "registration_number": row["seal_number"],
              "registered_on": date.fromisoformat(row["seal_registered_on"])}
             for row in batch if row["seal_number"]]
    taxes = [{"municipality_id": mid, "resident_id": ids[row["resident_number"]],
              **{key: int(value) for key, value in zip(TAX_KEYS, year)}}
             for row in batch if row["fiscal_year"]
             for year in zip(*(row[key].split(";") for key in TAX_KEYS))]
    if seals:
        connection.execute(insert(SealRegistration.__table__), seals)
    if taxes:
        connection.execute(insert(TaxRecord.__table__), taxes)


def _clean(url: str, cities: list[int]) -> None:
    """Leave a PostgreSQL database as it was found."""
    database = Database(url)
    with database.engine.begin() as connection:
        for model in (TaxRecord, SealRegistration, GuardianLink, Resident, Household):
            connection.execute(delete(model.__table__).where(model.municipality_id.in_(cities)))
        connection.execute(delete(Municipality.__table__).where(Municipality.id.in_(cities)))
    database.engine.dispose()


def _report(args, url: str, baseline: dict, imported: dict) -> None:
    backend = url.split(":", 1)[0]
    print(f"\nregistry import benchmark: {args.residents:,} residents on {backend}")
    print(f"{'':34}{'time':>10}{'rows/s':>12}{'peak RSS':>12}")
    for label, figures in (("baseline (bare executemany)", baseline),
                           ("import_registry_csv", imported)):
        rate = figures["rows"] / figures["seconds"]
        print(f"{label:34}{figures['seconds']:>9.2f}s{rate:>12,.0f}{figures['peak_mib']:>9.0f} MiB")
    print("peak memory: ru_maxrss of each measurement's own child process. Both write the same "
          "rows; the import also decodes, validates every cell and checks the whole file.")
    print(f"{'ratio import / baseline':34}{imported['seconds'] / baseline['seconds']:>9.2f}x"
          f"{'':12}{imported['peak_mib'] / baseline['peak_mib']:>9.2f}x")


if __name__ == "__main__":
    main()
