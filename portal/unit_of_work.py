"""One unit of work per request (and per command): one database session, opened on first
use, committed or rolled back by the framework — never by a view.

After pyramid_tm (warehouse): the request's session is `get_db()`; when the view has
answered, `finish()` commits, unless the request ended in an exception (then everything is
rolled back). Writes that do not depend on what the request read — access-log rows and the
session's `last_seen` — are *deferred*: kept in the unit of work and written together
just before the commit, the access log in one statement given all its rows (COPY on
PostgreSQL, an executemany INSERT on SQLite).

SQLite: a request that may only read (GET, HEAD, OPTIONS) begins DEFERRED, so its reads
never take the write lock and never wait for a writer (WAL). Its deferred writes then
take the lock at the end. If another connection committed since the read snapshot began,
SQLite refuses the upgrade at once (SQLITE_BUSY_SNAPSHOT); deferred writes depend on
nothing read, so they are written again in a fresh transaction. A safe-method view that
wrote something itself is run again once instead. Other methods begin IMMEDIATE: they
mean to write, and waiting for the lock up front cannot fail that way.

Commands and the terminal API use the same class with an explicit `Actor` (who the access
log names) instead of the signed-in viewer."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterator

from sqlalchemy import event, insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.db import copy_rows, take_writer_turn

# SQLite's extended result codes (Python 3.11 exposes them on the exception)
SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT = 5, 517

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Actor:
    """Who the access log names for what a unit of work does."""
    kind: str                # resident, staff, system, terminal, partner
    id: int | None
    name: str
    role: str

    @classmethod
    def of(cls, viewer) -> "Actor":
        return cls(viewer.kind, viewer.id, viewer.name, viewer.role_label)


SYSTEM = Actor("system", None, "system", "system")


class RetryUnitOfWork(Exception):
    """Raised out of a safe-method view whose own write lost SQLite's snapshot race."""


def is_busy_snapshot(error: BaseException) -> bool:
    """A read transaction lost the race for SQLite's write lock: its snapshot is stale
    (SQLITE_BUSY_SNAPSHOT), or another connection held the lock while it tried to upgrade,
    which SQLite refuses at once, without waiting, to avoid a deadlock (SQLITE_BUSY)."""
    orig = getattr(error, "orig", None)
    return (isinstance(error, OperationalError)
            and getattr(orig, "sqlite_errorcode", None) in (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT))


