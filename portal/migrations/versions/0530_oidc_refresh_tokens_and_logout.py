"""OIDC refresh tokens (offline_access) and RP-initiated logout

oidc_refresh_token: hashed refresh tokens, rotated on every use; the tokens descended from one
authorization code are a family (`code_pk`), revoked together when a used one comes back.
oidc_authorization_code.card: the card certificate the sign-in used, so a refresh fails once
a CRL lists it. oidc_client.post_logout_redirect_uris: where RP-initiated logout may return.

Revision ID: 0530
Revises: 0521
"""
from alembic import op
import sqlalchemy as sa


revision = '0530'
down_revision = '0521'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oidc_client') as table:
        table.add_column(sa.Column('post_logout_redirect_uris', sa.JSON(), nullable=False,
                                   server_default='[]'))
    with op.batch_alter_table('oidc_authorization_code') as table:
        table.add_column(sa.Column('card', sa.JSON(), nullable=True))
    op.create_table('oidc_refresh_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('code_pk', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['code_pk'], ['oidc_authorization_code.id'], name=op.f('fk_oidc_refresh_token_code_pk_oidc_authorization_code')),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_client.id'], name=op.f('fk_oidc_refresh_token_client_pk_oidc_client')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_oidc_refresh_token_resident_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_oidc_refresh_token_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_refresh_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oidc_refresh_token_token_hash'))
    )
    for column in ('code_pk', 'client_pk', 'resident_id', 'municipality_id'):
        op.create_index(op.f(f'ix_oidc_refresh_token_{column}'), 'oidc_refresh_token', [column],
                        unique=False)


def downgrade() -> None:
    for column in ('code_pk', 'client_pk', 'resident_id', 'municipality_id'):
        op.drop_index(op.f(f'ix_oidc_refresh_token_{column}'), table_name='oidc_refresh_token')
    op.drop_table('oidc_refresh_token')
    with op.batch_alter_table('oidc_authorization_code') as table:
        table.drop_column('card')
    with op.batch_alter_table('oidc_client') as table:
        table.drop_column('post_logout_redirect_uris')
