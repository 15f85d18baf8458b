"""One unit of work per request: one database session, committed or rolled back by the
framework; a page that only reads never takes SQLite's write lock; the access-log rows of a
request go in one statement; a statement budget per page. The app here runs on a database of
its own with one connection per unit of work, as in production."""
from __future__ import annotations

import re

import threading
from datetime import date, datetime, timedelta

import pytest
from flask import Blueprint
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from portal import create_app
from portal.audit.models import AccessLogEntry
from portal.extensions import get_db
from portal.registry.models import GuardianLink, Sex
from portal.sessions.models import UserSession
from portal.unit_of_work import Actor, unit_of_work
from tests.conftest import TEST_SECRET, card_settings

BOOKKEEPING = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@pytest.fixture
def app(committed_database_url, card_pki):
    application = create_app({"ENV": "production", "SECRET_KEY": TEST_SECRET, "TESTING": True,
                              "OIDC_ISSUER": "https://localhost",
                              "DATABASE_URL": committed_database_url, **card_settings(card_pki)})
    _add_test_routes(application)
    yield application
    application.extensions["madoguchi.db"].engine.dispose()


def _add_test_routes(application) -> None:
    """Views that write and then fail, or answer an error without failing."""
    bp = Blueprint("uow_probe", __name__)

    @bp.post("/probe/write-then-fail/<int:resident_id>")
    def write_then_fail(resident_id):
        from portal.audit.services import log_access
        log_access(get_db(), resident_id, "read", "probe", "probe")
        get_db().execute(update(UserSession).values(end_reason="probe"))
        raise RuntimeError("the view failed after writing")

    @bp.post("/probe/write-then-422/<int:resident_id>")
    def write_then_422(resident_id):
        from portal.audit.services import log_access
        log_access(get_db(), resident_id, "read", "probe", "refused but recorded")
        return "refused", 422

    application.register_blueprint(bp)
    from portal.extensions import csrf
    csrf.exempt(bp)


@pytest.fixture
def statements(app):
    """Every SQL statement the app's engine runs, in order."""
    seen: list[str] = []
    engine = app.extensions["madoguchi.db"].engine

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def sessions_begun():
    """Each database session that began a transaction (one entry per session)."""
    begun: list[int] = []

    def record(session, _transaction, _connection):
        if id(session) not in begun:
            begun.append(id(session))
    event.listen(Session, "after_begin", record)
    yield begun
    event.remove(Session, "after_begin", record)


def queries(seen: list[str]) -> list[str]:
    return [s for s in seen if not s.upper().startswith(BOOKKEEPING)]


