"""Sources kept in sync: retired parks and signals, batch heartbeats, and municipality/province areas.

Also heals attributes stored before imports kept JSON strict (RFC 8259): SQLite accepted ``Infinity`` and
``NaN`` in a JSON column, and its own JSON functions then refuse the row, which broke every score run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:20:00
"""
import json
import math

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retired_by", sa.Integer(), nullable=True))
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retired_by", sa.Integer(), nullable=True))
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("retired", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("revived", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.CheckConstraint("level in ('municipality','province')", name=op.f("ck_areas_level")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"], name=op.f("fk_areas_batch_id_import_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("level", "code", name="uq_areas_level_code"),
    )
    _heal_json()


def _strict(value):
    """``value`` with every non-finite number replaced by null (what strict JSON can hold)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def _heal_json() -> None:
    """Re-encode attributes SQLite's JSON functions refuse (only SQLite could store them; PostgreSQL's JSONB
    never accepted a non-finite number)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in ("signals", "parks"):
        rows = bind.exec_driver_sql(
            f"SELECT id, attributes FROM {table} WHERE attributes IS NOT NULL AND NOT json_valid(attributes)").all()
        fixed = []
        for row_id, text in rows:
            try:
                value = _strict(json.loads(text))
            except ValueError:
                value = {"unreadable_attributes": str(text)[:10_000]}
            fixed.append((json.dumps(value, ensure_ascii=False, allow_nan=False), row_id))
        if fixed:
            bind.exec_driver_sql(f"UPDATE {table} SET attributes = ? WHERE id = ?", fixed)


def downgrade() -> None:
    op.drop_table("areas")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("revived")
        batch_op.drop_column("retired")
        batch_op.drop_column("host")
        batch_op.drop_column("pid")
        batch_op.drop_column("heartbeat_at")
    with op.batch_alter_table("signals", schema=None) as batch_op:
        batch_op.drop_column("retired_by")
        batch_op.drop_column("retired_at")
    with op.batch_alter_table("parks", schema=None) as batch_op:
        batch_op.drop_column("retired_by")
        batch_op.drop_column("retired_at")
