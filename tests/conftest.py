"""Shared fixtures. The database is real: SQLite by default, PostgreSQL when
MADOGUCHI_TEST_DATABASE_URL names one (CI runs the whole suite on both). Each test runs
inside one outer transaction that is rolled back, so tests see committed behaviour but
leave nothing behind."""
from __future__ import annotations

import functools
import itertools
import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from portal import create_app
from portal.db import make_engine
from portal.migrate import upgrade
from portal.plugins import load_plugins

TEST_SECRET = "test-secret-key-not-for-production-0123456789"


def pytest_collection_modifyitems(config, items):
    """The PostgreSQL run (MADOGUCHI_TEST_DATABASE_URL) runs the tests that use a database;
    those that use none (card APDUs, PDF layout, parsers…) gave their answer in the SQLite
    run and would only repeat it. MADOGUCHI_TEST_EVERY_TEST=1 runs them all again."""
    if not os.environ.get("MADOGUCHI_TEST_DATABASE_URL") \
            or os.environ.get("MADOGUCHI_TEST_EVERY_TEST"):
        return
    uses_database = [item for item in items
                     if "database_url" in getattr(item, "fixturenames", ())]
    if len(uses_database) < len(items):
        kept = set(uses_database)
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = uses_database


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("MADOGUCHI_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as conn:  # a clean schema for every run
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_url(database_url) -> str:
    upgrade(database_url, load_plugins())
    return database_url


@pytest.fixture(scope="session")
def card_pki(tmp_path_factory):
    """One JPKI-shaped test PKI per run (RSA key generation is the slow part)."""
    from madoguchi_smartcard.testpki import TestPKI
    pki = TestPKI.create(tmp_path_factory.mktemp("pki"))
    pki.write_crls()
    return pki


@pytest.fixture(scope="session")
def trust_anchor(card_pki) -> Path:
    return card_pki.directory / "auth-ca-g2.pem"


def card_settings(pki) -> dict:
    """Configuration that makes the portal trust the test PKI and read its CRLs."""
    crls = sorted(str(p) for p in (pki.directory / "crl").glob("*.crl"))
    return {"CARD_TRUST_ANCHORS": [str(pki.directory / f"auth-ca-g{g}.pem") for g in (1, 2)],
            "CARD_SIGNING_TRUST_ANCHORS": [str(pki.directory / f"signing-ca-g{g}.pem") for g in (1, 2)],
            "CARD_CRLS": crls, "CARD_CRL_INDEX_DIR": str(pki.directory / "crl-index")}


@pytest.fixture
def app_config(migrated_url, card_pki) -> dict:
    return {"ENV": "production", "SECRET_KEY": TEST_SECRET, "DATABASE_URL": migrated_url,
            "OIDC_ISSUER": "https://localhost", "TESTING": True, **card_settings(card_pki)}


@pytest.fixture
def app(app_config):
    with rolled_back_app(app_config) as application:
        yield application


@contextmanager
def rolled_back_app(config: dict):
    """The app, its sessions bound to one connection whose outer transaction is rolled back
    (per test here; per module for the browser journeys, which share one app)."""
    application = create_app(config)
    database = application.extensions["madoguchi.db"]
    # Deferred: the outer transaction takes SQLite's write lock only when a test writes, so
    # tests that also open connections of their own can still read.
    connection = database.engine.connect().execution_options(sqlite_deferred=True)
    outer = connection.begin()
    database.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield application
    finally:
        outer.rollback()
        connection.close()
        database.engine.dispose()


@pytest.fixture
def db(app):
    return app.extensions["madoguchi.db"]


@pytest.fixture
def client(app):
    return https_client(app)


class HttpsClient(FlaskClient):
    """Requests as https://localhost: production cookies are Secure, the card signs the origin."""

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", "https://localhost")
            # Flask-WTF checks the Referer of HTTPS posts, as browsers send it same-origin.
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Referer", "https://localhost/")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def https_client(app) -> HttpsClient:
    app.test_client_class = HttpsClient
    return app.test_client()


_numbers = itertools.count(1)


@contextmanager
def serving(app) -> Iterator[int]:
    """The app behind a real multi-threaded server on a free port (concurrency tests)."""
    import threading
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        app.extensions["madoguchi.db"].engine.dispose()


def all_at_once(call, times: int) -> list:
    """`call()` from `times` threads released together; what each returned."""
    import threading
    results, barrier = [], threading.Barrier(times)

    def run():
        barrier.wait()
        results.append(call())
    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def add_head_of_household(session, family: str, given: str, family_kana: str, given_kana: str,
                          birth: date, sex: str, address: str):
    """A resident written straight into a committed database (no `db` fixture there)."""
    from portal.registry.models import Resident
    person = Resident(number="R1", family_name=family, given_name=given, family_name_kana=family_kana,
                      given_name_kana=given_kana, birth_date=birth, sex=sex, address=address,
                      relationship_to_head="世帯主")
    session.add(person)
    session.flush()
    return person


@pytest.fixture
def make_city(db):
    """Factory: a municipality with all services enabled unless told otherwise."""
    return functools.partial(new_city, db)


def new_city(db, code: str = "392049", name: str = "南国市", services=None, **fields):
    from portal.tenancy.services import add_municipality
    from portal.plugins import discover
    with db.transaction() as s:
        city = add_municipality(s, code, name, settings={
            "services": list(discover()) if services is None else services}, **fields)
    return city


@pytest.fixture
def make_resident(db):
    return functools.partial(new_resident, db)


def new_resident(db, city, family="高知", given="花子", birth=date(1990, 4, 1), sex=None,
                 household=None, **fields):
    from portal.registry.models import Household, Resident, Sex
    n = next(_numbers)
    with db.transaction(city.id) as s:
        if household is None:
            home = Household(number=f"H{n:07d}", head_name=f"{family}\u3000{given}",
                             address=fields.get("address", f"{city.name}大そね{n}番地"))
            s.add(home)
            s.flush()
            household = home.id
        person = Resident(number=f"R{n:08d}", household_id=household, family_name=family,
                          given_name=given, family_name_kana=fields.pop("family_kana", "コウチ"),
                          given_name_kana=fields.pop("given_kana", "ハナコ"), birth_date=birth,
                          sex=sex or Sex.FEMALE, address=fields.pop("address", f"{city.name}大そね{n}番地"),
                          relationship_to_head=fields.pop("relationship", "世帯主"), **fields)
        s.add(person)
    return person


STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_staff(db):
    return functools.partial(new_staff, db)


def new_staff(db, city, roles=("administrator",), username=None, totp_secret=None):
    from portal.staff.services import create_staff
    username = username or f"staff{next(_numbers)}"
    with db.transaction(city.id) as s:
        account = create_staff(s, city.id, username, f"職員 {username}", STAFF_PASSWORD,
                               roles, totp_secret=totp_secret)
    return account


@pytest.fixture
def sign_in_as(client):
    """Put a viewer in the test client's session (the card and staff sign-in flows have
    their own tests; most tests only need someone signed in)."""
    def sign_in(person, kind: str | None = None, kiosk: bool = False, method: str | None = None):
        from portal.sessions.services import CARD_PIN, PASSWORD_TOTP, open_session
        from portal.staff.models import StaffAccount
        is_staff = isinstance(person, StaffAccount) if kind is None else kind == "staff"
        method = method or (PASSWORD_TOTP if is_staff else CARD_PIN)
        with client.application.extensions["madoguchi.db"].transaction() as db:
            token = open_session(db, "staff" if is_staff else "resident", person.id,
                                 person.municipality_id, kiosk, method)
        with client.session_transaction() as sess:
            sess.clear()
            sess["sid"], sess["kiosk"] = token, kiosk
            sess["viewer"] = {
                "kind": "staff" if is_staff else "resident", "id": person.id,
                "mid": person.municipality_id,
                "name": person.display_name if is_staff else person.name,
                "roles": sorted(r.value for r in person.roles) if is_staff else []}
        return client
    return sign_in


@pytest.fixture
def committed_database_url(database_url, tmp_path):
    """A database of its own for tests that need real commits seen by several threads or
    processes (concurrency): a new SQLite file, or a new PostgreSQL schema dropped after."""
    with database_of_its_own(database_url, tmp_path / "committed.sqlite") as url:
        upgrade(url, load_plugins())
        yield url


@contextmanager
def database_of_its_own(database_url: str, sqlite_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema dropped after."""
    import secrets as _secrets
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{sqlite_path}"
        return
    schema = f"t_{_secrets.token_hex(4)}"
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def assets(app, tmp_path):
    """The folder of the cities' logos and seal images (CITY_ASSETS_DIR), empty."""
    folder = tmp_path / "city-assets"
    folder.mkdir()
    app.config["CITY_ASSETS_DIR"] = str(folder)
    return folder
