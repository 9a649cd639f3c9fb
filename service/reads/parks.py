"""Reads of parks: one park, lists for the API, municipalities and their outlines."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
import sqlalchemy as sa

from ..store import Store, connection, schema
from ..vocab import DEMO_SOURCE
from .errors import NotFound

__all__ = ["park", "list_parks", "municipalities", "municipality_outlines", "has_demo_parks",
           "PARK_FIELDS"]

#: A park's plain fields, as the API and exports show them (no geometry bytes, no bookkeeping).
PARK_FIELDS = ("id", "source", "source_id", "name", "kind", "municipality_code", "municipality_name", "province",
               "unit_count", "area_m2", "operator", "takeover_year", "attributes")


def park(store: Store, park_id: int) -> dict[str, Any]:
    """A park's stored row with ``geom`` as a shapely geometry in RD (no geometry bytes).

    Raises :class:`NotFound` when there is no such park.
    """
    p = schema.parks
    with connection(store) as conn:
        row = conn.execute(sa.select(p).where(p.c.id == park_id)).first()
    if row is None:
        raise NotFound(f"no park with id {park_id}")
    d = dict(row._mapping)
    d["geom"] = shapely.from_wkb(d.pop("geom_wkb"))
    return d


def list_parks(store: Store, *, municipality: str | None = None, kind: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """(number matched, one page of parks' :data:`PARK_FIELDS`), ordered by id."""
    p = schema.parks
    q = sa.select(*[p.c[f] for f in PARK_FIELDS]).order_by(p.c.id)
    if municipality:
        q = q.where(p.c.municipality_code == municipality.upper())
    if kind:
        q = q.where(p.c.kind == kind)
    with connection(store) as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(q.limit(limit).offset(offset)).all()
    return int(total), [dict(r._mapping) for r in rows]


def municipalities(store: Store) -> list[tuple[str, str]]:
    """(code, name) of every municipality with parks, by name."""
    p = schema.parks
    with connection(store) as conn:
        rows = conn.execute(sa.select(p.c.municipality_code, sa.func.max(p.c.municipality_name))
                            .where(p.c.municipality_code.is_not(None))
                            .group_by(p.c.municipality_code)).all()
    return sorted(((code, name or code) for code, name in rows), key=lambda r: (r[1].lower(), r[0]))


def municipality_outlines(store: Store, codes: Sequence[str] = ()) -> list[tuple[str, Any]] | None:
    """Municipality boundaries (name, RD geometry) when a ``municipalities`` source is loaded, else None.

    The layer is drawn only from real boundaries (a table ``municipalities`` with ``code``, ``name`` and
    ``geom_wkb`` in RD, e.g. from CBS/PDOK "bestuurlijke gebieden"): an outline made up from park hulls would
    look like a boundary and not be one.
    """
    with connection(store) as conn:
        if not sa.inspect(conn).has_table("municipalities"):
            return None
        table = sa.Table("municipalities", sa.MetaData(), autoload_with=conn)
        if not {"code", "name", "geom_wkb"} <= set(table.c.keys()):
            return None
        q = sa.select(table.c.name, table.c.geom_wkb)
        if codes:
            q = q.where(table.c.code.in_(list(codes)))
        rows = conn.execute(q).all()
    return [(name or "", shapely.from_wkb(wkb)) for name, wkb in rows if wkb]


def has_demo_parks(store: Store) -> bool:
    """Whether the fictional demo region is loaded (pages then say so)."""
    p = schema.parks
    with connection(store) as conn:
        return conn.execute(sa.select(p.c.id).where(p.c.source == DEMO_SOURCE).limit(1)).first() is not None
