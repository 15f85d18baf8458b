"""The portal under concurrent load on its production server, each page beside a bare route.

Builds the data set of issue 11 — 3 cities × 30,000 residents (the registry generator),
10,000 children × 15 handbook records (bench/maternal_health.py), 3,000 medication
notebooks (bench/medication_import.py's document) — by bulk inserts; starts gunicorn with
2 sync workers on production settings (portal/gunicorn.conf.py plus a counting hook,
bench/wrk/gunicorn.conf.py) on PostgreSQL and/or the embedded SQLite; and runs Debian's
`wrk` (bench/wrk/load.lua) against 127.0.0.1:

- bare route `/healthz` (no database): the baseline of every ratio;
- home `/` and `/me/` as a signed-in resident; a guardian's child page (maternal_health);
  the medication timeline; staff resident search `/registry/residents?q=佐藤`;
- the card login `POST /auth/card`: one challenge per login, made beforehand in the
  database, each token signed by the in-process virtual card of the test PKI;
- the terminal payment `POST …/convenience_issuance/api/v1/request/payment`: one quoted
  request per payment, made beforehand.

Pages run at 1 and 16 clients, the card login at 1 and 8. For each it prints requests/s,
p50/p95/p99, non-2xx answers, the ratio to the bare route at the same number of clients,
and SQL statements and transactions per request as counted inside the workers.

    python bench/load.py --db postgres|sqlite|both --scale 0.05 --duration 3
    (PostgreSQL: --postgres-url or MADOGUCHI_BENCH_POSTGRES_URL; the bench works in a
     schema of its own, bench_load_<pid>, dropped at the end unless --keep)
"""
from __future__ import annotations

import argparse
import json
import mmap
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from sqlalchemy import select, text  # noqa: E402

from bench.maternal_health import add_families  # noqa: E402
from bench.medication_import import synthetic_document  # noqa: E402
from portal import create_app  # noqa: E402
from portal.cards.services import bind, issue_challenge  # noqa: E402
from portal.cards.validation import TOKEN_FORMAT, ValidatedCertificate, signed_data  # noqa: E402
from portal.clock import today_jst  # noqa: E402
from portal.db import across_municipalities, make_engine  # noqa: E402
from portal.demo import DEMO_CITIES  # noqa: E402
from portal.migrate import upgrade  # noqa: E402
from portal.plugins import discover, load_plugins  # noqa: E402
from portal.registry.models import Resident, ResidentStatus  # noqa: E402
from portal.registry.synthetic import populate  # noqa: E402
from portal.sessions.services import open_session  # noqa: E402
from portal.staff.services import create_staff  # noqa: E402
from portal.tenancy.services import add_municipality  # noqa: E402

GUNICORN_CONF = BENCH / "wrk" / "gunicorn.conf.py"
LUA = BENCH / "wrk" / "load.lua"
ORIGIN = "https://portal.bench.invalid"      # the origin the card signs (PUBLIC_ORIGIN)
SECRET = "bench-load-" + "k" * 40
SEARCH = "/registry/residents?q=%E4%BD%90%E8%97%A4"   # 佐藤
PAYMENT = "/services/convenience_issuance/api/v1/request/payment"
FEE = 200
SIGNED_IN = 20          # residents, guardians and staff sessions the page requests rotate over
COUNTER_SLOTS, COUNTER_FIELDS = 64, 3

# (page, clients); the bare route runs at every number of clients used, first.
RUNS = [("bare", 1), ("home", 1), ("me", 1), ("child", 1), ("medication", 1), ("search", 1),
        ("payment", 1), ("card login", 1),
        ("bare", 8), ("card login", 8),
        ("bare", 16), ("home", 16), ("me", 16), ("child", 16), ("medication", 16),
        ("search", 16), ("payment", 16)]
ONE_USE = {"card login", "payment"}


@dataclass(frozen=True)
class Scale:
    residents: int     # per city
    children: int      # in the first city, each with a guardian; counted in its residents
    notebooks: int     # across the cities
    visits: int        # per notebook (10 JAHIS records each)

    @classmethod
    def of(cls, factor: float, visits: int) -> "Scale":
        return cls(max(60, int(30_000 * factor)), max(10, int(10_000 * factor)),
                   max(6, int(3_000 * factor)), visits)


