"""convenience_issuance: start of the service's own migration history

Revision ID: convenience_issuance_0001
Revises:
Create Date: 2026-11-28
"""
revision = "convenience_issuance_0001"
down_revision = None
branch_labels = ("convenience_issuance",)
depends_on = "0001"  # the core tables


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
