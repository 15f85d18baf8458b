"""Apportionment and city export/delete timings of the joint-cloud operations.

- split: time to apportion one cost line among 3 and among 100 members (exact fractions);
- report: 60 cost lines × 3 members from stored inputs (build + CSV + SVG + PDF);
- export / delete / import: one city of N residents (default 20,000, each with a
  household, an access-log entry and a usage event) in a temporary SQLite database, beside
  a second city that must stay; the baseline is the bare bulk insert that seeded the same
  rows, and the ratios to it are printed.

    .venv/bin/python bench/joint_cloud.py [--residents 20000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from portal.audit.models import AccessLogEntry  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.jointcloud import example, leaving, receipt, report, services  # noqa: E402
from portal.jointcloud.apportion import Formula, Member, split  # noqa: E402
from portal.metering.models import UsageEvent  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.plugins import load_plugins  # noqa: E402
from portal.registry.models import Household, Resident  # noqa: E402
from portal.tenancy.services import add_municipality  # noqa: E402


LAST = {}  # label -> seconds, for the ratios


def timed(label: str, fn, repeat: int = 1):
    start = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    elapsed = (time.perf_counter() - start) / repeat
    LAST[label] = elapsed
    print(f"{label:<48} {elapsed * 1000:10.2f} ms")
    return result


def bench_split() -> None:
    three = [Member(c, p, p // 10) for c, p in (("392049", 47982), ("392111", 32961),
                                                  ("392120", 27513))]
    hundred = [Member(f"{100000 + i}", 1000 + 37 * i, i) for i in range(100)]
    timed("split 1 line, 3 members", lambda: split(206_010_991, Formula(30, 60, 10), three), 2000)
    timed("split 1 line, 100 members", lambda: split(206_010_991, Formula(30, 60, 10), hundred), 200)


def seed_city(db: Database, code: str, name: str, residents: int) -> int:
    with db.transaction() as s:
        city = add_municipality(s, code, name, population=residents)
        mid = city.id
    with db.transaction(mid) as s:
        s.execute(insert(Household), [dict(municipality_id=mid, number=f"H{i}", head_name="世帯主",
                                           address="住所") for i in range(residents)])
        ids = s.scalars(Household.__table__.select().with_only_columns(Household.id)
                        .where(Household.municipality_id == mid)).all()
        s.execute(insert(Resident), [dict(
            municipality_id=mid, number=f"R{i}", household_id=h, family_name="高知",
            given_name="花子", family_name_kana="コウチ", given_name_kana="ハナコ",
            birth_date=date(1990, 4, 1), sex="2", address="住所", relationship_to_head="世帯主",
            status="active", move_out_filed=False, support_block=False)
            for i, h in enumerate(ids)])
        people = s.scalars(Resident.__table__.select().with_only_columns(Resident.id)
                           .where(Resident.municipality_id == mid)).all()
        s.execute(insert(AccessLogEntry), [dict(
            municipality_id=mid, occurred_at=datetime(2025, 1, 1), actor_type="system",
            actor_name="system", actor_role="system", subject_resident_id=p, action="read",
            resource="registry.resident", purpose="bench", request_path="") for p in people])
        s.execute(insert(UsageEvent), [dict(municipality_id=mid, occurred_at=datetime(2025, 5, 1),
                                            service="core", metric="sign_in", amount=1)
                                       for _ in people])
    return mid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20_000)
    args = parser.parse_args()
    bench_split()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        upgrade(url, load_plugins())
        db = Database(url)
        with db.transaction() as s:
            example.load(s)
        with db.transaction() as s:
            built = timed("report build (6 lines, stored inputs)", lambda: report.build(s), 20)
        timed("report CSV", lambda: report.to_csv(built), 20)
        timed("report SVG", lambda: report.to_svg(built), 20)
        timed("report PDF (font embedded)", lambda: report.to_pdf(built), 3)
        seed_city(db, "392049", "南国市", 1000)
        timed(f"seed city of {args.residents} residents", lambda: seed_city(
            db, "392120", "香美市", args.residents))
        out = Path(tmp) / "export"
        with db.transaction() as s:
            manifest = timed("export city", lambda: leaving.export_city(s, "392120", out))
        rows = sum(t["rows"] for t in manifest["tables"].values())
        print(f"{'  rows exported':<48} {rows:10d}")
        key = receipt.load_or_create_key(Path(tmp) / "key.pem")
        with db.transaction() as s:
            timed("delete city + signed receipt (one transaction)",
                  lambda: services.depart(s, "392120", out, key))
        fresh_url = f"sqlite:///{tmp}/fresh.sqlite"
        upgrade(fresh_url, load_plugins())
        fresh = Database(fresh_url)
        with fresh.transaction() as s:
            timed("import city into a fresh deployment", lambda: leaving.import_city(s, out))
        seed = LAST[f"seed city of {args.residents} residents"]
        for label, what in (("export city", "export"),
                            ("delete city + signed receipt (one transaction)", "delete"),
                            ("import city into a fresh deployment", "import")):
            print(f"{'ratio ' + what + ' / bare insert of the same rows':<48} "
                  f"{LAST[label] / seed:9.2f}x")
        db.engine.dispose()
        fresh.engine.dispose()


if __name__ == "__main__":
    main()
