"""wider full names

A resident's full name (family name, a space, given name) is up to 65 characters, one more
than access_log.actor_name and household.head_name held: PostgreSQL refused the row (the
page failed; a household whose head has such a name could not be written). As in 0400,
only PostgreSQL enforces the length.

Revision ID: 0401
Revises: 0400
"""
from alembic import op
import sqlalchemy as sa


revision = '0401'
down_revision = '0400'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("access_log", "actor_name", type_=sa.String(200), existing_type=sa.String(64),
                    existing_nullable=False)
    op.alter_column("household", "head_name", type_=sa.String(65), existing_type=sa.String(64),
                    existing_nullable=False)


def downgrade() -> None:
    # access_log stays wide: narrowing would have to cut values the append-only log holds.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("household", "head_name", type_=sa.String(64), existing_type=sa.String(65),
                        existing_nullable=False)
