"""Scoring: model text and run ownership on score_runs, lag base and audit flags on park_scores,
the cross-process score lock and the audit of incremental updates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("score_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("model_path", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("previous_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "uq_score_runs_published", "score_runs", ["status"], unique=True,
        sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'"),
    )

    with op.batch_alter_table("park_scores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("base_points", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("incremental", sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table(
        "score_locks",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_score_locks")),
    )
    op.create_table(
        "score_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("requested", _json, nullable=True),
        sa.Column("rescored", _json, nullable=True),
        sa.Column("changes", _json, nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["score_runs.id"], name=op.f("fk_score_updates_run_id_score_runs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_updates")),
    )
    op.create_index("ix_score_updates_run", "score_updates", ["run_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_score_updates_run", table_name="score_updates")
    op.drop_table("score_updates")
    op.drop_table("score_locks")
    with op.batch_alter_table("park_scores", schema=None) as batch_op:
        batch_op.drop_column("incremental")
        batch_op.drop_column("base_points")
        batch_op.drop_column("previous_score")
    op.drop_index("uq_score_runs_published", table_name="score_runs")
    with op.batch_alter_table("score_runs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("host")
        batch_op.drop_column("pid")
        batch_op.drop_column("previous_run_id")
        batch_op.drop_column("model_path")
        batch_op.drop_column("model_text")
