"""A covering index for the data-version check every API request makes (count and newest change of parks).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 05:00:00
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_parks_updated", "parks", ["updated_at", "retired_at"])


def downgrade() -> None:
    op.drop_index("ix_parks_updated", table_name="parks")
