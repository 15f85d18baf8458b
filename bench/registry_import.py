"""Benchmark: importing N synthetic residents through the registry importer, beside a
baseline measured in the same run — a bare Core `executemany` of the same resident rows
into the same `resident` table, without validation, households, guardians, seals or taxes.

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

from sqlalchemy import delete, insert

from portal.db import Database
from portal.migrate import upgrade
from portal.plugins import load_plugins
from portal.registry.importer import BATCH, import_registry_csv
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
    """The floor: read the CSV, convert only what the column types demand, executemany."""
    count = 0
    with database.engine.begin() as connection, open(path, encoding="utf-8", newline="") as f:
        batch = []
        for row in csv.DictReader(f):
            batch.append({
                "municipality_id": municipality_id, "number": row["resident_number"],
                "household_id": None, "family_name": row["family_name"],
                "given_name": row["given_name"], "family_name_kana": row["family_name_kana"],
                "given_name_kana": row["given_name_kana"],
                "birth_date": date.fromisoformat(row["birth_date"]), "sex": row["sex"],
                "address": row["address"], "relationship_to_head": row["relationship_to_head"],
                "status": row["status"], "move_out_filed": row["move_out_filed"] == "1",
                "support_block": row["support_block"] == "1", "honseki": row["honseki"] or None,
                "hittosha": row["hittosha"] or None})
            if len(batch) == BATCH:
                connection.execute(insert(Resident.__table__), batch)
                count, batch = count + len(batch), []
        if batch:
            connection.execute(insert(Resident.__table__), batch)
            count += len(batch)
    return count


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
    print(f"{'ratio import / baseline':34}{imported['seconds'] / baseline['seconds']:>9.2f}x"
          f"{'':12}{imported['peak_mib'] / baseline['peak_mib']:>9.2f}x")
    print("peak memory: ru_maxrss of each measurement's own child process. The import also "
          "validates every cell and writes households, guardian links, seals and taxes.")


if __name__ == "__main__":
    main()
