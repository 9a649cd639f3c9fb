"""Which park a signal belongs to: park lookups for validation, the spatial assignment, and re-assignment."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..spatial import ParkIndex
from ..store import ID_GROUP, Store, in_groups, schema

__all__ = ["ParkLookup", "assign_frame", "build_park_index", "reassign_signals"]


def build_park_index(store: Store, conn: Connection | None = None) -> ParkIndex:
    """A park index over everything in the store (inside ``conn``'s transaction when given)."""
    pg = store.park_geometries(conn)
    return ParkIndex(pg.ids, pg.geoms)


class ParkLookup:
    """Resolves the park ids and references a chunk names, asking the store only for those.

    A reference is ``source:source_id``, or a bare ``source_id`` when exactly one source uses it (an id
    used by two sources must be given with its source). Answers are cached for the whole import.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._ids: dict[int, bool] = {}
        self._refs: dict[str, int | None] = {}

    def existing(self, ids: Iterable[int]) -> set[int]:
        """The given park ids that exist."""
        p = schema.parks
        todo = sorted({int(i) for i in ids} - self._ids.keys())
        for part in in_groups(todo, ID_GROUP):
            found = set(self._conn.execute(sa.select(p.c.id).where(p.c.id.in_(part))).scalars())
            self._ids.update({i: i in found for i in part})
        return {int(i) for i in ids if self._ids.get(int(i))}

    def resolve(self, refs: Iterable[str]) -> dict[str, int]:
        """Park id per reference, for the references that name exactly one park."""
        p = schema.parks
        todo = sorted({r for r in refs if r} - self._refs.keys())
        for part in in_groups(todo, ID_GROUP):
            bare = set(part) | {r.split(":", 1)[1] for r in part if ":" in r}
            rows = self._conn.execute(sa.select(p.c.id, p.c.source, p.c.source_id).where(p.c.source_id.in_(bare)))
            by_qualified: dict[str, int] = {}
            by_bare: dict[str, set[int]] = {}
            for pid, src, sid in rows:
                by_qualified[f"{src}:{sid}"] = pid
                by_bare.setdefault(sid, set()).add(pid)
            for ref in part:
                found = by_qualified.get(ref)
                if found is None and len(by_bare.get(ref, ())) == 1:
                    (found,) = by_bare[ref]
                self._refs[ref] = found
        return {r: pid for r in refs if (pid := self._refs.get(r)) is not None}


def assign_frame(frame: pd.DataFrame, index: ParkIndex, max_distance: float) -> None:
    """Fill park_id / assignment / distance_m: explicit park first, else through the park index."""
    explicit = frame["explicit_park"].to_numpy() >= 0
    a = index.assign(frame["x"].to_numpy(), frame["y"].to_numpy(), max_distance)
    park = np.where(explicit, frame["explicit_park"].to_numpy(), a.park_id)
    method = np.where(explicit, "explicit", a.method).astype(object)
    dist = np.where(explicit, np.nan, a.distance_m)
    frame["park_id"] = pd.array(np.where(park >= 0, park, np.nan), dtype="Int64")
    frame["assignment"] = pd.Series(method, index=frame.index, dtype=object)
    frame["distance_m"] = np.where(method == "nearby", dist, np.nan)


def reassign_signals(conn: Connection, index: ParkIndex, max_distance: float) -> tuple[int, set[int]]:
    """Re-run the spatial assignment of every located, non-explicit signal; returns (changed, parks)."""
    s = schema.signals
    rows = conn.execute(
        sa.select(s.c.id, s.c.x, s.c.y, s.c.park_id, s.c.assignment, s.c.distance_m)
        .where(s.c.x.is_not(None), s.c.assignment != "explicit")
    ).all()
    if not rows:
        return 0, set()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    x = np.array([r[1] for r in rows], dtype=float)
    y = np.array([r[2] for r in rows], dtype=float)
    old_park = np.array([-1 if r[3] is None else r[3] for r in rows], dtype=np.int64)
    a = index.assign(x, y, max_distance)
    changed = np.flatnonzero((a.park_id != old_park) | (a.method != np.array([r[4] for r in rows], dtype=object)))
    if len(changed) == 0:
        return 0, set()
    params = [{"b_id": int(ids[i]), "b_park": None if a.park_id[i] < 0 else int(a.park_id[i]),
               "b_asg": str(a.method[i]), "b_dist": None if a.code[i] != 2 else float(a.distance_m[i])}
              for i in changed]
    stmt = s.update().where(s.c.id == sa.bindparam("b_id")).values(
        park_id=sa.bindparam("b_park"), assignment=sa.bindparam("b_asg"), distance_m=sa.bindparam("b_dist"))
    conn.execute(stmt, params)
    parks = {int(p) for p in np.concatenate([a.park_id[changed], old_park[changed]]) if p >= 0}
    return len(changed), parks