@dataclass
class Dataset:
    app: object
    families: list[tuple[int, int, str]]
    notebook_holders: list[tuple[int, int, str]]       # (resident, city, name)
    staff: tuple[int, int, str]
    card: object
    city_id: int
    payers: list[int] = field(default_factory=list)


# -- configuration ---------------------------------------------------------------------------

def portal_settings(url: str, pki, instance: Path) -> dict:
    """Production settings for the server and for the in-process app that prepares data.
    Rate limits are lifted (all clients come from 127.0.0.1 and one card); the limiter
    still runs and its cost is measured."""
    crls = sorted(str(p) for p in (pki.directory / "crl").glob("*.crl"))
    return {"ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": url,
            "CARD_TRUST_ANCHORS": [str(pki.directory / f"auth-ca-g{g}.pem") for g in (1, 2)],
            "CARD_CRLS": crls, "PUBLIC_ORIGIN": ORIGIN, "INSTANCE_PATH": str(instance),
            "AUTH_RATE_LIMIT": "10000000/minute", "AUTH_CERT_RATE_LIMIT": "10000000/minute",
            "RATE_LIMIT_STORAGE": rate_limit_storage()}


def rate_limit_storage() -> str:
    """Redis when it answers, as docs/deployment.md has several workers share their counts;
    else each worker's memory (limits' memory store starts a timer thread on every hit)."""
    url = os.environ.get("BENCH_RATE_LIMIT_STORAGE", "redis://127.0.0.1:6379")
    try:
        import redis
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return url
    except Exception:
        return "memory://"


def as_environ(settings: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "GUNICORN"))}
    for key, value in settings.items():
        env["MADOGUCHI_" + key] = ",".join(value) if isinstance(value, list) else str(value)
    return env


# -- the data set ----------------------------------------------------------------------------

def step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label:<52} {now - started:7.1f} s", flush=True)
    return now


def build(url: str, scale: Scale, pki, instance: Path) -> Dataset:
    """Migrate and fill the database; every bulk part goes through the project's generators."""
    t = started = time.perf_counter()
    upgrade(url, load_plugins())
    app = create_app(portal_settings(url, pki, instance))
    db = app.extensions["madoguchi.db"]
    t = step("migrations", t)
    always_open = {"hours": {"open": "00:00", "close": "23:59:59"}, "closed_days": []}
    with db.transaction() as s:
        cities = [add_municipality(s, c["code"], c["name"], name_en=c["name_en"],
                                   prefecture="高知県", population=c["population"],
                                   settings={"services": list(discover()),
                                             "convenience_issuance": always_open})
                  for c in DEMO_CITIES]
    for index, city in enumerate(cities):
        own = scale.residents - (2 * scale.children if index == 0 else 0)
        populate(db, city, max(own, 10), seed=2017 + index)
    t = step(f"{len(cities)} cities × {scale.residents:,} residents (registry generator)", t)
    families = add_families(db, cities[0].id, scale.children, today=today_jst())
    t = step(f"{scale.children:,} children × 15 handbook records", t)
    holders = add_notebooks(db, cities, scale)
    t = step(f"{scale.notebooks:,} medication notebooks × {scale.visits} visits", t)
    with db.transaction(cities[0].id) as s:
        staff = create_staff(s, cities[0].id, "bench_admin", "ベンチ 管理者",
                             "bench-password-" + secrets.token_hex(8), ["administrator"])
    card = bound_card(db, pki, holders[0])
    t = step("staff account, a bound card", t)
    vacuumed(db)
    step("VACUUM ANALYZE (PostgreSQL)", t)
    print(f"  {'data set built in':<52} {time.perf_counter() - started:7.1f} s", flush=True)
    return Dataset(app, families, holders, (staff.id, cities[0].id, staff.display_name),
                   card, cities[0].id)


