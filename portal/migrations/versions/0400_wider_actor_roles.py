"""wider actor roles

A staff member may hold every role; the comma-joined list is 74 characters, and PostgreSQL
refused it in the 64-character columns (every logged page of such a member failed).
SQLite does not enforce VARCHAR lengths, so only PostgreSQL is altered — and altering the
SQLite tables in batch mode would rebuild access_log without its append-only triggers.

Revision ID: 0400
Revises: 0300
"""
from alembic import op
import sqlalchemy as sa


revision = '0400'
down_revision = '0300'
branch_labels = None
depends_on = None

COLUMNS = (("access_log", "actor_role"), ("city_config_change", "actor_role"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.String(200), existing_type=sa.String(64),
                        existing_nullable=False)


def downgrade() -> None:
    # Left wide on purpose: narrowing would have to cut values the append-only log holds,
    # and a wider column is harmless to the earlier code.
    pass
