"""The SQL a block of code sends, and the plans the database makes for it."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def captured(session):
    """The SQL statements (with their parameters) a block sends."""
    seen = []
    connection = session.connection()

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))
    event.listen(connection, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", keep)


def explained(session, statement: str, parameters) -> str:
    """The plan of one captured statement, one line per step (SQLite or PostgreSQL)."""
    explain = "EXPLAIN QUERY PLAN " if session.bind.dialect.name == "sqlite" else "EXPLAIN "
    rows = session.connection().exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)
