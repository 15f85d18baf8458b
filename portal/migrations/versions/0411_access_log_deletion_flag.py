"""the access log's trigger lets one transaction delete one departing city's rows

City deletion ran `ALTER TABLE access_log DISABLE TRIGGER USER`: that needs table ownership
and takes an ACCESS EXCLUSIVE lock, which held every other city's page (each writes the
access log) until the deletion committed. Now the trigger itself allows a DELETE of a row
whose city the deleting transaction named: on PostgreSQL by `SET LOCAL
madoguchi.deleting_city = '<id>'` (gone at commit or rollback); on SQLite, whose triggers
cannot see temporary tables, by a row in access_log_deletion written and removed inside the
deleting transaction (SQLite has one writer at a time, so nobody else sees it). UPDATE is
refused as before, and so is any other DELETE.

Revision ID: 0411
Revises: 0410
"""
from alembic import op


revision = '0411'
down_revision = '0410'
branch_labels = None
depends_on = None

REFUSE = "SELECT RAISE(ABORT, 'access_log is append-only')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TABLE access_log_deletion (municipality_id INTEGER PRIMARY KEY)")
        op.execute("DROP TRIGGER access_log_no_delete")
        op.execute("CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
                   "WHEN NOT EXISTS (SELECT 1 FROM access_log_deletion d "
                   "WHERE d.municipality_id = OLD.municipality_id) "
                   f"BEGIN {REFUSE}; END")
        return
    op.execute("CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN "
               "IF TG_OP = 'DELETE' AND OLD.municipality_id::text = "
               "current_setting('madoguchi.deleting_city', true) THEN RETURN OLD; END IF; "
               "RAISE EXCEPTION 'access_log is append-only'; END $$")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER access_log_no_delete")
        op.execute(f"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log BEGIN {REFUSE}; END")
        op.execute("DROP TABLE access_log_deletion")
        return
    op.execute("CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger "
               "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'access_log is append-only'; END $$")
