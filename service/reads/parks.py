"""Reads of parks: one park, lists for the API, municipalities and their outlines."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
import sqlalchemy as sa

from ..store import Store, connection, schema
from ..vocab import DEMO_SOURCE
from .errors import NotFound

__all__ = ["park", "list_parks", "municipalities", "municipality_outlines", "has_demo_parks", "retired_parks",
           "PARK_FIELDS"]

#: A park's plain fields, as the API and exports show them (no geometry bytes, no bookkeeping).
PARK_FIELDS = ("id", "source", "source_id", "name", "kind", "municipality_code", "municipality_name", "province",
               "unit_count", "area_m2", "operator", "takeover_year", "attributes")


def park(store: Store, park_id: int, *, include_retired: bool = False) -> dict[str, Any]:
    """A park's stored row with ``geom`` as a shapely geometry in RD (no geometry bytes).

    Raises :class:`NotFound` when there is no such park, or when a snapshot of its source retired it (a
    retired park is no longer served; an admin's view passes ``include_retired`` and sees ``retired_at``).
    """
    p = schema.parks
    q = sa.select(p).where(p.c.id == park_id)
    if not include_retired:
        q = q.where(schema.current(p))
    with connection(store) as conn:
        row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"no park with id {park_id}")
    d = dict(row._mapping)
    d["geom"] = shapely.from_wkb(d.pop("geom_wkb"))
    return d


def list_parks(store: Store, *, municipality: str | None = None, kind: str | None = None, limit: int = 100,
                      offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """(number matched, one page of parks' :data:`PARK_FIELDS`), ordered by id."""
    p = schema.parks
    q = sa.select(*[p.c[f] for f in PARK_FIELDS]).where(schema.current(p)).order_by(p.c.id)
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
                            .where(p.c.municipality_code.is_not(None), schema.current(p))
                            .group_by(p.c.municipality_code)).all()
    return sorted(((code, name or code) for code, name in rows), key=lambda r: (r[1].lower(), r[0]))


def municipality_outlines(store: Store, codes: Sequence[str] = ()) -> list[tuple[str, Any]] | None:
    """Municipality boundaries (name, RD geometry) from the imported areas, else None.

    The layer is drawn only from real boundaries (``parkwacht import areas FILE --level municipality``, e.g.
    CBS "gebiedsindelingen"): an outline made up from park hulls would look like a boundary and not be one.
    """
    a = schema.areas
    q = sa.select(a.c.name, a.c.geom_wkb).where(a.c.level == "municipality").order_by(a.c.code)
    if codes:
        q = q.where(a.c.code.in_([c.upper() for c in codes]))
    with connection(store) as conn:
        if not conn.execute(sa.select(a.c.id).where(a.c.level == "municipality").limit(1)).first():
            return None
        rows = conn.execute(q).all()
    return [(name or "", shapely.from_wkb(wkb)) for name, wkb in rows if wkb]


def retired_parks(store: Store, *, source: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Parks a snapshot of their source retired, newest first: for an admin, who sees what left the sources."""
    p = schema.parks
    q = (sa.select(p.c.id, p.c.source, p.c.source_id, p.c.name, p.c.municipality_name, p.c.retired_at,
                   p.c.retired_by).where(~schema.current(p)).order_by(p.c.retired_at.desc(), p.c.id).limit(limit))
    if source:
        q = q.where(p.c.source == source)
    with connection(store) as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def has_demo_parks(store: Store) -> bool:
    """Whether the fictional demo region is loaded (pages then say so)."""
    p = schema.parks
    with connection(store) as conn:
        return conn.execute(sa.select(p.c.id).where(p.c.source == DEMO_SOURCE).limit(1)).first() is not None
