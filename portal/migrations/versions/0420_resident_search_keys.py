"""resident search keys and indexes

Staff search compared the query, folded, with names as stored: 「元親二世」 missed
「元親　二世」 and ｼｹﾝ found nothing, and every search read every resident. The resident
gets four search keys (`portal.registry.names.fold`: whole name and kana, given name and
kana alone), backfilled here, each with a btree index on (city, key) for prefixes of one or
two characters. Substring search:

- PostgreSQL: pg_trgm GIN indexes on (city, name key) and (city, kana key), btree_gin
  for the city column, so a search reads only its city's entries; the keys use collation
  "C" so a prefix is one btree range.
- SQLite: an FTS5 trigram table over the same keys (external content: the resident table),
  kept in step by triggers, so Core inserts (the bulk importer) are indexed too. A later
  migration that rebuilds the resident table in batch mode drops these triggers: it must
  create them again (tests/registry/test_search.py fails otherwise).

Revision ID: 0420
Revises: 0411
"""
from alembic import op
import sqlalchemy as sa

from portal.registry.names import KEY_SOURCES, search_keys


revision = '0420'
down_revision = '0411'
branch_labels = None
depends_on = None

KEYS = tuple(KEY_SOURCES)
TRIGRAM_KEYS = ("name_key", "kana_key")
BATCH = 2000

FTS_TRIGGERS = {
    "resident_search_fts_insert": """
        CREATE TRIGGER resident_search_fts_insert AFTER INSERT ON resident BEGIN
          INSERT INTO resident_search_fts(rowid, name_key, kana_key)
          VALUES (new.id, new.name_key, new.kana_key);
        END""",
    "resident_search_fts_delete": """
        CREATE TRIGGER resident_search_fts_delete AFTER DELETE ON resident BEGIN
          INSERT INTO resident_search_fts(resident_search_fts, rowid, name_key, kana_key)
          VALUES ('delete', old.id, old.name_key, old.kana_key);
        END""",
    "resident_search_fts_update": """
        CREATE TRIGGER resident_search_fts_update AFTER UPDATE OF name_key, kana_key ON resident
        BEGIN
          INSERT INTO resident_search_fts(resident_search_fts, rowid, name_key, kana_key)
          VALUES ('delete', old.id, old.name_key, old.kana_key);
          INSERT INTO resident_search_fts(rowid, name_key, kana_key)
          VALUES (new.id, new.name_key, new.kana_key);
        END""",
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    key_type = sa.String(collation="C") if postgres else sa.String()
    for key in KEYS:
        # NOT NULL needs a default for the rows already there; the backfill replaces it.
        op.add_column("resident", sa.Column(key, key_type, nullable=False, server_default=""))
    _backfill()
    for key in KEYS:
        op.create_index(f"ix_resident_{key}", "resident", ["municipality_id", key])
    if postgres:
        _postgres_trigram_indexes()
    else:
        _sqlite_fts()


def _backfill() -> None:
    resident = sa.table("resident", sa.column("id"), *(sa.column(name) for name in
                        ("family_name", "given_name", "family_name_kana", "given_name_kana", *KEYS)))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(resident).where(resident.c.id > last)
                            .order_by(resident.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        bind.execute(resident.update().where(resident.c.id == sa.bindparam("row_id"))
                     .values({key: sa.bindparam(key) for key in KEYS}),
                     [{"row_id": row["id"], **search_keys(row)} for row in rows])
        last = rows[-1]["id"]


def _postgres_trigram_indexes() -> None:
    for key in KEYS:
        op.alter_column("resident", key, server_default=None)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    # The extension may live in another schema than this one (installed once per database,
    # e.g. in public while this deployment has its own search_path): name it in full.
    schema = op.get_bind().scalar(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"))
    for key in TRIGRAM_KEYS:
        op.create_index(f"ix_resident_{key}_trgm", "resident", ["municipality_id", key],
                        postgresql_using="gin", postgresql_ops={key: f"{schema}.gin_trgm_ops"})


def _sqlite_fts() -> None:
    op.execute("CREATE VIRTUAL TABLE resident_search_fts USING fts5(name_key, kana_key, "
               "content='resident', content_rowid='id', tokenize='trigram')")
    for ddl in FTS_TRIGGERS.values():
        op.execute(ddl)
    op.execute("INSERT INTO resident_search_fts(resident_search_fts) VALUES ('rebuild')")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for key in TRIGRAM_KEYS:
            op.drop_index(f"ix_resident_{key}_trgm", "resident")
    else:
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE resident_search_fts")
    for key in KEYS:
        op.drop_index(f"ix_resident_{key}", "resident")
        op.drop_column("resident", key)  # the extensions stay: dropping them is the DBA's call
