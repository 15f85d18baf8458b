"""Database engine, sessions and the municipality (tenant) scope.

Every personal table carries `municipality_id` through `TenantScoped`. A session is opened
for one municipality (`Database.session_for(municipality_id)`), and an ORM event adds
`municipality_id = :tenant` to every query on a TenantScoped entity. A query on such an
entity in a session without a tenant raises `UnscopedQueryError` unless the caller says
`execution_options(all_municipalities=True)` — so the unscoped query is the one that has to
be written on purpose, and grep finds every one of them.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy import ForeignKey, MetaData, Table, bindparam, create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import (DeclarativeBase, Mapped, ORMExecuteState, Session, declared_attr,
                            mapped_column, sessionmaker, with_loader_criteria)

from portal.writer_turn import WriterTurn, give_back

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ALL_MUNICIPALITIES = "all_municipalities"
TURN_OF = "madoguchi.turn_of"   # a SQLite connection's WriterTurn, in its pool record's info


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UnscopedQueryError(RuntimeError):
    """A query touched municipal data without saying which municipality."""


class CrossTenantWriteError(RuntimeError):
    """An object of one municipality was written in a session of another."""


class TenantScoped:
    """Mixin for every row that belongs to exactly one municipality."""

    @declared_attr
    def municipality_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("municipality.id", ondelete="RESTRICT"),
                             index=True, nullable=False)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and enforced foreign keys."""
    kwargs = {}
    if url.startswith("sqlite"):
        # isolation_level=None + an explicit BEGIN: pysqlite's own transaction handling
        # breaks SAVEPOINTs, which nested units of work and the test harness rely on.
        # IMMEDIATE: every unit of work may write (views log each read), and a deferred
        # transaction that reads, then writes after another writer committed, fails at
        # once with SQLITE_BUSY instead of waiting; taking the write lock up front waits.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30,
                                  "isolation_level": None}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        _writers_take_turns(engine)
    return engine


def _writers_take_turns(engine: Engine) -> None:
    """A file database's writers queue for its write lock (portal.writer_turn)."""
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    turn = WriterTurn(path, timeout=30)

    def connect(_dbapi_connection, record) -> None:
        record.info[TURN_OF] = turn

    def ended(conn) -> None:
        give_back(conn.info)

    def reset(_dbapi_connection, record, _reset_state) -> None:
        give_back(record.info)   # a connection back in the pool holds no turn

    event.listen(engine, "connect", connect)
    event.listen(engine, "commit", ended)
    event.listen(engine, "rollback", ended)
    event.listen(engine, "reset", reset)