def vacuumed(db) -> None:
    """On PostgreSQL, the tables as autovacuum leaves them a few minutes after the bulk
    load: statistics and visibility maps. Measured at once, the runs would plan from
    half-known tables and share the two cores with autovacuum's own pass. SQLite has no
    such pass: only what the importer analyzes itself."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def adults(db, city_id: int, limit: int) -> list[tuple[int, str, str]]:
    born_before = today_jst() - timedelta(days=365 * 20)
    with db.transaction(city_id) as s:
        rows = s.execute(across_municipalities(
            select(Resident.id, Resident.family_name, Resident.given_name)
            .where(Resident.municipality_id == city_id, Resident.status == ResidentStatus.ACTIVE,
                   Resident.support_block.is_(False), Resident.birth_date < born_before)
            .order_by(Resident.id).limit(limit))).all()
    return [(rid, family, given) for rid, family, given in rows]


def add_notebooks(db, cities, scale: Scale) -> list[tuple[int, int, str]]:
    """One JAHIS document of `visits` visits for each holder: imported for the first holder
    through the importer the upload view uses, then its rows copied to the others."""
    from services.medication import jahis, services
    holders = []
    for index, city in enumerate(cities):
        share = scale.notebooks // len(cities) + (1 if index < scale.notebooks % len(cities) else 0)
        holders += [(rid, city.id, f"{family}\u3000{given}")
                    for rid, family, given in adults(db, city.id, share)]
    template, city_id, _name = holders[0]
    document = jahis.parse(synthetic_document(scale.visits)).document
    with db.transaction(city_id) as s:
        services.import_document(s, template, document, "file", "bench")
    copy_resident_rows(db, "medication_", template, [(rid, mid) for rid, mid, _ in holders[1:]])
    return holders


def copy_resident_rows(db, prefix: str, template: int, holders: list[tuple[int, int]]) -> None:
    """Copy every row of the `prefix` tables that belongs to resident `template` to each
    holder (resident, city), with new ids and the foreign keys between those tables mapped
    to the copies, in one multi-row INSERT per table. The importer costs ~0.1 s a notebook
    in statements and ORM work; 3,000 of them would take minutes."""
    from sqlalchemy import func, insert
    from portal.db import Base
    tables = [t for t in Base.metadata.sorted_tables      # parents before children
              if t.name.startswith(prefix) and "resident_id" in t.c]
    names = {t.name for t in tables}
    refs = {t.name: {c.name: fk.column.table.name for c in t.c for fk in c.foreign_keys
                     if fk.column.table.name in names} for t in tables}
    with db.engine.begin() as conn:
        rows = {t.name: [dict(r._mapping) for r in conn.execute(
            select(t).where(t.c.resident_id == template).order_by(t.c.id))] for t in tables}
        next_id = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in tables}
        copies: dict[str, list[dict]] = {t.name: [] for t in tables}
        for resident_id, city_id in holders:
            new_ids: dict[str, dict[int, int]] = {}
            for t in tables:
                mapped = new_ids[t.name] = {}
                for row in rows[t.name]:
                    copy = dict(row, id=next_id[t.name], resident_id=resident_id,
                                municipality_id=city_id)
                    next_id[t.name] += 1
                    mapped[row["id"]] = copy["id"]
                    for column, parent in refs[t.name].items():
                        if copy[column] is not None:
                            copy[column] = new_ids[parent][copy[column]]
                    copies[t.name].append(copy)
        for t in tables:
            if copies[t.name]:
                conn.execute(insert(t), copies[t.name])
            if conn.dialect.name == "postgresql":   # the sequences continue after the copies
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                                  f"(SELECT max(id) FROM {t.name}))"))


def bound_card(db, pki, holder: tuple[int, int, str]):
    """A virtual card of the test PKI bound to the first notebook holder."""
    from cryptography import x509
    rid, city_id, name = holder
    with db.transaction(city_id) as s:
        person = s.get(Resident, rid)
        profile = pki.issue_card(name=person.name, birth_date=person.birth_date,
                                 address=person.address, sex=person.sex.value, with_signing=False)
        bind(s, ValidatedCertificate(x509.load_der_x509_certificate(profile.auth.certificate),
                                     pki.ca("auth", 2).certificate), city_id, resident_id=rid)
    return profile


# -- requests: sessions, card tokens, quoted issuance requests --------------------------------

def session_cookie(app, kind: str, viewer_id: int, city_id: int, name: str,
                   roles: tuple[str, ...] = ()) -> str:
    """The cookie a browser holds after its first signed-in page: a server-side session
    and its token, and the CSRF secret Flask-WTF put there (without it every page would
    add one and send the cookie again, which a browser's later pages do not)."""
    with app.extensions["madoguchi.db"].transaction() as s:
        token = open_session(s, kind, viewer_id, city_id, False)
    data = {"sid": token, "kiosk": False, "_permanent": True, "csrf_token": secrets.token_hex(20),
            "viewer": {"kind": kind, "id": viewer_id, "mid": city_id, "name": name,
                       "roles": list(roles)}}
    value = app.session_interface.get_signing_serializer(app).dumps(data)
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def line(method: str, path: str, body: str | None = None, **headers: str) -> str:
    fields = [method, path, body or "-"] + [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    assert not any("\t" in f or "\n" in f for f in fields)
    return "\t".join(fields)


def page_requests(data: Dataset) -> dict[str, list[str]]:
    app = data.app
    residents = [(rid, session_cookie(app, "resident", rid, mid, name))
                 for rid, mid, name in data.notebook_holders[:SIGNED_IN]]
    guardians = [(child, session_cookie(app, "resident", guardian, data.city_id, name))
                 for guardian, child, name in data.families[:SIGNED_IN]]
    staff_id, mid, name = data.staff
    staff = [session_cookie(app, "staff", staff_id, mid, name, ("administrator",))
             for _ in range(SIGNED_IN)]
    return {
        "bare": [line("GET", "/healthz")],
        "home": [line("GET", "/", Cookie=c) for _, c in residents],
        "me": [line("GET", "/me/", Cookie=c) for _, c in residents],
        "child": [line("GET", f"/services/maternal_health/children/{child}", Cookie=c)
                  for child, c in guardians],
        "medication": [line("GET", f"/services/medication/people/{rid}/", Cookie=c)
                       for rid, c in residents],
        "search": [line("GET", SEARCH, Cookie=c) for c in staff],
    }


def card_logins(data: Dataset, count: int) -> list[str]:
    """`count` card logins, each with its own challenge (5 minutes to live: made just
    before the run) in its own browser session, the token signed by the virtual card."""
    from flask import session
    from flask_wtf.csrf import generate_csrf
    from madoguchi_smartcard.jpki import JPKICard
    from madoguchi_smartcard.transport import InProcessTransport
    from madoguchi_smartcard.virtual import VirtualMyNumberCard
    app = data.app
    transport = InProcessTransport(VirtualMyNumberCard(data.card))
    transport.connect()
    card = JPKICard(transport)
    bindings = [secrets.token_urlsafe(24) for _ in range(count)]
    with app.extensions["madoguchi.db"].transaction() as s:
        nonces = [issue_challenge(s, b, "login").nonce for b in bindings]
    serializer = app.session_interface.get_signing_serializer(app)
    lines = []
    for binding, nonce in zip(bindings, nonces):
        with app.test_request_context("/auth/card", base_url=ORIGIN):
            csrf = generate_csrf()
            session.update(cbind=binding, nonce=nonce, nonce_purpose="login")
            cookie = f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
        signed = card.login("1234", signed_data(ORIGIN, nonce))
        token = {"format": TOKEN_FORMAT, "algorithm": "RS256", "appVersion": "bench",
                 "certificate": _b64(signed.certificate), "signature": _b64(signed.signature)}
        lines.append(line("POST", "/auth/card", json.dumps(token), Cookie=cookie,
                          X_CSRFToken=csrf, Content_Type="application/json"))
    return lines


def _b64(data: bytes) -> str:
    import base64
    return base64.b64encode(data).decode()


def payments(data: Dataset, count: int) -> list[str]:
    """`count` issuance requests opened and quoted (住民票, 200 yen) as a terminal would
    leave them before the payment, each with its bearer token and a fresh payment key."""
    from portal.tenancy.models import Municipality
    from services.convenience_issuance import issuance
    from services.convenience_issuance.services import IssuanceRefused, load_catalogue
    db = data.app.extensions["madoguchi.db"]
    if not data.payers:
        data.payers = [rid for rid, _f, _g in adults(db, data.city_id, 200)]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    lines = []
    with db.transaction(data.city_id) as s:
        catalogue = load_catalogue(s.get(Municipality, data.city_id).settings)
        payers = iter(data.payers * (count // len(data.payers) + 2))
        while len(lines) < count:
            try:
                request, token = issuance.start_request(s, catalogue, s.get(Resident, next(payers)),
                                                        "bench-terminal", now)
            except IssuanceRefused:      # e.g. a household under 支援措置
                continue
            issuance.quote(s, catalogue, request, "juminhyo", {}, now)
            body = json.dumps({"idempotency_key": secrets.token_urlsafe(16), "amount": FEE})
            lines.append(line("POST", PAYMENT, body, Authorization=f"Bearer {token}",
                              Content_Type="application/json"))
    return lines


# -- the server and wrk ----------------------------------------------------------------------

class Server:
    """gunicorn, 2 sync workers, the portal's production settings plus the counting hook."""

    def __init__(self, settings: dict, workdir: Path, workers: int = 2) -> None:
        self.counters = workdir / "counters.bin"
        self.counters.write_bytes(b"\0" * (COUNTER_SLOTS * COUNTER_FIELDS * 8))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**as_environ(settings), "MADOGUCHI_BENCH_COUNTERS": str(self.counters)}
        self.log = open(workdir / "gunicorn.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=env, cwd=BENCH.parent, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, wait_s: float = 180) -> None:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gunicorn did not become ready; see {self.log.name}")
            time.sleep(0.3)

    def totals(self) -> tuple[int, int, int]:
        """(requests, statements, transactions) summed over every worker slot."""
        with open(self.counters, "rb") as handle:
            raw = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            values = memoryview(raw).cast("q").tolist()
            raw.close()
        return tuple(sum(values[i::COUNTER_FIELDS]) for i in range(COUNTER_FIELDS))

    def settle(self, wait_s: float = 120) -> tuple[int, int, int]:
        """Wait until the workers finish what wrk left in flight (a sync worker serves a
        request whose client has gone), so it counts in this run and not the next one."""
        deadline = time.monotonic() + wait_s
        last = self.totals()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.totals()
            if now == last:
                return now
            last = now
        return last

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@dataclass
class Result:
    page: str
    clients: int
    rps: float
    p50: float
    p95: float
    p99: float
    non2xx: int
    requests: int
    exhausted: int
    sql: float
    transactions: float


BENCH_LINE = re.compile(r"BENCH (.*)")


def run_wrk(server: Server, requests: list[str], clients: int, duration: float, mode: str,
            workdir: Path) -> dict:
    threads = min(clients, 2)
    script_input = workdir / "requests.tsv"
    script_input.write_text("\n".join(requests) + "\n", encoding="utf-8")
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{duration:g}s", "--latency",
               "--timeout", "30s", "-s", str(LUA), server.base, "--", str(script_input), mode,
               str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 90)
    found = BENCH_LINE.search(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"wrk failed: {done.stdout}\n{done.stderr}")
    return {k: int(v) for k, v in (pair.split("=") for pair in found.group(1).split())}


def measure(server: Server, page: str, clients: int, requests: list[str], duration: float,
            workdir: Path) -> Result:
    before = server.settle()
    out = run_wrk(server, requests, clients, duration, "once" if page in ONE_USE else "cycle",
                  workdir)
    after = server.settle()
    served, statements, transactions = (a - b for a, b in zip(after, before))
    served = max(served, 1)
    return Result(page, clients, out["requests"] / (out["duration_us"] / 1e6),
                  out["p50_us"] / 1000, out["p95_us"] / 1000, out["p99_us"] / 1000,
                  out["non2xx"] + out["socket_errors"], out["requests"], out["exhausted"],
                  statements / served, transactions / served)


def run_database(label: str, url: str, scale: Scale, duration: float, per_second: int,
                 workdir: Path) -> list[Result]:
    from madoguchi_smartcard.testpki import TestPKI
    print(f"\n== {label}: building the data set", flush=True)
    pki = TestPKI.create(workdir / "pki")
    pki.write_crls()
    data = build(url, scale, pki, workdir)
    settings = portal_settings(url, pki, workdir)
    server = Server(settings, workdir)
    try:
        server.wait_ready()
        pages = page_requests(data)
        print(f"== {label}: gunicorn 2 sync workers on {server.base}; wrk {duration:g} s a run",
              flush=True)
        for page, requests in pages.items():   # warm each worker: templates, caches, CRLs
            run_wrk(server, requests, 2, 1, "cycle", workdir)
        run_wrk(server, card_logins(data, 8), 2, 1, "once", workdir)
        run_wrk(server, payments(data, 8), 2, 1, "once", workdir)
        results = []
        for page, clients in RUNS:
            if page == "card login":
                requests = card_logins(data, int(duration * per_second * (1 if clients == 1 else 3)))
            elif page == "payment":
                requests = payments(data, int(duration * per_second * (1 if clients == 1 else 3)))
            else:
                requests = pages[page]
            result = measure(server, page, clients, requests, duration, workdir)
            results.append(result)
            print(f"   {page:<11} {clients:>2} clients  {result.rps:9.1f} req/s  "
                  f"p95 {result.p95:7.1f} ms  non-2xx {result.non2xx}  "
                  f"SQL/req {result.sql:.1f}", flush=True)
    finally:
        server.stop()
        data.app.extensions["madoguchi.db"].engine.dispose()
    return results


# -- report ----------------------------------------------------------------------------------

def report(label: str, results: list[Result]) -> list[str]:
    bare = {r.clients: r.rps for r in results if r.page == "bare"}
    print(f"\n{label}")
    print(f"{'page':<12}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'non-2xx':>9}{'× bare':>9}{'SQL/req':>9}{'tx/req':>8}")
    ratios = []
    for r in results:
        ratio = r.rps / bare[r.clients]
        print(f"{r.page:<12}{r.clients:>8}{r.rps:>10.1f}{r.p50:>9.2f}{r.p95:>9.2f}{r.p99:>9.2f}"
              f"{r.non2xx:>9}{ratio:>9.3f}{r.sql:>9.1f}{r.transactions:>8.1f}")
        if r.exhausted:
            print(f"{'':<12}  {r.exhausted} requests re-sent a used challenge/request "
                  f"(refused, counted as non-2xx): raise --per-second")
        if r.page != "bare":
            ratios.append(f"ratio {label} {r.page} at {r.clients} clients: {ratio:.3f}× the bare "
                          f"route's requests/s ({r.rps:.1f} vs {bare[r.clients]:.1f}), "
                          f"p95 {r.p95:.1f} ms")
    return ratios


def postgres_schema(base: str, schema: str, create: bool) -> str:
    """The bench's own schema in the given database (its public schema is left alone):
    made afresh before a run, dropped after it. Returns the URL that works inside it."""
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        if create:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite", "both"),
                        help="default: both when a PostgreSQL URL is given, else sqlite")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the full data set (1.0: 3 × 30,000 residents, ...)")
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--visits", type=int, default=12, help="visits per medication notebook")
    parser.add_argument("--per-second", type=int, default=30,
                        help="one-use requests prepared per second of a run (×3 at 8/16 clients)")
    parser.add_argument("--postgres-url", default=os.environ.get("MADOGUCHI_BENCH_POSTGRES_URL"))
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (gunicorn log) and the PostgreSQL schema")
    args = parser.parse_args()
    # a TERM (timeout, Ctrl-C's cousin) unwinds like an error: gunicorn is stopped, the
    # schema and the work folder are removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    args.db = args.db or ("both" if args.postgres_url else "sqlite")
    if args.db != "sqlite" and not args.postgres_url:
        raise SystemExit("PostgreSQL: give --postgres-url or MADOGUCHI_BENCH_POSTGRES_URL")
    scale = Scale.of(args.scale, args.visits)
    print(f"data set: 3 cities × {scale.residents:,} residents, {scale.children:,} children × 15 "
          f"records, {scale.notebooks:,} notebooks × {scale.visits} visits; "
          f"{date.today()}, {commit()}; rate-limit counts in {rate_limit_storage()}")
    ratios = []
    for label in (("postgres", "sqlite") if args.db == "both" else (args.db,)):
        workdir = Path(tempfile.mkdtemp(prefix=f"madoguchi-load-{label}-"))
        schema = f"bench_load_{os.getpid()}"
        try:
            url = (postgres_schema(args.postgres_url, schema, create=True) if label == "postgres"
                   else f"sqlite:///{workdir / 'bench.sqlite'}")
            results = run_database(label, url, scale, args.duration, args.per_second, workdir)
            ratios += report(label, results)
        finally:
            if label == "postgres" and not args.keep:
                postgres_schema(args.postgres_url, schema, create=False)
            if args.keep:
                print(f"work folder kept: {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    print()
    for ratio in ratios:
        print(ratio)


def commit() -> str:
    done = subprocess.run(["git", "-C", str(BENCH.parent), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return f"commit {done.stdout.strip() or 'unknown'}"


if __name__ == "__main__":
    main()