def writes(seen: list[str]) -> list[str]:
    return [s for s in queries(seen)
            if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE", "COPY")]


def writes_the_log(statement: str) -> bool:
    """The access-log write: COPY on PostgreSQL, an INSERT given every row on SQLite."""
    return statement.upper().startswith(("INSERT INTO ACCESS_LOG", "COPY ACCESS_LOG"))


@pytest.fixture
def family(db, make_city, make_resident, make_staff):
    city = make_city("392049", "南国市")
    mother = make_resident(city, family="土佐", given="花子", birth=date(1994, 5, 5))
    child = make_resident(city, family="土佐", given="太郎", birth=date(2024, 6, 10),
                          sex=Sex.MALE, household=mother.household_id, relationship="子")
    with db.transaction(city.id) as s:
        s.add(GuardianLink(guardian_id=mother.id, child_id=child.id))
    for n in range(12):
        make_resident(city, family="佐藤", given=f"次郎{n}")
    staff = make_staff(city, roles=["registry_clerk", "health_staff"],
                       username="clerk")
    return {"city": city, "mother": mother, "child": child, "staff": staff}


def pages_of(family) -> dict:
    child = family["child"].id
    return {
        "mother": ["/", "/me/", "/sessions/", "/services/maternal_health/",
                   f"/services/maternal_health/children/{child}",
                   f"/services/medication/people/{family['mother'].id}/"],
        "staff": ["/registry/residents?q=佐藤", f"/registry/residents/{family['mother'].id}",
                  f"/services/maternal_health/staff/residents/{child}"],
    }


def visit(client, sign_in_as, family, who: str):
    sign_in_as(family[who])
    client.get("/")  # the session's first touch is not what is measured
    return pages_of(family)[who]


@pytest.mark.parametrize("who", ["mother", "staff"])
def test_each_page_opens_one_session(client, sign_in_as, family, sessions_begun, who):
    for path in visit(client, sign_in_as, family, who):
        sessions_begun.clear()
        assert client.get(path).status_code == 200, path
        assert len(sessions_begun) <= 1, path


@pytest.mark.parametrize("who", ["mother", "staff"])
def test_a_page_writes_only_its_access_log_in_one_statement(client, sign_in_as, family,
                                                         statements, who):
    for path in visit(client, sign_in_as, family, who):
        statements.clear()
        assert client.get(path).status_code == 200, path
        for statement in writes(statements):
            assert writes_the_log(statement), (path, statement)
        assert len(writes(statements)) <= 1, path


def test_staff_search_logs_every_person_listed_in_one_statement(db, client, sign_in_as,
                                                               family, statements):
    visit(client, sign_in_as, family, "staff")
    statements.clear()
    page = client.get("/registry/residents?q=佐藤")
    assert page.status_code == 200
    inserts = [s for s in writes(statements) if writes_the_log(s)]
    assert len(inserts) == 1
    with db.read(family["city"].id) as s:
        listed = s.scalar(select(func.count()).select_from(AccessLogEntry)
                          .where(AccessLogEntry.action == "search"))
    assert listed == 12


def test_child_page_statement_budget(client, sign_in_as, family, statements):
    """The guardian's child page: the session with its city, the child (guardian check
    included), birth record, checkups, immunisations — at most 5 statements besides the
    access-log insert."""
    path = visit(client, sign_in_as, family, "mother")[4]
    statements.clear()
    assert client.get(path).status_code == 200
    reads = [s for s in queries(statements) if not writes_the_log(s)]
    assert len(reads) <= 5, "\n".join(r[:150] for r in reads)


def test_medication_timeline_statement_budget(client, sign_in_as, family, statements):
    """The notebook's timeline: the session with its city, the person (the viewer or
    their child, one statement), the visits with their RPs, usages and drugs (one joined
    statement), visit notes, patient notes, OTC drugs, memos, the drug master — at most 8
    besides the access-log insert."""
    path = visit(client, sign_in_as, family, "mother")[5]
    statements.clear()
    assert client.get(path).status_code == 200
    reads = [s for s in queries(statements) if not writes_the_log(s)]
    assert len(reads) <= 8, "\n".join(r[:150] for r in reads)


@pytest.mark.parametrize("who", ["mother", "staff"])
def test_the_session_check_brings_the_city(client, sign_in_as, family, statements, who):
    """Every signed-in page needs its city (services, menu, branding): it comes in the
    session check's statement, never read again on its own."""
    for path in visit(client, sign_in_as, family, who):
        statements.clear()
        assert client.get(path).status_code == 200, path
        alone = [s for s in queries(statements) if re.search(r"\bFROM municipality\b", s)]
        assert alone == [], (path, alone)
        assert any("FROM user_session" in s and "municipality" in s for s in statements), path


def test_home_page_of_a_signed_in_resident_runs_no_write(client, sign_in_as, family, statements):
    visit(client, sign_in_as, family, "mother")
    statements.clear()
    for _ in range(3):
        assert client.get("/").status_code == 200
        assert client.get("/sessions/").status_code == 200
    assert writes(statements) == []


def test_last_seen_is_written_at_most_once_a_minute(db, client, sign_in_as, family, statements):
    visit(client, sign_in_as, family, "mother")
    statements.clear()
    client.get("/")
    assert not [s for s in writes(statements) if "USER_SESSION" in s.upper()]
    with db.transaction() as s:  # the last touch was two minutes ago
        s.execute(update(UserSession).values(last_seen_at=datetime.utcnow() - timedelta(minutes=2)))
    statements.clear()
    client.get("/")
    touched = [s for s in writes(statements) if "USER_SESSION" in s.upper()]
    assert len(touched) == 1, touched
    with db.read() as s:
        seen = s.scalar(select(func.max(UserSession.last_seen_at)))
    assert datetime.utcnow() - seen < timedelta(seconds=30)


def test_the_cookie_is_signed_again_only_when_it_changes(client, sign_in_as, family):
    visit(client, sign_in_as, family, "mother")
    with client.session_transaction() as cookie:
        cookie.permanent = True  # as sign_in() makes it
    client.get("/")
    for path in ("/", "/me/", "/sessions/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, path


def test_a_failed_view_writes_nothing(db, client, sign_in_as, family):
    visit(client, sign_in_as, family, "mother")
    failed = client.post(f"/probe/write-then-fail/{family['mother'].id}")
    assert failed.status_code == 500
    with db.read(family["city"].id) as s:
        assert s.scalar(select(func.count()).select_from(AccessLogEntry)
                        .where(AccessLogEntry.resource == "probe")) == 0
        assert s.scalar(select(func.count()).select_from(UserSession)
                        .where(UserSession.end_reason == "probe")) == 0


def test_an_error_answer_without_an_exception_is_committed(db, client, sign_in_as, family):
    """A refusal the view answers itself (a wrong PIN, a bad form) keeps its records."""
    visit(client, sign_in_as, family, "mother")
    refused = client.post(f"/probe/write-then-422/{family['mother'].id}")
    assert refused.status_code == 422
    with db.read(family["city"].id) as s:
        assert s.scalar(select(func.count()).select_from(AccessLogEntry)
                        .where(AccessLogEntry.purpose == "refused but recorded")) == 1


def test_commands_log_with_an_explicit_actor(db, family):
    actor = Actor("system", None, "夜間バッチ", "batch")
    with unit_of_work(db, family["city"].id, actor) as s:
        from portal.audit.services import log_access
        log_access(s, family["mother"].id, "export", "registry.resident", "一括出力")
    with db.read(family["city"].id) as s:
        entry = s.scalar(select(AccessLogEntry).where(AccessLogEntry.purpose == "一括出力"))
    assert (entry.actor_name, entry.actor_role) == ("夜間バッチ", "batch")


# -- reads beside a writer -----------------------------------------------------------------

@pytest.fixture
def sqlite_path(committed_database_url):
    if not committed_database_url.startswith("sqlite"):
        return None
    return committed_database_url.removeprefix("sqlite:///")


def test_reading_pages_do_not_wait_for_a_writer(app, client, sign_in_as, family):
    """Another unit of work holds the write lock (SQLite) or a row lock on the city
    (PostgreSQL) that every page reads; pages that only read answer without waiting."""
    visit(client, sign_in_as, family, "mother")
    writer = app.extensions["madoguchi.db"].engine.connect()
    held = writer.begin()  # BEGIN IMMEDIATE on SQLite: the write lock
    writer.execute(text("UPDATE municipality SET name = name"))
    answers: list[int] = []

    def read_pages():
        # (a page that logs a read waits for the lock only for its log insert at the end,
        # as it should: test_a_logged_page_reads_first_and_writes_once_at_the_end)
        for path in ("/", "/sessions/"):
            answers.append(client.get(path).status_code)
    reader = threading.Thread(target=read_pages)
    reader.start()
    reader.join(timeout=10)
    done = not reader.is_alive()
    held.rollback()
    writer.close()
    reader.join()
    assert done, "a reading page waited for another unit of work's lock"
    assert answers[:2] == [200, 200]


def test_a_logged_page_reads_first_and_writes_once_at_the_end(client, sign_in_as, family,
                                                              statements, sqlite_path):
    """The child page's reads come first, in a transaction begun DEFERRED on SQLite; the
    write lock is taken only by the access-log insert at the end."""
    path = visit(client, sign_in_as, family, "mother")[4]
    statements.clear()
    assert client.get(path).status_code == 200
    done = queries(statements)
    assert writes_the_log(done[-1])
    assert all(s.upper().startswith("SELECT") for s in done[:-1]), done
    if sqlite_path is not None:
        assert statements[0] == "BEGIN"
        assert "BEGIN IMMEDIATE" not in statements


def test_a_stale_snapshot_writes_the_access_log_again(app, db, client, sign_in_as, family,
                                                      sqlite_path):
    """Another unit of work commits while the page reads; SQLite then refuses the page's
    log insert (SQLITE_BUSY_SNAPSHOT); the entry is written again, once, and the page
    answers. (PostgreSQL takes the insert as it is.)"""
    path = visit(client, sign_in_as, family, "mother")[1]  # /me/
    engine = app.extensions["madoguchi.db"].engine
    interfered: list[bool] = []

    def commit_elsewhere(_conn, _cursor, statement, *_args):
        if writes_the_log(statement) and not interfered:
            interfered.append(True)
            with engine.begin() as other:
                other.execute(text("UPDATE municipality SET name = name"))
    event.listen(engine, "before_cursor_execute", commit_elsewhere)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", commit_elsewhere)
    assert interfered
    with db.read(family["city"].id) as s:
        assert s.scalar(select(func.count()).select_from(AccessLogEntry)
                        .where(AccessLogEntry.request_path == "/me/")) == 1


def test_the_database_failing_at_commit_is_a_503_not_a_traceback(app, db, client, sign_in_as,
                                                                 family):
    visit(client, sign_in_as, family, "mother")
    engine = app.extensions["madoguchi.db"].engine

    def refuse(_conn, _cursor, statement, *_args):
        if writes_the_log(statement):
            raise engine.dialect.dbapi.OperationalError("disk I/O error")
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        page = client.get("/me/")
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert page.status_code == 503
    body = page.get_data(as_text=True)
    assert "Traceback" not in body and "ただいまサービスを利用できません" in body


def test_on_postgresql_the_search_log_is_copied_not_inserted_row_by_row(db, client, sign_in_as,
                                                                      family, statements):
    """PostgreSQL: the listing's entries go by COPY (a third of an executemany INSERT's
    time for 50 rows); SQLite: one INSERT given every row."""
    visit(client, sign_in_as, family, "staff")
    statements.clear()
    assert client.get("/registry/residents?q=佐藤").status_code == 200
    [write] = writes(statements)
    expected = "COPY access_log" if db.engine.dialect.name == "postgresql" else "INSERT INTO access_log"
    assert write.startswith(expected), write
