"""how a session signed in; partner services that require the card

user_session.auth_method says how the viewer signed in (card with PIN, staff password and
TOTP, development demo); the OIDC provider turns it into `acr`/`amr`. An authorization code
keeps the method of the session it was issued in. oidc_client.require_card: a partner
registered to accept only a card sign-in.

Revision ID: 0520
Revises: 0420
"""
from alembic import op
import sqlalchemy as sa


revision = '0520'
down_revision = '0420'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_session') as table:
        table.add_column(sa.Column('auth_method', sa.String(length=16), nullable=True))
    with op.batch_alter_table('oidc_authorization_code') as table:
        table.add_column(sa.Column('auth_method', sa.String(length=16), nullable=True))
    with op.batch_alter_table('oidc_client') as table:
        table.add_column(sa.Column('require_card', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('oidc_client') as table:
        table.drop_column('require_card')
    with op.batch_alter_table('oidc_authorization_code') as table:
        table.drop_column('auth_method')
    with op.batch_alter_table('user_session') as table:
        table.drop_column('auth_method')
