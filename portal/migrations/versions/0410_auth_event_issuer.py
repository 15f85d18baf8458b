"""auth events name the certificate's issuer

A refused card sign-in recorded no certificate, so a city's administrator could not tell
which card was refused. Every card attempt now records the certificate it concerned by
issuer and serial (a serial is unique only within its issuer).

Revision ID: 0410
Revises: 0401
"""
from alembic import op
import sqlalchemy as sa


revision = '0410'
down_revision = '0401'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auth_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_issuer', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_event', schema=None) as batch_op:
        batch_op.drop_column('certificate_issuer')
