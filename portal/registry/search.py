"""The one resident search staff use (the registry, the handbook and the notebook pages).

Names and kana are compared as search keys (`portal.registry.names.fold`) on both sides.
A key of three characters or more is looked for anywhere in the name or kana through a
trigram index (PostgreSQL: pg_trgm GIN indexes; SQLite: the FTS5 trigram table
`resident_search_fts`); a shorter one — 佐藤, 林 — has no trigram, so it matches the start
of the family or given name or kana through btree indexes. Either way no query reads
every resident, and wildcards typed by staff (% _) are plain characters. The tenant
criteria come from the session like any other ORM select."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import and_, column, literal_column, or_, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from portal.db import rows_of, scoped
from portal.registry.models import Resident, ResidentRead
from portal.registry.names import fold

TRIGRAM = 3
LIMIT = 50
LIKE_ESCAPE = "/"
_FTS = table("resident_search_fts", column("rowid"))
_PREFIX_COLUMNS = (Resident.name_key, Resident.given_name_key, Resident.kana_key,
                   Resident.given_kana_key)


@dataclass(frozen=True)
class SearchResult:
    """At most `limit` residents; `more` when others matched too (the page says so)."""
    residents: list[ResidentRead]
    more: bool


def resident_search(text: str | None):
    """The residents (of the session's city) whose name or kana contains `text` (or, for
    one or two characters, begins with it), or whose resident number is `text`; a select
    callers order and limit, or None when the text is empty."""
    matching = _matching(text)
    return None if matching is None else scoped(Resident, matching)


def find_residents(db: Session, text: str | None, *order_by, limit: int = LIMIT) -> SearchResult:
    """The first `limit` residents `resident_search` finds, in `order_by` order, as rows
    (ResidentRead): a result page only shows them, and fifty ORM objects cost more to
    build than the page's own query."""
    matching = _matching(text)
    if matching is None:
        return SearchResult([], False)
    rows = rows_of(db, Resident, matching, order_by=(*order_by, Resident.id), limit=limit + 1,
                   stand_in=ResidentRead)
    return SearchResult(rows[:limit], len(rows) > limit)


def _matching(text: str | None):
    text = _printable(text or "")
    key = fold(text)
    if not key:
        return None
    number = unicodedata.normalize("NFKC", text).strip()
    return or_(Resident.number == number, _name_or_kana_matches(key))


def like_escape(text: str, escape: str = LIKE_ESCAPE) -> str:
    """`text` as a literal inside a LIKE pattern (with ESCAPE `escape`)."""
    for char in (escape, "%", "_"):
        text = text.replace(char, escape + char)
    return text


def _printable(text: str) -> str:
    # A NUL or other control character cannot be in a name, and PostgreSQL refuses NUL.
    return "".join(char for char in text if char.isprintable() or char.isspace())


def _name_or_kana_matches(key: str):
    if len(key) < TRIGRAM:
        return or_(*(_starts_with(column_, key) for column_ in _PREFIX_COLUMNS))
    return key_contains(f"%{like_escape(key)}%", '"' + key.replace('"', '""') + '"')


def _starts_with(column_, prefix: str):
    """A btree range rather than LIKE 'x%': no wildcard to escape, and SQLite uses an index
    for it without PRAGMA case_sensitive_like. Keys compare by codepoint (collation "C")."""
    following = _next_codepoint(prefix[-1])
    if following is None:
        return column_ >= prefix
    return and_(column_ >= prefix, column_ < prefix[:-1] + following)


def _next_codepoint(char: str) -> str | None:
    code = ord(char) + 1
    if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters: skip to the next one
        code = 0xE000
    return chr(code) if code <= 0x10FFFF else None


class key_contains(FunctionElement):
    """True when the resident's name key or kana key contains the search key: a LIKE
    pattern for PostgreSQL's pg_trgm indexes, an FTS5 phrase for SQLite's trigram table.
    Arguments: (LIKE pattern escaped with `LIKE_ESCAPE`, FTS5 quoted phrase). Untyped: a
    Boolean function would be rendered `… = 1` on SQLite, which hides the IN from its planner."""
    inherit_cache = True
    name = "key_contains"


@compiles(key_contains)
def _compile_like(element, compiler, **kw):
    pattern = list(element.clauses)[0]
    return compiler.process(or_(Resident.name_key.like(pattern, escape=LIKE_ESCAPE),
                                Resident.kana_key.like(pattern, escape=LIKE_ESCAPE)), **kw)


@compiles(key_contains, "sqlite")
def _compile_fts(element, compiler, **kw):
    phrase = list(element.clauses)[1]
    matching = select(_FTS.c.rowid).where(literal_column("resident_search_fts").op("MATCH")(phrase))
    return compiler.process(Resident.id.in_(matching), **kw)
