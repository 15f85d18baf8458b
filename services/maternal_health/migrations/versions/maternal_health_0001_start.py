"""maternal_health: start of the service's own migration history

Revision ID: maternal_health_0001
Revises:
Create Date: 2026-11-28
"""
revision = "maternal_health_0001"
down_revision = None
branch_labels = ("maternal_health",)
depends_on = "0001"  # the core tables


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
