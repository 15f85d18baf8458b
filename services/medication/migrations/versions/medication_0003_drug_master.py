"""drug code master: the published HOT and 支払基金 masters, shared by every city

Revision ID: medication_0003
Revises: medication_0002
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = 'medication_0003'
down_revision = 'medication_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('medication_master_version',
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('version_date', sa.Date(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('records', sa.Integer(), nullable=False),
    sa.Column('codes', sa.Integer(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.Column('loaded_by', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_medication_master_version'))
    )
    op.create_table('medication_master_code',
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('code_kind', sa.String(length=2), nullable=False),
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('structured_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('source', 'code_kind', 'code', name=op.f('pk_medication_master_code'))
    )
    op.create_index('ix_medication_master_code_code', 'medication_master_code', ['code'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_medication_master_code_code', table_name='medication_master_code')
    op.drop_table('medication_master_code')
    op.drop_table('medication_master_version')