class UnitOfWork:
    """One session, its deferred writes, and who acts. Not thread-safe: one per request."""

    def __init__(self, database, municipality_id: int | None = None, actor: Actor | None = SYSTEM,
                 may_write: bool = True, path: str = "") -> None:
        self.database = database
        self.municipality_id = municipality_id
        self.actor = actor
        self.may_write = may_write     # False: a safe method, begin deferred on SQLite
        self.path = path[:200]
        self.log_rows: list[dict[str, Any]] = []
        self.deferred: list[Any] = []  # idempotent statements written before the commit
        self._log_done = self._deferred_done = 0  # how many are written in this transaction
        self.doomed = False
        self._session: Session | None = None

    # -- the session ---------------------------------------------------------------
    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.database.session(self.municipality_id)
            self._session.info["unit_of_work"] = self
            if not self.may_write:
                self._session.info["connection_options"] = {"sqlite_deferred": True}
        return self._session

    @property
    def opened(self) -> bool:
        return self._session is not None

    def scope_to(self, municipality_id: int | None) -> None:
        """Name the municipality once it is known (after the session check). Pending
        changes are flushed first: they are checked against the scope they were made in."""
        if self._session is not None and municipality_id != self.municipality_id:
            if self._session.new or self._session.dirty or self._session.deleted:
                self._session.flush()
            self._session.info["municipality_id"] = municipality_id
        self.municipality_id = municipality_id

    @contextmanager
    def part(self, municipality_id: int | None) -> Iterator[Session]:
        """A part of the unit of work that succeeds or fails on its own (a SAVEPOINT), in
        the scope of `municipality_id`; the scope before it is restored after it."""
        session = self.session
        before = self.municipality_id
        marks = (len(self.log_rows), len(self.deferred), self._log_done, self._deferred_done)
        self.scope_to(municipality_id)
        try:
            with session.begin_nested():  # rolled back to here, whatever failed inside
                yield session
                session.flush()
        except BaseException:
            self._forget_since(marks)
            session.info["municipality_id"] = self.municipality_id = before  # nothing to flush
            raise
        self.scope_to(before)

    def _forget_since(self, marks: tuple[int, int, int, int]) -> None:
        """A part rolled back takes its access-log rows and deferred writes with it."""
        logs, deferred, log_done, deferred_done = marks
        del self.log_rows[logs:], self.deferred[deferred:]
        self._log_done, self._deferred_done = (min(self._log_done, log_done),
                                               min(self._deferred_done, deferred_done))

    # -- what the unit of work will write at the end -------------------------------
    def log(self, subject_resident_id: int, action: str, resource: str, purpose: str,
            actor: Actor | None = None) -> None:
        self.log_each((subject_resident_id,), action, resource, purpose, actor)

    def log_each(self, subject_resident_ids, action: str, resource: str, purpose: str,
                 actor: Actor | None = None) -> None:
        """One entry per resident, in the order given, all alike but for the subject: the
        actor is found and the row's other columns made once (a search lists 50)."""
        if self.municipality_id is None:
            from portal.db import UnscopedQueryError
            raise UnscopedQueryError("access log entry in a unit of work without a municipality")
        who = actor or self.actor or viewer_actor()
        entry = {"municipality_id": self.municipality_id,
                 "actor_type": who.kind, "actor_id": who.id, "actor_name": who.name[:200],
                 "actor_role": who.role[:200], "action": action, "resource": resource[:64],
                 "purpose": purpose[:200], "request_path": self.path}
        self.log_rows.extend(
            {**entry, "occurred_at": datetime.now(timezone.utc).replace(tzinfo=None),
             "subject_resident_id": subject_resident_id}
            for subject_resident_id in subject_resident_ids)

    def defer(self, statement) -> None:
        """An idempotent write that depends on nothing this unit read (an UPDATE guarded
        by its own WHERE): safe to write again in a fresh transaction."""
        self.deferred.append(statement)

    def write_deferred(self) -> None:
        """Write what was deferred and not yet written in this transaction."""
        session = self.session
        session.info["deferring"] = True
        try:
            for statement in self.deferred[self._deferred_done:]:
                session.execute(statement)
            self._deferred_done = len(self.deferred)
            rows = self.log_rows[self._log_done:]
            if rows:
                _write_log_rows(session, rows)
            self._log_done = len(self.log_rows)
        finally:
            session.info["deferring"] = False

    @property
    def has_unwritten(self) -> bool:
        return (len(self.log_rows) > self._log_done
                or len(self.deferred) > self._deferred_done)

    # -- the end -------------------------------------------------------------------
    def doom(self) -> None:
        """The request failed: nothing of it is written. Rolled back at once so that an
        error page can still read (a new transaction, also rolled back)."""
        self.doomed = True
        self._forget_writes()
        if self._session is not None:
            self._session.rollback()

    def finish(self) -> None:
        """Commit, or roll back when doomed; then close."""
        try:
            if self._session is None and not self.has_unwritten:
                return
            if self.doomed:
                self._session.rollback()
                return
            self._commit()
        finally:
            self.close()

    def _commit(self) -> None:
        session = self.session
        try:
            if not self.may_write and self.has_unwritten and not session.info.get("wrote"):
                take_writer_turn(session.connection())   # queue for the write lock
            self.write_deferred()
            session.commit()
        except OperationalError as error:
            session.rollback()
            self._log_done = self._deferred_done = 0
            if not is_busy_snapshot(error) or self.may_write:
                raise  # an IMMEDIATE unit already waited its busy timeout for the lock
            if session.info.get("wrote"):
                raise RetryUnitOfWork() from error
            # Only deferred writes were pending, and they depend on nothing read: write
            # them again in a transaction that takes the write lock first.
            session.info["connection_options"] = {"sqlite_deferred": False}
            self.write_deferred()
            session.commit()
        self._forget_writes()

    def _forget_writes(self) -> None:
        self.log_rows, self.deferred = [], []
        self._log_done = self._deferred_done = 0

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _write_log_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """The access-log rows in one statement, on the unit's connection, past the ORM's
    execute machinery (no ORM event concerns a deferred write). PostgreSQL: COPY
    (portal.db.copy_rows; a search's 50 rows cost a third of an executemany INSERT's
    time, Python and server). SQLite: one prepared INSERT given every row (executemany,
    stepped in C). Not INSERT … VALUES (…), (…): SQLAlchemy compiles a multi-VALUES
    statement anew for every call, which cost 9.5 ms for one row against 0.15 ms
    (SQLite; /work bench in the log)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        copy_rows(connection, _access_log_table(), rows)
    else:
        connection.execute(_access_log_insert(), rows)


@lru_cache(maxsize=1)
def _access_log_insert():
    """The access log's INSERT, built once."""
    return insert(_access_log_table())


def _access_log_table():
    from portal.audit.models import AccessLogEntry  # imported late: it imports us
    return AccessLogEntry.__table__


def viewer_actor() -> Actor:
    """A request's unit of work names whoever is signed in when the entry is made."""
    from flask import g, has_app_context
    viewer = g.get("viewer") if has_app_context() else None
    return Actor.of(viewer) if viewer is not None else SYSTEM


def write_now(session: Session, statement, params=None):
    """A Core write on the session's connection, past the ORM (no unit-of-work flush, no
    ORM statement compilation: a login's few rows cost a third of it through the ORM).
    Marked as written, like a flush, so a lost snapshot race runs the request again
    rather than committing without it. The caller checks the municipality."""
    session.info["wrote"] = True
    return session.connection().execute(statement, params)


def unit_of(session: Session) -> UnitOfWork | None:
    return session.info.get("unit_of_work")


@contextmanager
def unit_of_work(database, municipality_id: int | None = None,
                 actor: Actor = SYSTEM) -> Iterator[Session]:
    """A unit of work outside a request (commands, background work): commit on success,
    roll back on any error. The access log names `actor`."""
    work = UnitOfWork(database, municipality_id, actor)
    try:
        yield work.session
    except BaseException:
        work.doom()
        work.close()
        raise
    work.finish()


# A session remembers whether anything but deferred writes went through it: only then
# does a lost snapshot race need the whole request again.
@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _ctx) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if (state.is_insert or state.is_update or state.is_delete) \
            and not state.session.info.get("deferring"):
        state.session.info["wrote"] = True


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("wrote", None)
        work = unit_of(session)
        if work is not None:  # whatever it had written early is gone: write it again
            work._log_done = work._deferred_done = 0
