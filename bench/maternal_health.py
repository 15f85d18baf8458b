"""Growth-chart render time and child-page latency of the maternal_health service.

Builds a temporary SQLite database with one city, N children (default 10,000) each with a
guardian and 15 records (5 checkups with weight/height/head, 10 immunisations), then in
the same run, through Flask's test client:

- growth chart: time to render one SVG chart (3 per child page) from 6 points;
- child page: GET /services/maternal_health/children/<id> as the child's guardian
  (records, schedule engine, 3 charts, access log write);
- bare page: GET / as the same guardian (the portal's home: base template + menu), the
  floor every page of the app pays.

    .venv/bin/python bench/maternal_health.py [--children 10000] [--requests 300]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.api import GuardianLink, Household, Resident, Sex  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.plugins import load_plugins  # noqa: E402
from portal.tenancy.services import add_municipality  # noqa: E402
from services.maternal_health import growth  # noqa: E402
from services.maternal_health.models import ChildCheckup, Immunisation  # noqa: E402
from services.maternal_health.schedule import add_months  # noqa: E402

TODAY = date(2025, 3, 1)
CHECKUP_AGES = (("m1", 1), ("m3_4", 3), ("m6_7", 6), ("m9_10", 9), ("y1", 12))
VACCINES = (("dpt_ipv_hib", (2, 3, 4)), ("pcv", (2, 3, 4)), ("hepb", (2, 3)),
            ("rota", (2,)), ("bcg", (5,)))   # 10 doses


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000)


def build_app(url: str, anchor: Path):
    return create_app({"ENV": "production", "SECRET_KEY": "bench-secret-" + "x" * 40,
                       "DATABASE_URL": url, "CARD_TRUST_ANCHORS": [str(anchor)],
                       "OIDC_ISSUER": "https://portal.test",
                       "TESTING": True, "MATERNAL_HEALTH_TODAY": TODAY.isoformat()})


def populate(db, children: int, seed: int = 5) -> tuple[int, list[tuple[int, int, str]]]:
    """One city with `children` children, each with a guardian and 15 records."""
    with db.transaction() as s:
        city = add_municipality(s, "392049", "南国市", settings={"services": ["maternal_health"]})
    return city.id, add_families(db, city.id, children, seed)


def add_families(db, mid: int, children: int, seed: int = 5,
                 today: date = TODAY) -> list[tuple[int, int, str]]:
    """`children` children of city `mid` born 400–1800 days before `today`, each with a
    guardian and 15 records, written by bulk inserts; (guardian, child, guardian's name)."""
    rng = random.Random(seed)
    with db.transaction(mid) as s:
        conn = s.connection()
        conn.execute(insert(Household), [
            {"municipality_id": mid, "number": f"H{i:07d}", "head_name": "高知　花子",
             "address": f"南国市大そね{i}番地"} for i in range(children)])
        homes = dict(conn.execute(select(Household.number, Household.id)
                                  .where(Household.municipality_id == mid)).all())
        people = []
        for i in range(children):
            birth = today - timedelta(days=rng.randint(400, 1800))
            common = {"municipality_id": mid, "household_id": homes[f"H{i:07d}"],
                      "address": f"南国市大そね{i}番地", "family_name": "高知",
                      "family_name_kana": "コウチ", "status": "active", "move_out_filed": False,
                      "support_block": False}
            people.append({**common, "number": f"G{i:08d}", "given_name": "花子",
                           "given_name_kana": "ハナコ", "birth_date": date(1992, 1, 1),
                           "sex": Sex.FEMALE, "relationship_to_head": "世帯主"})
            people.append({**common, "number": f"C{i:08d}", "given_name": f"子{i}",
                           "given_name_kana": "コ", "birth_date": birth,
                           "sex": rng.choice((Sex.MALE, Sex.FEMALE)), "relationship_to_head": "子"})
        conn.execute(insert(Resident), people)
        mine = Resident.municipality_id == mid
        ids = dict(conn.execute(select(Resident.number, Resident.id).where(mine)).all())
        births = dict(conn.execute(select(Resident.id, Resident.birth_date).where(mine)).all())
        pairs = [(ids[f"G{i:08d}"], ids[f"C{i:08d}"]) for i in range(children)]
        conn.execute(insert(GuardianLink), [{"municipality_id": mid, "guardian_id": g,
                                             "child_id": c} for g, c in pairs])
        entered = {"municipality_id": mid, "entered_by_name": "bench",
                   "entered_at": datetime(2025, 1, 1)}
        checkups, doses = [], []
        for _, child in pairs:
            birth = births[child]
            for occasion, months in CHECKUP_AGES:
                band = growth.band_at(growth.Measure.WEIGHT, "male", months)
                checkups.append({**entered, "child_id": child, "occasion": occasion,
                                 "checked_on": add_months(birth, months),
                                 "weight_kg": round(band.at(50) * rng.uniform(0.85, 1.15), 2),
                                 "height_cm": round(50 + months * 2.2, 1),
                                 "head_cm": round(36 + months * 0.8, 1)})
            for vaccine, ages in VACCINES:
                for n, months in enumerate(ages, 1):
                    doses.append({**entered, "child_id": child, "vaccine": vaccine,
                                  "dose_number": n, "given_on": add_months(birth, months),
                                  "product": "rotarix" if vaccine == "rota" else None})
        conn.execute(insert(ChildCheckup), checkups)
        conn.execute(insert(Immunisation), doses)
    return [(g, c, "高知　花子") for g, c in pairs]


def sign_in(client, guardian_id: int, mid: int, name: str) -> None:
    """A signed-in guardian as the card login would leave it: a server-side session and
    its token in the cookie."""
    from portal.sessions.services import open_session
    with client.application.extensions["madoguchi.db"].transaction() as db:
        token = open_session(db, "resident", guardian_id, mid, False)
    with client.session_transaction() as sess:
        sess.clear()
        sess["sid"], sess["kiosk"] = token, False
        sess["viewer"] = {"kind": "resident", "id": guardian_id, "mid": mid, "name": name,
                          "roles": []}


def time_get(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return elapsed


def bench_chart(rounds: int) -> list[float]:
    birth = date(2024, 1, 10)
    points = [growth.Point(add_months(birth, m), 3.0 + m * 0.5, m == 6) for m in (0, 1, 3, 6, 9, 12)]
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        growth.growth_chart_svg(growth.Measure.WEIGHT, ("male", "female")[i % 2], birth,
                                points, "体重")
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        anchor = Path(tmp) / "ca.pem"
        anchor.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
        upgrade(url, load_plugins())
        app = build_app(url, anchor)
        db = app.extensions["madoguchi.db"]
        started = time.perf_counter()
        mid, families = populate(db, args.children)
        print(f"populated {args.children} children × 15 records in "
              f"{time.perf_counter() - started:.1f} s (SQLite, {url})")
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        sample = random.Random(7).sample(families, min(args.requests, len(families)))
        guardian, child, name = sample[0]
        sign_in(client, guardian, mid, name)
        for _ in range(5):  # warm templates and caches
            time_get(client, f"/services/maternal_health/children/{child}")
            time_get(client, "/")
        bare, page = [], []
        for guardian, child, name in sample:   # interleaved, so both see the same conditions
            sign_in(client, guardian, mid, name)
            bare.append(time_get(client, "/"))
            page.append(time_get(client, f"/services/maternal_health/children/{child}"))
        chart = bench_chart(2000)
    print(f"{'measurement':<34}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}")
    for label, samples in (("growth chart SVG (1 chart)", chart),
                           ("bare page GET / (guardian)", bare),
                           ("child page GET /children/<id>", page)):
        p50, p95 = percentiles(samples)
        print(f"{label:<34}{len(samples):>6}{p50:>10.2f}{p95:>10.2f}")
    (bare50, bare95), (page50, page95) = percentiles(bare), percentiles(page)
    print(f"ratio child page / bare page: p50 {page50 / bare50:.2f}x, p95 {page95 / bare95:.2f}x")


if __name__ == "__main__":
    main()
