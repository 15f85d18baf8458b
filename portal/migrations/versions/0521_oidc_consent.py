"""remembered OIDC consent

oidc_consent: what a resident agreed to share with a partner service (the scope set), when,
and when the partner last used it; the resident's page 「連携しているサービス」 lists them and
withdraws them.

Revision ID: 0521
Revises: 0520
"""
from alembic import op
import sqlalchemy as sa


revision = '0521'
down_revision = '0520'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oidc_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_client.id'], name=op.f('fk_oidc_consent_client_pk_oidc_client')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_oidc_consent_resident_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_oidc_consent_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_consent')),
    sa.UniqueConstraint('client_pk', 'resident_id', name=op.f('uq_oidc_consent_client_pk'))
    )
    for column in ('resident_id', 'municipality_id'):
        op.create_index(op.f(f'ix_oidc_consent_{column}'), 'oidc_consent', [column], unique=False)


def downgrade() -> None:
    for column in ('resident_id', 'municipality_id'):
        op.drop_index(op.f(f'ix_oidc_consent_{column}'), table_name='oidc_consent')
    op.drop_table('oidc_consent')
