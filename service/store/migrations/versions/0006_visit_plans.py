"""Officers: per-park as-of dates of live scores, visits planned together, referrals to the social domain.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:10:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_now = sa.text("(CURRENT_TIMESTAMP)")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("park_scores") as batch:
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
    op.create_table(
        "visit_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=80), nullable=False),
        sa.Column("officers", _json, nullable=False),
        sa.Column("partners", _json, nullable=False),
        sa.Column("status", sa.String(length=12), server_default="planned", nullable=False),
        sa.Column("visit_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_visit_plans_park", "visit_plans", ["park_id", "status"])
    op.create_index("ix_visit_plans_date", "visit_plans", ["planned_for"])
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("domain", sa.String(length=40), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now, nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_referrals_park", "referrals", ["park_id", "status"])


def downgrade() -> None:
    op.drop_table("referrals")
    op.drop_table("visit_plans")
    with op.batch_alter_table("park_scores") as batch:
        batch.drop_column("as_of")
