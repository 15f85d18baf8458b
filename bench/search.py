"""Staff resident search time beside a primary-key lookup measured in the same run.

Builds three cities × N synthetic residents (default 30,000 each, through the registry
importer, so the search keys and indexes are filled the way an import fills them), then
— after VACUUM ANALYZE, as autovacuum would leave the tables — times in the first city,
interleaved so every measurement sees the same conditions:

- baseline: one resident by primary key;
- each query below through `find_residents` (what the registry, handbook and notebook
  searches run: at most 50, ordered by kana, one more row to know there are more);
- the same query as the search this replaced ran it (LIKE '%…%' on the concatenated
  name and kana, no index can help), for comparison.

Prints p50/p95 in ms and each p50 as a multiple of the baseline's. SQLite runs in a
temporary file; `--database-url` adds a PostgreSQL run (its public schema is DROPPED and
made again: name a scratch database).

    .venv/bin/python bench/search.py [--residents 30000] [--rounds 200]
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import or_, select, text  # noqa: E402

from portal.db import Database, scoped  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.plugins import load_plugins  # noqa: E402
from portal.registry.models import Resident  # noqa: E402
from portal.registry.search import find_residents  # noqa: E402
from portal.registry.synthetic import populate  # noqa: E402
from portal.tenancy.services import add_municipality  # noqa: E402

CITIES = (("392049", "南国市"), ("392111", "香南市"), ("392120", "香美市"))
QUERIES = ("佐藤", "林", "さとう", "ｻﾄｳ", "高橋 一", "すずきはなこ", "S000012345")
AS_OF = date(2025, 4, 1)


def build(url: str, residents: int) -> tuple[Database, int]:
    """The three cities, filled; returns the database and the first city's id."""
    upgrade(url, load_plugins())
    db = Database(url)
    ids = []
    for seed, (code, name) in enumerate(CITIES):
        with db.transaction() as s:
            city = add_municipality(s, code, name, settings={"services": []})
        populate(db, city, residents, seed=seed, as_of=AS_OF)
        ids.append(city.id)
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE resident")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return db, ids[0]


def old_search(query: str):
    """The search as it was before the search keys: every resident's name read."""
    like = "%" + "".join(query.split()) + "%"
    return (scoped(Resident, or_((Resident.family_name + Resident.given_name).like(like),
                                 (Resident.family_name_kana + Resident.given_name_kana).like(like),
                                 Resident.number == query))
            .order_by(Resident.family_name_kana, Resident.given_name_kana, Resident.id).limit(51))


def timed(db: Database, mid: int, run) -> tuple[float, int]:
    with db.read(mid) as s:
        started = time.perf_counter()
        found = run(s)
        return time.perf_counter() - started, found


def measure(db: Database, mid: int, rounds: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    with db.read(mid) as s:
        ids = list(s.scalars(select(Resident.id).limit(rounds)))
    runs = {"baseline: resident by primary key": lambda s, i: len([s.get(Resident, i)])}
    for query in QUERIES:
        runs[f"search {query!r}"] = lambda s, i, q=query: len(find_residents(
            s, q, Resident.family_name_kana, Resident.given_name_kana).residents)
        runs[f"  before: {query!r}"] = lambda s, i, q=query: len(s.scalars(old_search(q)).all())
    samples: dict[str, list[float]] = {label: [] for label in runs}
    found: dict[str, int] = {}
    for round_ in range(rounds + 3):
        for label, run in runs.items():
            elapsed, count = timed(db, mid, lambda s: run(s, ids[round_ % len(ids)]))
            if round_ >= 3:  # the first rounds warm caches and statements
                samples[label].append(elapsed)
                found[label] = count
    return samples, found


def report(title: str, samples: dict[str, list[float]], found: dict[str, int]) -> None:
    def ms(values, share):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000
    base = statistics.median(next(iter(samples.values()))) * 1000
    print(f"\n{title}")
    print(f"{'measurement':<36}{'found':>6}{'p50 ms':>9}{'p95 ms':>9}{'× baseline':>12}")
    for label, values in samples.items():
        p50 = statistics.median(values) * 1000
        print(f"{label:<36}{found[label]:>6}{p50:>9.2f}{ms(values, 0.95):>9.2f}{p50 / base:>12.1f}")


def run(url: str, residents: int, rounds: int, title: str) -> None:
    started = time.perf_counter()
    db, mid = build(url, residents)
    print(f"{title}: {len(CITIES)} cities × {residents:,} residents built in "
          f"{time.perf_counter() - started:.0f} s")
    samples, found = measure(db, mid, rounds)
    report(f"{title}, {len(CITIES)} × {residents:,} residents, {rounds} rounds", samples, found)
    db.engine.dispose()


def wipe(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=30_000, help="per city")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (wiped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/search.sqlite", args.residents, args.rounds, "SQLite")
    if args.database_url:
        wipe(args.database_url)
        run(args.database_url, args.residents, args.rounds, "PostgreSQL")


if __name__ == "__main__":
    main()
