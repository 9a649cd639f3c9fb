"""PostGIS geometry columns (SRID 28992) with GiST indexes on PostgreSQL; nothing on SQLite.

The columns are generated from the portable WKB and x/y columns, so every writer stays the same on both
stores and PostGIS can answer bbox and assignment queries from its own indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:00:00
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "ALTER TABLE parks ADD COLUMN geom geometry(Geometry, 28992) "
    "GENERATED ALWAYS AS (ST_GeomFromWKB(geom_wkb, 28992)) STORED",
    "CREATE INDEX ix_parks_geom ON parks USING gist (geom)",
    "ALTER TABLE areas ADD COLUMN geom geometry(Geometry, 28992) "
    "GENERATED ALWAYS AS (ST_GeomFromWKB(geom_wkb, 28992)) STORED",
    "CREATE INDEX ix_areas_geom ON areas USING gist (geom)",
    "ALTER TABLE signals ADD COLUMN geom geometry(Point, 28992) "
    "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(x, y), 28992)) STORED",
    "CREATE INDEX ix_signals_geom ON signals USING gist (geom)",
)
_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_signals_geom",
    "ALTER TABLE signals DROP COLUMN IF EXISTS geom",
    "DROP INDEX IF EXISTS ix_areas_geom",
    "ALTER TABLE areas DROP COLUMN IF EXISTS geom",
    "DROP INDEX IF EXISTS ix_parks_geom",
    "ALTER TABLE parks DROP COLUMN IF EXISTS geom",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its WKB and bbox columns; the R-tree in memory does the spatial work
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _DOWNGRADE:
        op.execute(statement)