def take_writer_turn(connection) -> None:
    """Before the first write of a transaction that began deferred (SQLite)."""
    turn = connection.info.get(TURN_OF)
    if turn is not None:
        turn.take(connection.info)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    if not _is_memory(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    deferred = conn.get_execution_options().get("sqlite_deferred")
    if not deferred:
        take_writer_turn(conn)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def _is_memory(dbapi_connection) -> bool:
    rows = dbapi_connection.execute("PRAGMA database_list").fetchall()
    return any(row[2] == "" for row in rows)


class PortalSession(Session):
    """A session whose every transaction begins the way its unit of work says
    (`info["connection_options"]`, e.g. deferred on SQLite for a request that only reads),
    not only the first one: a session used again after a commit keeps its mode."""

    def _connection_for_bind(self, engine, execution_options=None, **kw):
        wanted = self.info.get("connection_options")
        if wanted and not self.in_transaction():  # (a begun one has its connection)
            execution_options = {**wanted, **(execution_options or {})}
        return super()._connection_for_bind(engine, execution_options, **kw)


class Database:
    """Holds the engine and hands out sessions; one per app (Flask extension style)."""

    def __init__(self, url: str | None = None) -> None:
        self.engine: Engine | None = None
        self.factory = sessionmaker(class_=PortalSession, expire_on_commit=False)
        if url:
            self.connect(url)

    def connect(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory.configure(bind=self.engine)

    def session(self, municipality_id: int | None = None) -> Session:
        """A new session scoped to one municipality (or to none: public and operator data)."""
        session = self.factory()
        session.info["municipality_id"] = municipality_id
        return session

    @contextmanager
    def transaction(self, municipality_id: int | None = None) -> Iterator[Session]:
        """All-or-nothing unit of work: commit on success, roll back on any error.
        Inside a request it is a part of the request's one unit of work instead (a
        SAVEPOINT in its session, scoped to `municipality_id` for the block): all-or-nothing
        for the block, committed with the request (portal.unit_of_work)."""
        work = _request_unit_of(self)
        if work is not None:
            with work.part(municipality_id) as session:
                yield session
            return
        session = self.session(municipality_id)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def refresh_statistics(self, *models) -> None:
        """After a bulk write, give the planner the tables' new shape (ANALYZE). Planned
        from empty tables, both databases read a guardian's children through the city's
        whole municipality index — every resident (PostgreSQL) or every guardian link
        (SQLite) of the city for each `/me/` — until statistics came: on PostgreSQL at
        autovacuum's next pass, a minute or more later; on SQLite never."""
        with self.transaction() as session:
            if session.bind.dialect.name == "postgresql":
                session.execute(text("ANALYZE " + ", ".join(m.__table__.name for m in models)))
            else:                                   # SQLite's ANALYZE takes one table
                for model in models:
                    session.execute(text(f"ANALYZE {model.__table__.name}"))

    @contextmanager
    def read(self, municipality_id: int | None = None) -> Iterator[Session]:
        """A look that writes nothing and never waits for a writer, always rolled back.
        On SQLite it is a deferred transaction: WAL lets it read beside a write transaction
        held by another connection — even one this same thread holds, as when a template
        asks for something while its view's unit of work is still open (an IMMEDIATE
        transaction would wait for that lock until the busy timeout)."""
        session = self.session(municipality_id)
        try:
            session.connection(execution_options={"sqlite_deferred": True})
            yield session
        finally:
            session.close()  # ends the transaction unwritten; loaded objects stay readable


def _request_unit_of(database: "Database"):
    """The unit of work of the request this database's app is dispatching, if any."""
    from flask import current_app, g, has_request_context
    if not has_request_context() or not g.get("dispatching") \
            or current_app.extensions.get("madoguchi.db") is not database:
        return None
    from portal.extensions import current_unit
    return current_unit()


def scoped(model, *criteria):
    """The one way to select municipal rows: the session's tenant is added by the event."""
    return select(model).where(*criteria)


def rows_of(db: Session, model, *criteria, order_by=(), limit: int | None = None,
            stand_in=None) -> list:
    """The rows of `model` that match as read-only stand-ins (`Read`: the columns as plain
    attributes), for pages that only read. A Core select on the session's connection:
    building, identity-mapping and tracking ORM objects — or even the ORM's per-column
    work for a select of columns — cost more than reading the rows. So the tenant's
    criterion is added here, explicitly, as the ORM event adds it to ORM selects.
    For a read whose shape never changes, `Rows` builds the statement once."""
    table = model.__table__
    if issubclass(model, TenantScoped):
        tenant = tenant_of(db, f"rows of {model.__name__}")
        criteria = (*criteria, table.c.municipality_id == tenant)
    statement = select(table).where(*criteria).order_by(*order_by).limit(limit)
    return _stand_ins(db.connection().execute(statement), stand_in or Read)


class Rows:
    """A read of `model`'s rows as `rows_of` gives them, its statement built once: the
    criteria name their values as bind parameters, given at each call.

        _CHECKUPS = Rows(ChildCheckup, ChildCheckup.child_id == bindparam("child_id"),
                         order_by=(ChildCheckup.checked_on,))
        _CHECKUPS(db, child_id=7)

    Building a select and its cache key for every call cost as much as running it (about
    half of a small read); a statement built once keeps its cache key. The city's
    criterion is a bind parameter too, filled from the session as rows_of does."""

    TENANT = "rows_tenant"

    def __init__(self, model, *criteria, order_by=(), limit: int | None = None,
                 stand_in=None) -> None:
        table = model.__table__
        self.model, self.stand_in = model, stand_in or Read
        self.scoped = issubclass(model, TenantScoped)
        if self.scoped:
            criteria = (*criteria, table.c.municipality_id == bindparam(self.TENANT))
        self.statement = select(table).where(*criteria).order_by(*order_by).limit(limit)

    def __call__(self, db: Session, **values) -> list:
        if self.scoped:
            values[self.TENANT] = tenant_of(db, f"rows of {self.model.__name__}")
        return _stand_ins(db.connection().execute(self.statement, values), self.stand_in)


def tenant_of(db: Session, doing: str) -> int:
    """The session's city, for a Core read or write that adds it itself (past the ORM's
    tenant event and flush guard); refused, as they refuse, in a session without one.
    `doing` names the statement in the error."""
    tenant = db.info.get("municipality_id")
    if tenant is None:
        raise UnscopedQueryError(f"{doing} in a session without a municipality")
    return tenant


def _stand_ins(result, make) -> list:
    keys = tuple(result.keys())
    return [make(dict(zip(keys, row))) for row in result]


def copy_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """`rows` (dicts with the same keys) into `table` by PostgreSQL's COPY FROM STDIN:
    one exchange, the rows formatted by psycopg in C and stored in batches, where an
    INSERT given many rows (executemany) is executed once per row. 50 access-log rows:
    0.27 ms of Python and 0.76 ms in all, against 1.07 and 2.07 ms (/work bench, see the
    commit). Values go to the driver as they are, without SQLAlchemy's bind processing:
    only for columns that need none (strings, numbers, times). Statement listeners see it
    like any statement, and a failure is SQLAlchemy's error (OperationalError: a 503)."""
    preparer = connection.dialect.identifier_preparer
    columns = list(rows[0])
    statement = (f"COPY {preparer.format_table(table)} "
                 f"({', '.join(preparer.quote(c) for c in columns)}) FROM STDIN")
    cursor = connection.connection.cursor()
    try:
        connection.dispatch.before_cursor_execute(connection, cursor, statement, rows, None, True)
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])
        connection.dispatch.after_cursor_execute(connection, cursor, statement, rows, None, True)
    except connection.dialect.loaded_dbapi.Error as error:
        raise _wrapped(connection, cursor, statement, error) from error
    finally:
        cursor.close()


