"""OpenID Connect provider: clients, authorization codes, access tokens, signing keys

Revision ID: 0200
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0200'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oidc_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('sector_identifier', sa.String(length=255), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_oidc_client_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oidc_client_client_id'))
    )
    op.create_index(op.f('ix_oidc_client_municipality_id'), 'oidc_client', ['municipality_id'], unique=False)

    op.create_table('oidc_authorization_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('nonce', sa.String(length=255), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=False),
    sa.Column('auth_time', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_client.id'], name=op.f('fk_oidc_authorization_code_client_pk_oidc_client')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_oidc_authorization_code_resident_id_resident')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_oidc_authorization_code_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_authorization_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oidc_authorization_code_code_hash'))
    )
    for column in ('client_pk', 'resident_id', 'municipality_id'):
        op.create_index(op.f(f'ix_oidc_authorization_code_{column}'), 'oidc_authorization_code', [column], unique=False)

    op.create_table('oidc_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('code_pk', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.Integer(), nullable=False),
    sa.Column('expires_in', sa.Integer(), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['oidc_client.id'], name=op.f('fk_oidc_token_client_pk_oidc_client')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_oidc_token_resident_id_resident')),
    sa.ForeignKeyConstraint(['code_pk'], ['oidc_authorization_code.id'], name=op.f('fk_oidc_token_code_pk_oidc_authorization_code')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_oidc_token_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oidc_token_token_hash'))
    )
    for column in ('client_pk', 'resident_id', 'code_pk', 'municipality_id'):
        op.create_index(op.f(f'ix_oidc_token_{column}'), 'oidc_token', [column], unique=False)

    op.create_table('oidc_signing_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_signing_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_oidc_signing_key_kid'))
    )
    op.create_index(op.f('ix_oidc_signing_key_created_at'), 'oidc_signing_key', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_oidc_signing_key_created_at'), table_name='oidc_signing_key')
    op.drop_table('oidc_signing_key')
    for column in ('client_pk', 'resident_id', 'code_pk', 'municipality_id'):
        op.drop_index(op.f(f'ix_oidc_token_{column}'), table_name='oidc_token')
    op.drop_table('oidc_token')
    for column in ('client_pk', 'resident_id', 'municipality_id'):
        op.drop_index(op.f(f'ix_oidc_authorization_code_{column}'), table_name='oidc_authorization_code')
    op.drop_table('oidc_authorization_code')
    op.drop_index(op.f('ix_oidc_client_municipality_id'), table_name='oidc_client')
    op.drop_table('oidc_client')
