"""medication: start of the service's own migration history

Revision ID: medication_0001
Revises:
Create Date: 2026-11-28
"""
revision = "medication_0001"
down_revision = None
branch_labels = ("medication",)
depends_on = "0001"  # the core tables


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
