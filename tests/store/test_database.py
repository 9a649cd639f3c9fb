"""The store: migrations create the schema, and the schema keeps its promises."""
from __future__ import annotations

import pytest
import shapely
import sqlalchemy as sa

from service.store import Store, schema


def test_upgrade_creates_every_table(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    assert store.current_revision() is None
    store.upgrade()
    with store.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert set(schema.metadata.tables) <= tables
    assert store.current_revision() is not None
    store.upgrade()  # idempotent


def test_migrations_match_the_tables(tmp_path) -> None:
    """Alembic autogenerate finds nothing to change: schema.py and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    store.upgrade()
    with store.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


#: A valid geometry, so that only the constraint under test can refuse the row (PostGIS parses the WKB too).
_SQUARE = shapely.box(0, 0, 1, 1).wkb


def test_constraints_guard_the_data(store) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        with store.begin() as conn:
            conn.execute(schema.parks.insert().values(
                source="s", source_id="1", kind="castle", area_m2=1, geom_wkb=_SQUARE, minx=0, miny=0, maxx=1, maxy=1,
                row_hash="x"))
