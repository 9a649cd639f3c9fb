"""The store: one engine, its migrations, and the few queries everybody needs."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine

from . import schema

__all__ = ["Store", "ParkGeometries", "connection", "in_groups", "ID_GROUP"]

T = TypeVar("T")

#: Ids per ``IN (...)`` list: well below SQLite's 999 bound parameters and PostgreSQL's 65,535.
ID_GROUP = 500

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web read while an import or a score run writes; foreign keys are off by default.
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class ParkGeometries:
    """Park ids with their RD geometries, as arrays (what the spatial index is built from)."""

    def __init__(self, ids: np.ndarray, geoms: np.ndarray) -> None:
        self.ids = ids
        self.geoms = geoms

    def __len__(self) -> int:
        return len(self.ids)


class Store:
    """Access to the database behind Parkwacht (SQLite file by default, PostgreSQL+PostGIS as option)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # On a server, a connection the database dropped (a restart, a failover) is replaced, not handed out.
        extra = {"pool_pre_ping": True} if not url.startswith("sqlite") else {}
        self.engine: Engine = sa.create_engine(url, echo=echo, future=True, **extra)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- schema -----------------------------------------------------------------------------------
    def alembic_config(self) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` through the Alembic migrations."""
        command.upgrade(self.alembic_config(), revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("select version_num from alembic_version")).scalar()

    def published_run_id(self) -> int | None:
        """The id of the published score run, or None before the first run."""
        r = schema.score_runs
        with self.engine.connect() as conn:
            return conn.execute(sa.select(r.c.id).where(r.c.status == "published").limit(1)).scalar()

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside is committed together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # -- common reads ----------------------------------------------------------------------------
    def count(self, table: sa.Table) -> int:
        with self.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def park_geometries(self, conn: Connection | None = None) -> ParkGeometries:
        """The current (not retired) parks' ids and RD geometries, ordered by id."""
        query = (sa.select(schema.parks.c.id, schema.parks.c.geom_wkb).where(schema.current(schema.parks))
                 .order_by(schema.parks.c.id))
        with connection(conn if conn is not None else self) as c:
            rows = c.execute(query).all()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        geoms = shapely.from_wkb([r[1] for r in rows]) if rows else np.empty(0, dtype=object)
        return ParkGeometries(ids, np.asarray(geoms, dtype=object))

    def dispose(self) -> None:
        self.engine.dispose()


def in_groups(items: Iterable[T], n: int = ID_GROUP) -> Iterator[Sequence[T]]:
    """``items`` in lists of at most ``n``, in order (for ``IN (...)`` queries and batched writes).

    >>> [list(g) for g in in_groups(range(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    seq = items if isinstance(items, Sequence) else list(items)
    for start in range(0, len(seq), n):
        yield seq[start:start + n]


@contextmanager
def connection(source: Store | Connection) -> Iterator[Connection]:
    """An open connection from a :class:`Store` (opened and closed here) or an open connection (as it is).

    Readers take either, so they run inside a caller's transaction or on their own.
    """
    if isinstance(source, Connection):
        yield source
    else:
        with source.connect() as conn:
            yield conn
