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



def test_data_version_reads_parks_through_a_covering_index(tmp_path) -> None:
    """Every API request asks for the data version: on SQLite none of its queries may scan a table's pages
    (the parks' geometries and all), only indexes."""
    from service.reads.scores import data_version

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    store.upgrade()
    issued: list[tuple[str, object]] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, sql, params, context, many:
                    issued.append((sql, params)) if sql.lstrip().upper().startswith("SELECT") else None)
    data_version(store)
    assert len(issued) >= 4
    with store.connect() as conn:
        plans = [" ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
                 for sql, params in issued]
    assert any("COVERING INDEX ix_parks_updated" in plan for plan in plans)
    assert not [plan for plan in plans if "SCAN" in plan and "INDEX" not in plan], plans
