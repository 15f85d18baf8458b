"""convenience_issuance: bind the idempotency key to the request's body

A retried confirmation with the same key and another amount was answered with the first
certificate (200). The payment now keeps the SHA-256 of the body it was confirmed with;
payments made before have none ('') and are answered as before.

Revision ID: convenience_issuance_0003
Revises: convenience_issuance_0002
"""
from alembic import op
import sqlalchemy as sa

revision = 'convenience_issuance_0003'
down_revision = 'convenience_issuance_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('convenience_issuance_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('convenience_issuance_payment', schema=None) as batch_op:
        batch_op.drop_column('request_hash')