def _wrapped(connection: Connection, cursor, statement: str, error: Exception) -> DBAPIError:
    """The driver's error as SQLAlchemy raises it for a statement of its own (a lost
    connection invalidated, so the pool does not hand it out again)."""
    gone = connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(error)
    return DBAPIError.instance(statement, None, error, connection.dialect.loaded_dbapi.Error,
                               connection_invalidated=gone, dialect=connection.dialect)


class Read:
    """A row read for a page: its columns as attributes, plus whatever it is given."""

    def __init__(self, columns: dict, **more) -> None:
        self.__dict__ = columns
        columns.update(more)


def across_municipalities(statement):
    """Mark a statement as deliberately crossing municipalities (operators, migrations)."""
    return statement.execution_options(**{ALL_MUNICIPALITIES: True})


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(ALL_MUNICIPALITIES):
        return
    tenant = state.session.info.get("municipality_id")
    if tenant is None:
        if _touches_tenant_data(state):
            raise UnscopedQueryError(
                "query on municipal data without a municipality; open the session with "
                "Database.session(municipality_id) or use across_municipalities()")
        return
    state.statement = state.statement.options(_criteria(tenant))


@lru_cache(maxsize=1024)
def _criteria(tenant: int):
    """One option per municipality, built once: building it (a lambda analysed, its cache
    key made) for every statement cost more than many a statement's own work."""
    return with_loader_criteria(
        TenantScoped, lambda cls: cls.municipality_id == tenant, include_aliases=True)


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, TenantScoped):
            return True
    return False


@event.listens_for(Session, "before_flush")
def _check_tenant_on_write(session: Session, _ctx, _instances) -> None:
    tenant = session.info.get("municipality_id")
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is None:
            if not session.info.get(ALL_MUNICIPALITIES):
                raise UnscopedQueryError(
                    f"writing {type(obj).__name__} in a session without a municipality")
            continue
        if obj.municipality_id is None:
            obj.municipality_id = tenant
        elif obj.municipality_id != tenant:
            raise CrossTenantWriteError(
                f"{type(obj).__name__} of municipality {obj.municipality_id} "
                f"written in a session of municipality {tenant}")
