"""The scoring engine: factor values, points and scores for a set of parks as of a date, in one vectorised pass.

:func:`compute` is the only place where a score is computed. A full run hands it every park and every
signal; an incremental update hands it a few parks, their signals, and the stored first-pass points of
the parks around them. Both therefore give the same score for the same data.

How a score is made, per park:

1. every non-spatial factor turns signals (or a park attribute) into a raw value, then a normalised value
   (per unit, per hectare, or as is), then a share of its weight through a saturating transform;
2. the share is rounded to whole hundredths of a point ("cents"); these rounded points are the points;
3. the *first-pass points* (all factors but the neighbours' risk) feed the spatial lag: the mean
   first-pass points of the parks within the lag distance, transformed and capped at the lag's weight;
4. the score is the sum of the rounded points, so it decomposes exactly into its factors.

Signals dated after ``as_of`` are ignored, so a score can be recomputed for any past date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..vocab import THEMES, classify_scores
from .factors import (
    EPOCH,
    TYPE_CODES,
    SignalFrame,
    apply_transform,
    decay,
    filter_mask,
    normalise,
    signal_weights,
)
from .model import (
    Factor,
    Model,
    NeighbourSource,
    ParkSource,
    SignalSource,
)
from .park_frame import NeighbourPairs, ParkFrame

__all__ = ["ParkFrame", "NeighbourPairs", "Evidence", "EngineResult", "compute", "as_day"]


def as_day(value: dt.date) -> int:
    """A date as days since 1970-01-01 (the engine's time axis)."""
    return int((np.datetime64(value, "D") - EPOCH).astype(np.int64))


@dataclass
class Evidence:
    """The signals behind one factor: per park (by position), the newest ``max_signal_ids`` ids and a count."""

    pos: np.ndarray  # park position per listed id, ascending
    ids: np.ndarray  # signal ids, newest first within a park
    count: np.ndarray  # per park: how many signals contributed (the list may be cut at max_signal_ids)


@dataclass
class EngineResult:
    """Everything :func:`compute` found: per park x factor raw, normalised and points (in hundredths)."""

    model: Model
    as_of: dt.date
    park_ids: np.ndarray
    raw: np.ndarray
    normalised: np.ndarray
    cents: np.ndarray
    base_cents: np.ndarray
    score_cents: np.ndarray
    adjust_cents: np.ndarray
    evidence: dict[str, Evidence] = field(default_factory=dict)
    lag_neighbours: dict[int, list[int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.park_ids)

    @property
    def scores(self) -> np.ndarray:
        """Scores in points (two decimals)."""
        return self.score_cents / 100.0

    @property
    def base_points(self) -> np.ndarray:
        return self.base_cents / 100.0

    def theme_cents(self) -> np.ndarray:
        """Per park x theme (in :data:`THEMES` order) the sum of the factors' points in hundredths."""
        out = np.zeros((len(self.park_ids), len(THEMES)), dtype=np.int64)
        for j, f in enumerate(self.model.factors):
            out[:, THEMES.index(f.theme)] += self.cents[:, j]
        return out

    def classes(self) -> np.ndarray:
        return classify_scores(self.scores, self.model.thresholds)

    def position(self, park_id: int) -> int:
        i = int(np.searchsorted(self.park_ids, park_id))
        if i >= len(self.park_ids) or self.park_ids[i] != park_id:
            raise KeyError(park_id)
        return i

    def score_of(self, park_id: int) -> float:
        return float(self.scores[self.position(park_id)])


# -- the engine ---------------------------------------------------------------------------------------------
def _type_slices(frame: SignalFrame) -> tuple[SignalFrame, dict[int, slice]]:
    """The frame reordered by type (stable, so ids stay ascending within a type) and each type's slice."""
    order = np.argsort(frame.type, kind="stable")
    tf = frame.take(order)
    slices: dict[int, slice] = {}
    if len(tf):
        codes, starts = np.unique(tf.type, return_index=True)
        ends = np.append(starts[1:], len(tf))
        slices = {int(c): slice(int(s), int(e)) for c, s, e in zip(codes, starts, ends, strict=True)}
    return tf, slices


def _evidence(pos: np.ndarray, ids: np.ndarray, days: np.ndarray, n_parks: int, cap: int) -> Evidence:
    """Per park the newest ``cap`` contributing signal ids (ties on date: highest id first)."""
    count = np.bincount(pos, minlength=n_parks)
    if len(pos) == 0:
        return Evidence(pos, ids, count)
    order = np.lexsort((-ids, -days.astype(np.int64), pos))
    pos, ids = pos[order], ids[order]
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.arange(len(pos)) - starts[pos]
    keep = rank < cap
    return Evidence(pos[keep], ids[keep], count)


def _latest(pos: np.ndarray, days: np.ndarray, ids: np.ndarray, values: np.ndarray,
            n_parks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per park the value and id of its newest row (ties: highest id); NaN / -1 where a park has none."""
    value = np.full(n_parks, np.nan)
    which = np.full(n_parks, -1, dtype=np.int64)
    if len(pos):
        order = np.lexsort((ids, days, pos))
        p = pos[order]
        last = np.ones(len(p), dtype=bool)
        last[:-1] = p[1:] != p[:-1]
        value[p[last]] = values[order][last]
        which[p[last]] = ids[order][last]
    return value, which


def _signal_factor(f: Factor, src: SignalSource, tf: SignalFrame, slices: dict[int, slice], park_pos: np.ndarray,
                   as_day_: int, n: int, cap: int) -> tuple[np.ndarray, Evidence]:
    """Raw value per park of one signal factor, and the signals behind it."""
    raw = np.zeros(n)
    sl = slices.get(TYPE_CODES[src.type])
    empty = Evidence(np.empty(0, np.int64), np.empty(0, np.int64), np.zeros(n, dtype=np.int64))
    if sl is None:
        return (raw if src.aggregate in ("count", "sum") else np.full(n, np.nan)), empty
    day = tf.day[sl]
    m = day <= as_day_
    if f.window_days is not None:
        m &= day > as_day_ - f.window_days
    if src.scope == "own":
        m &= ~tf.nearby[sl]
    else:
        with np.errstate(invalid="ignore"):
            m &= tf.nearby[sl] & (tf.distance_m[sl] <= src.within_m)
    for flt in src.where:
        if not m.any():
            break
        m &= filter_mask(flt, tf, sl)
    idx = np.flatnonzero(m)
    pos = park_pos[sl][idx]
    ids = tf.id[sl][idx]
    days = day[idx]
    if src.aggregate in ("count", "sum"):
        w = (signal_weights(src.weight_by, tf, np.arange(sl.start, sl.stop)[idx])
             * decay(as_day_ - days, f.half_life_days))
        if src.aggregate == "sum":
            vals = tf.fields[src.value_field][sl][idx]
            w = w * np.where(np.isfinite(vals), np.maximum(vals, 0.0), 0.0)  # negative amounts count 0
        keep = w > 0
        raw = np.bincount(pos[keep], weights=w[keep], minlength=n).astype(float)
        return raw, _evidence(pos[keep], ids[keep], days[keep], n, cap)

    vals = tf.fields[src.value_field][sl][idx]
    ok = np.isfinite(vals)
    pos, ids, days, vals = pos[ok], ids[ok], days[ok], vals[ok]
    latest, latest_id = _latest(pos, days, ids, vals, n)
    if src.aggregate == "latest":
        has = latest_id >= 0
        return latest, Evidence(np.flatnonzero(has), latest_id[has], has.astype(np.int64))
    before = days <= as_day_ - src.lookback
    base, base_id = _latest(pos[before], days[before], ids[before], vals[before], n)
    growth = np.maximum(latest - base, 0.0)  # NaN where either end is missing: no points, no guess
    has = np.isfinite(growth)
    two = has & (latest_id != base_id)
    ev_pos = np.concatenate([np.flatnonzero(has), np.flatnonzero(two)])
    ev_ids = np.concatenate([latest_id[has], base_id[two]])
    order = np.argsort(ev_pos, kind="stable")
    return growth, Evidence(ev_pos[order], ev_ids[order], has.astype(np.int64) + two.astype(np.int64))


def _park_factor(src: ParkSource, parks: ParkFrame, as_of: dt.date) -> np.ndarray:
    """Raw value per park of a park-attribute factor."""
    values = parks.attrs[src.attribute]
    if src.measure == "missing":
        if values.dtype == object:
            return np.array([v is None or str(v).strip() == "" for v in values], dtype=float)
        return (~np.isfinite(values)).astype(float)
    with np.errstate(invalid="ignore"):
        if src.measure == "within_years":
            since = as_of.year - values
            return ((since >= 0) & (since < src.years)).astype(float)
        if src.measure == "age":
            age = as_of.year - values
            return np.where(np.isfinite(age) & (age >= 0), age, np.nan)
    return values.astype(float)


@dataclass
class FirstPass:
    """Every factor of ``park_ids`` but the neighbours' one: what is left to add needs no signal at all.

    Small (per park, plus the capped evidence ids), so a cluster worker can send it back instead of keeping
    its partition's signals for a second pass.
    """

    model: Model
    as_of: dt.date
    park_ids: np.ndarray
    raw: np.ndarray
    normalised: np.ndarray
    cents: np.ndarray
    base_cents: np.ndarray
    evidence: dict[str, Evidence]
    counts: dict[str, int]


def first_pass(model: Model, parks: ParkFrame, signals: SignalFrame, as_of: dt.date) -> FirstPass:
    """Steps 1-2 for ``parks``: every factor but the spatial lag, and the first-pass points (see :func:`compute`)."""
    n, factors = len(parks), model.factors
    as_day_ = as_day(as_of)
    # Signals of these parks only, dated up to as_of; grouped by type once.
    in_parks = np.isin(signals.park_id, parks.id) & (signals.day <= as_day_)
    frame = signals if in_parks.all() else signals.take(np.flatnonzero(in_parks))
    tf, slices = _type_slices(frame)
    park_pos = np.searchsorted(parks.id, tf.park_id)

    raw = np.zeros((n, len(factors)))
    norm = np.zeros((n, len(factors)))
    cents = np.zeros((n, len(factors)), dtype=np.int64)
    evidence: dict[str, Evidence] = {}
    units, area = parks.unit_count, parks.area_m2
    for j, f in enumerate(factors):
        src = f.source
        if isinstance(src, NeighbourSource):
            continue
        if isinstance(src, SignalSource):
            r, ev = _signal_factor(f, src, tf, slices, park_pos, as_day_, n, model.max_signal_ids)
            evidence[f.id] = ev
        else:
            r = _park_factor(src, parks, as_of)
        raw[:, j] = r
        norm[:, j] = normalise(r, f, units, area)
        cents[:, j] = np.rint(round(f.weight * 100) * apply_transform(norm[:, j], f.transform)).astype(np.int64)
    lag_j = _lag_column(model)
    base = cents.sum(axis=1) if lag_j is None else np.delete(cents, lag_j, axis=1).sum(axis=1)
    counts = {"parks": int(n), "signals": int(len(frame))}
    for f in factors:
        if f.id in evidence:
            counts[f"signals:{f.id}"] = int(evidence[f.id].count.sum())
    return FirstPass(model=model, as_of=as_of, park_ids=parks.id.copy(), raw=raw, normalised=norm, cents=cents,
                     base_cents=base.astype(np.int64), evidence=evidence, counts=counts)


def _lag_column(model: Model) -> int | None:
    return next((j for j, f in enumerate(model.factors) if isinstance(f.source, NeighbourSource)), None)


def finish(fp: FirstPass, *, neighbours: NeighbourPairs | None = None,
           known_base: dict[int, int] | None = None) -> EngineResult:
    """Steps 3-4: the spatial lag from the first-pass points, and the scores (see :func:`compute`)."""
    ids, n, base = fp.park_ids, len(fp.park_ids), fp.base_cents
    raw, norm, cents = fp.raw.copy(), fp.normalised.copy(), fp.cents.copy()
    lag_j = _lag_column(fp.model)
    lag_neighbours: dict[int, list[int]] = {}
    if lag_j is not None:
        f = fp.model.factors[lag_j]
        lag = np.full(n, np.nan)
        pairs = neighbours or NeighbourPairs.empty()
        sel = np.isin(pairs.a, ids)
        a, b = pairs.a[sel], pairs.b[sel]
        if len(a):
            bpos = np.searchsorted(ids, b)
            inside = (bpos < n) & (ids[np.minimum(bpos, n - 1)] == b)
            b_base = np.full(len(b), np.nan)
            b_base[inside] = base[bpos[inside]]
            known = known_base or {}
            for k in np.flatnonzero(~inside):
                b_base[k] = known.get(int(b[k]), np.nan)
            if np.isnan(b_base).any():
                missing = sorted({int(x) for x in b[np.isnan(b_base)]})
                raise ValueError(f"first-pass points of neighbouring parks {missing[:10]} are unknown")
            apos = np.searchsorted(ids, a)
            total = np.bincount(apos, weights=b_base, minlength=n)
            cnt = np.bincount(apos, minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                lag = np.where(cnt > 0, total / np.maximum(cnt, 1) / 100.0, np.nan)
            order = np.lexsort((b, apos))
            for p, q in zip(apos[order], b[order], strict=True):
                lag_neighbours.setdefault(int(ids[p]), []).append(int(q))
        raw[:, lag_j] = lag
        norm[:, lag_j] = lag
        cents[:, lag_j] = np.rint(round(f.weight * 100) * apply_transform(lag, f.transform)).astype(np.int64)

    total = cents.sum(axis=1)
    adjust = np.where(total < 0, -total, 0)  # only a model with negative weights can go below 0
    return EngineResult(model=fp.model, as_of=fp.as_of, park_ids=ids.copy(), raw=raw, normalised=norm, cents=cents,
                        base_cents=base.copy(), score_cents=(total + adjust).astype(np.int64),
                        adjust_cents=adjust.astype(np.int64), evidence=fp.evidence, lag_neighbours=lag_neighbours,
                        counts=dict(fp.counts))


def compute(model: Model, parks: ParkFrame, signals: SignalFrame, as_of: dt.date, *,
            neighbours: NeighbourPairs | None = None, known_base: dict[int, int] | None = None) -> EngineResult:
    """Score ``parks`` as of ``as_of`` from ``signals`` (only those dated on or before ``as_of`` count).

    Parameters
    ----------
    parks
        The parks to score. Signals of other parks are ignored.
    neighbours
        Directed neighbour pairs for the spatial lag (``None``: no park has neighbours).
    known_base
        First-pass points in hundredths of parks *not* in ``parks`` that neighbour one of them (an incremental
        update passes the stored values of the published run; a full run needs none).
    """
    return finish(first_pass(model, parks, signals, as_of), neighbours=neighbours, known_base=known_base)
