"""A seeded generator of a fictional but realistic demo region on the Veluwe.

It holds :func:`generate`, which returns :class:`DemoRegion`: park polygons (EPSG:28992), the signals a
municipality would collect about them over a time window, and the hidden latent risk that drove those
signals. The latent risk is the ground truth for evaluating a scoring model and must never be imported
into the store.

Everything derives from one ``numpy.random.default_rng(seed)``: the same seed gives the same output, byte
for byte, on any day. Parks, names and operators are fictional; the municipalities carry their real CBS code
and name, but their borders here are made up. No personal traits of any kind are generated.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

__all__ = [
    "DEMO_END",
    "relative_to",
    "DemoRegion",
    "generate",
    "BOX",
    "MUNICIPALITIES",
    "OPERATORS",
    "INSPECTION_CATEGORIES",
    "NEARBY_MAX_M",
]

#: Bounding box of the demo region in RD New metres (minx, miny, maxx, maxy).
BOX: tuple[float, float, float, float] = (170_000.0, 460_000.0, 200_000.0, 490_000.0)
#: Municipalities: CBS code, name and a fictional seat; parks go to the nearest seat.
MUNICIPALITIES: tuple[tuple[str, str, float, float], ...] = (
    ("GM0243", "Harderwijk", 172_500.0, 484_000.0),
    ("GM0302", "Nunspeet", 184_000.0, 485_500.0),
    ("GM0269", "Oldebroek", 195_000.0, 485_000.0),
    ("GM0233", "Ermelo", 177_000.0, 474_500.0),
    ("GM0273", "Putten", 173_500.0, 464_500.0),
    ("GM0200", "Apeldoorn", 192_000.0, 468_000.0),
)
#: Large fictional park operators.
OPERATORS: tuple[str, ...] = (
    "Veluwe Vakantie Groep",
    "Heideland Parks",
    "Bosrand Recreatie",
    "Groene Kamp Vakantieparken",
    "Noord-Veluwse Verblijfsrecreatie",
)
_OPERATOR_WEIGHTS = np.array([0.34, 0.26, 0.18, 0.13, 0.09])
#: Violation categories an inspection can record.
INSPECTION_CATEGORIES: tuple[str, ...] = (
    "permanent_residence", "overcrowding", "fire_safety", "illegal_construction", "drugs",
)
#: A signal this close to a park (and outside every park) counts as nearby.
NEARBY_MAX_M = 250.0

_KINDS = ("bungalowpark", "camping", "caravanpark", "unknown")
_KIND_SHARES = (0.27, 0.55, 0.05, 0.13)
# unit_count per kind: median, log-sd, share with no units at all (touring pitches only).
_UNITS = {
    "bungalowpark": (110.0, 0.95, 0.00),
    "camping": (5.0, 1.25, 0.22),
    "caravanpark": (45.0, 0.80, 0.00),
    "unknown": (4.0, 1.40, 0.35),
}
_BUILT_OFFSET = {"bungalowpark": 4.0, "camping": -2.0, "caravanpark": -6.0, "unknown": -3.0}
_PARK_MARGIN_M = 300.0  # keeps parks, and signals just outside them, inside BOX
_PARK_GAP_M = 25.0  # minimum distance between two parks
_FAR_MIN_M = 600.0  # unassigned signals keep at least this distance from every park
_AREA_MEDIAN_M2 = 18_000.0
_AREA_SIGMA = 1.485  # gives 75th pct ~4.9 ha and 90th ~12 ha
_AREA_BOUNDS_M2 = (800.0, 1_250_000.0)

# Latent risk: a mixture of Beta(2, 9) (most parks) and Beta(4, 2.5) (the troubled ones), giving about
# 75% below 0.35 and 7% above 0.7. Parks take its quantiles in the order of a latent score.
_RISK_MIX = ((0.8, 2.0, 9.0), (0.2, 4.0, 2.5))
#: Located signals of these types come without a park reference this often (police and grid operator
#: register an address, not a park), so the store has to find the park itself.
_WITHOUT_PARK_REF = {"incident": 0.5, "energy_anomaly": 0.5}

_PREFIXES = {
    "bungalowpark": ("Bungalowpark", "Vakantiepark", "Recreatiepark", "Chaletpark", "Landgoed"),
    "camping": ("Camping", "Camping", "Camping", "Minicamping", "Natuurcamping", "Kampeerterrein",
                "Boerderijcamping"),
    "caravanpark": ("Caravanpark", "Recreatiepark", "Stacaravanpark"),
    "unknown": ("Recreatiepark", "Recreatieterrein", "Vakantieoord", "Park"),
}
_NAME_HEADS = (
    "Zand", "Heide", "Bos", "Eiken", "Berken", "Dennen", "Vennen", "Hert", "Dassen", "Uilen", "Vossen",
    "Ree", "Hazel", "Linden", "Beuken", "Hoog", "Zonne", "Kroon", "Mos", "Bramen", "Sprengen", "Kievit",
    "Specht", "Wolds", "Hulst", "Jeneverbes",
)
_NAME_TAILS = (  # (tail, article)
    ("hoeve", "De"), ("zicht", "Het"), ("rand", "De"), ("hof", "Het"), ("veld", "Het"), ("horst", "De"),
    ("kamp", "De"), ("heuvel", "De"), ("hoek", "De"), ("berg", "De"), ("dal", "Het"), ("brink", "De"),
    ("weide", "De"), ("oord", "Het"), ("stee", "De"), ("beek", "De"), ("hul", "De"), ("lust", "De"),
    ("hout", "Het"), ("erf", "Het"),
)
_PERMIT_TITLES = {
    "omgevingsvergunning": ("Plaatsen chalet", "Vervangen stacaravan", "Aanleg parkeerplaats", "Kappen bomen",
                            "Uitbreiding sanitairgebouw", "Plaatsen overkapping", "Aanleg speelveld"),
    "bouwvergunning": ("Bouw recreatiewoning", "Verbouw recreatiewoning", "Uitbreiding berging",
                       "Vernieuwen fundering chalet"),
    "bewoning_zonder_beheerderstaken": ("Bewoning recreatiewoning", "Tijdelijke bewoning chalet"),
}
_OTHER_NOTES = (
    "Vraag over bestemmingsplan", "Melding kapotte straatverlichting", "Overleg met parkbeheer",
    "Wegafsluiting wegens onderhoud", "Vraag over toeristenbelasting", "Melding omgevallen boom",
)
_POLICE_CATEGORIES = ("overlast", "diefstal", "verkeer", "brand")
_CHANNELS = ("telefoon", "online", "email")


@dataclass
class DemoRegion:
    """A generated region: what the store may import (parks, signals) and what it must not (latent_risk)."""

    parks: gpd.GeoDataFrame
    signals: pd.DataFrame
    latent_risk: pd.Series


# -- small helpers ----------------------------------------------------------------------------------
def _beta_mix_quantiles(u: np.ndarray) -> np.ndarray:
    """Quantiles of the latent-risk mixture, from its CDF on a fine grid (no randomness, no scipy)."""
    x = np.linspace(0.0, 1.0, 20_001)
    inner = x[1:-1]
    pdf = np.zeros_like(x)
    for w, a, b in _RISK_MIX:
        log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        pdf[1:-1] += w * np.exp(log_norm + (a - 1) * np.log(inner) + (b - 1) * np.log1p(-inner))
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(x))])
    cdf /= cdf[-1]
    return np.interp(u, cdf, x)


def _normal_quantiles(u: np.ndarray) -> np.ndarray:
    """Standard normal quantiles, from its CDF on a fine grid."""
    x = np.linspace(-6.0, 6.0, 24_001)
    cdf = 0.5 * (1.0 + np.array([math.erf(v / math.sqrt(2.0)) for v in x]))
    return np.interp(u, cdf, x)


def _zscore(v: np.ndarray) -> np.ndarray:
    sd = float(v.std())
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v, dtype=float)


def _star_shape(rng: np.random.Generator, area: float) -> np.ndarray:
    """Vertices of an irregular polygon around (0, 0) with the given area.

    The polygon is star-shaped around the origin (strictly increasing angles), so it is always simple;
    the stretch and rotation keep that property.
    """
    nv = int(rng.integers(8, 21))
    angles = (np.arange(nv) + rng.uniform(-0.35, 0.35, nv)) / nv * 2 * np.pi
    radii = np.clip(1.0 + rng.normal(0.0, 0.13, nv), 0.65, 1.35)
    aspect = rng.uniform(1.0, 2.2)
    theta = rng.uniform(0.0, np.pi)
    px = radii * np.cos(angles) * aspect
    py = radii * np.sin(angles)
    c, s = np.cos(theta), np.sin(theta)
    xy = np.column_stack([c * px - s * py, s * px + c * py])
    shoelace = 0.5 * abs(np.dot(xy[:, 0], np.roll(xy[:, 1], -1)) - np.dot(xy[:, 1], np.roll(xy[:, 0], -1)))
    return xy * math.sqrt(area / shoelace)


def _linear_icdf(v: np.ndarray, a: float) -> np.ndarray:
    """Inverse CDF of the density 1 + a(2u - 1) on [0, 1]: a > 0 means signals become more frequent."""
    if abs(a) < 1e-9:
        return v
    return (-(1 - a) + np.sqrt((1 - a) ** 2 + 4 * a * v)) / (2 * a)


# -- the generator ----------------------------------------------------------------------------------
class _Builder:
    """Holds the shared state of one generation run, so the steps read top to bottom."""

    def __init__(self, seed: int, n_parks: int, start: dt.date, end: dt.date) -> None:
        if n_parks < 1:
            raise ValueError("n_parks must be at least 1")
        if end < start:
            raise ValueError("end lies before start")
        self.rng = np.random.default_rng(seed)
        self.n = n_parks
        self.start = start
        self.end = end
        self.ndays = (end - start).days + 1
        self.years = self.ndays / 365.25
        self.records: list[tuple[int, str, str | None, float, float, str | None, dict[str, Any]]] = []

    # parks -----------------------------------------------------------------------------------------
    def park_attributes(self) -> None:
        """Kind, area, units and building age: drawn before placement, since placement needs the area."""
        rng, n = self.rng, self.n
        counts = np.floor(np.array(_KIND_SHARES) * n).astype(int)
        for i in np.argsort(-(np.array(_KIND_SHARES) * n - counts), kind="stable")[: n - counts.sum()]:
            counts[i] += 1
        self.kind = np.array(_KINDS, dtype=object)[rng.permutation(np.repeat(np.arange(4), counts))]

        # Stratified draw: the area quantiles land where they should even for a few hundred parks.
        z_area = _normal_quantiles((rng.permutation(n) + rng.random(n)) / n)
        self.area = np.clip(_AREA_MEDIAN_M2 * np.exp(_AREA_SIGMA * z_area), *_AREA_BOUNDS_M2)
        z_units = 0.75 * z_area + 0.66 * rng.normal(size=n)
        empty_draw = rng.random(n)
        units = np.zeros(n, dtype=np.int64)
        for i in range(n):
            median, sigma, empty = _UNITS[self.kind[i]]
            if empty_draw[i] < empty:
                continue
            cap = min(800.0, self.area[i] / 90.0)  # a chalet needs room
            units[i] = max(1, int(round(min(cap, median * math.exp(sigma * z_units[i])))))
        self.units = units
        offset = np.array([_BUILT_OFFSET[k] for k in self.kind])
        self.built = np.clip(np.round(rng.normal(1983.0, 12.0, n) + offset), 1960, 2020).astype(int)
        # Size factor for signal volumes: grows with the square root of the units (1 at 7 units).
        self.size = np.sqrt((units + 4) / 11.0)

    def layout(self) -> None:
        """Forest clusters where parks concentrate (each near a different village), and the troubled ones."""
        rng = self.rng
        minx, miny, maxx, maxy = BOX
        k = int(rng.integers(4, 7))
        centres: list[tuple[float, float]] = []
        for m in np.sort(rng.choice(len(MUNICIPALITIES), size=k, replace=False)):
            seat = np.array(MUNICIPALITIES[m][2:])
            while True:
                c = seat + rng.normal(0.0, 2_000.0, 2)
                if (minx + 4_000 < c[0] < maxx - 4_000 and miny + 4_000 < c[1] < maxy - 4_000
                        and all(math.hypot(c[0] - a, c[1] - b) > 6_000 for a, b in centres)):
                    centres.append((float(c[0]), float(c[1])))
                    break
        self.cluster_xy = np.array(centres)
        self.cluster_sd = rng.uniform(900.0, 1_900.0, k)
        self.cluster_weight = rng.dirichlet(np.full(k, 4.0))
        n_risky = int(rng.integers(1, 3))
        self.risky_clusters = np.sort(rng.choice(k, size=n_risky, replace=False))
        # A smooth random field on top: a few long waves.
        self.wave_k = rng.uniform(2 * np.pi / 20_000, 2 * np.pi / 8_000, 5)
        self.wave_dir = rng.uniform(0, 2 * np.pi, 5)
        self.wave_phase = rng.uniform(0, 2 * np.pi, 5)

    def place(self) -> None:
        """Drop parks (largest first) into clusters, rejecting any that would touch a placed park."""
        rng, n = self.rng, self.n
        minx, miny, maxx, maxy = BOX
        member = rng.choice(len(self.cluster_xy) + 1, size=n, p=np.append(self.cluster_weight * 0.88, 0.12))
        shapes = [_star_shape(rng, a) for a in self.area]
        radius = np.array([np.hypot(s[:, 0], s[:, 1]).max() for s in shapes])
        placed_xy = np.zeros((n, 2))
        placed_r = np.zeros(n)
        placed_geom: list[Polygon] = []
        placed_idx: list[int] = []
        geoms: list[Polygon | None] = [None] * n
        centre = np.zeros((n, 2))
        cluster = np.full(n, -1)
        for i in np.argsort(-self.area, kind="stable"):
            c = int(member[i])
            for attempt in range(2_000):
                in_cluster = c < len(self.cluster_xy) and attempt < 400
                if in_cluster:
                    spread = self.cluster_sd[c] * (1.0 + attempt / 200.0)
                    cx, cy = self.cluster_xy[c] + rng.normal(0.0, spread, 2)
                else:
                    cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                r = radius[i]
                if not (minx + _PARK_MARGIN_M + r < cx < maxx - _PARK_MARGIN_M - r
                        and miny + _PARK_MARGIN_M + r < cy < maxy - _PARK_MARGIN_M - r):
                    continue
                m = len(placed_idx)
                near = np.flatnonzero(np.hypot(placed_xy[:m, 0] - cx, placed_xy[:m, 1] - cy)
                                      < placed_r[:m] + r + _PARK_GAP_M)
                coords = np.round(shapes[i] + (cx, cy), 2)
                poly = Polygon(coords)
                if not poly.is_valid:
                    continue
                if len(near) and shapely.dwithin(poly, [placed_geom[j] for j in near], _PARK_GAP_M).any():
                    continue
                placed_xy[m] = (cx, cy)
                placed_r[m] = r
                placed_geom.append(poly)
                placed_idx.append(int(i))
                geoms[i] = poly
                centre[i] = (cx, cy)
                cluster[i] = c if in_cluster else -1
                break
            else:
                raise RuntimeError("the demo region is too full to place another park; lower n_parks")
        self.geoms = np.array(geoms, dtype=object)
        self.centre = centre
        self.cluster = cluster
        self.tree = shapely.STRtree(self.geoms)
        left, right = self.tree.query(self.geoms, predicate="intersects")
        if (left != right).any():  # cannot happen by construction; guards against a regression
            raise RuntimeError("generated parks overlap")

    def latent_risk(self) -> None:
        """Hidden risk: spatially clustered, mildly tied to what is observable, mostly idiosyncratic."""
        rng, n = self.rng, self.n
        x, y = self.centre[:, 0], self.centre[:, 1]
        bumps = np.zeros(n)
        for c in self.risky_clusters:
            d2 = (x - self.cluster_xy[c, 0]) ** 2 + (y - self.cluster_xy[c, 1]) ** 2
            bumps += np.exp(-d2 / (2 * (1.5 * self.cluster_sd[c]) ** 2))
        waves = np.zeros(n)
        for k, d, p in zip(self.wave_k, self.wave_dir, self.wave_phase):
            waves += np.cos(k * (np.cos(d) * x + np.sin(d) * y) + p)
        field = _zscore(_zscore(bumps) + 0.4 * _zscore(waves))

        # Operators go mostly to big bungalowparks, and are chosen before risk, which they lower.
        kind_w = {"bungalowpark": 3.0, "camping": 1.0, "caravanpark": 1.5, "unknown": 0.3}
        w = np.array([kind_w[k] for k in self.kind]) * (self.units + 5.0) ** 0.7
        has_op = np.zeros(n, dtype=bool)
        n_op = int(round(0.15 * n))
        if n_op:
            has_op[rng.choice(n, size=n_op, replace=False, p=w / w.sum())] = True
        op_pick = rng.choice(len(OPERATORS), size=n, p=_OPERATOR_WEIGHTS)
        self.operator = np.array([OPERATORS[j] if has_op[i] else None for i, j in enumerate(op_pick)],
                                 dtype=object)

        observable = _zscore(1.5 * (~has_op) + 0.8 * _zscore(2020.0 - self.built)
                             + 0.4 * _zscore(np.log1p(self.units)))
        score = 0.55 * field + 0.35 * observable + 0.76 * rng.normal(size=n)
        ranks = np.empty(n)
        ranks[np.argsort(score, kind="stable")] = np.arange(n)
        self.risk = np.round(_beta_mix_quantiles((ranks + rng.random(n)) / n), 6)

        # Takeovers: about 5% of parks, somewhat more often the troubled ones.
        takeover = np.full(n, -1, dtype=np.int64)
        n_take = int(round(0.05 * n))
        if n_take:
            tw = 0.4 + self.risk
            who = rng.choice(n, size=n_take, replace=False, p=tw / tw.sum())
            last = max(2005, min(2025, self.end.year))
            takeover[who] = rng.integers(2005, last + 1, size=n_take)
        self.takeover = takeover

    def names(self) -> list[str]:
        """Dutch-sounding park names; unique except for a few deliberate duplicates, as in reality."""
        rng, n = self.rng, self.n
        names: list[str] = []
        used: dict[str, int] = {}
        for i in range(n):
            while True:
                head = _NAME_HEADS[int(rng.integers(len(_NAME_HEADS)))]
                tail, article = _NAME_TAILS[int(rng.integers(len(_NAME_TAILS)))]
                prefixes = _PREFIXES[self.kind[i]]
                prefix = prefixes[int(rng.integers(len(prefixes)))]
                form = rng.random()
                core = head + tail
                if form < 0.6:
                    name = f"{prefix} {article} {core}"
                elif form < 0.85:
                    name = f"{prefix} {core}"
                else:
                    name = f"{article} {core}"
                if name not in used:
                    break
            used[name] = i
            names.append(name)
        n_dup = int(round(0.015 * n))
        if n >= 2 * n_dup and n_dup:
            picks = rng.choice(n, size=2 * n_dup, replace=False)
            for src, dst in zip(picks[:n_dup], picks[n_dup:]):
                names[dst] = names[src]
        return names

    def parks_frame(self) -> gpd.GeoDataFrame:
        """The parks as the store would import them; municipalities follow from the nearest seat."""
        seats = np.array([(m[2], m[3]) for m in MUNICIPALITIES])
        muni = np.argmin(np.hypot(self.centre[:, [0]] - seats[:, 0], self.centre[:, [1]] - seats[:, 1]), axis=1)
        self.muni = muni
        self.ids = [f"DEMO-P{i + 1:04d}" for i in range(self.n)]
        names = self.names()
        return gpd.GeoDataFrame(
            {
                "source_id": self.ids,
                "name": names,
                "kind": list(self.kind),
                "municipality_code": [MUNICIPALITIES[m][0] for m in muni],
                "municipality_name": [MUNICIPALITIES[m][1] for m in muni],
                "province": ["Gelderland"] * self.n,
                "unit_count": self.units.astype(np.int64),
                "operator": pd.Series(list(self.operator), dtype=object),
                "takeover_year": pd.array([None if t < 0 else int(t) for t in self.takeover], dtype="Int64"),
                "built_year_median": self.built.astype(np.int64),
            },
            geometry=gpd.GeoSeries(list(self.geoms), crs="EPSG:28992"),
            crs="EPSG:28992",
        )

    # signals ---------------------------------------------------------------------------------------
    def days(self, n: int, trend: float = 0.0, season: float = 0.0) -> np.ndarray:
        """Day offsets of n events: a linear trend over the window and an optional summer peak."""
        rng = self.rng
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        out: list[np.ndarray] = []
        need = n
        while need > 0:
            m = need if season == 0 else 2 * need + 4
            u = _linear_icdf(rng.random(m), trend)
            off = np.minimum(np.floor(u * self.ndays).astype(np.int64), self.ndays - 1)
            if season:
                phase = 2 * np.pi * (self.start.toordinal() + off - dt.date(2000, 7, 15).toordinal()) / 365.2425
                off = off[rng.random(m) < (1 + season * np.cos(phase)) / (1 + season)]
            out.append(off[:need])
            need -= len(out[-1])
        return np.concatenate(out)

    def inside(self, i: int, k: int) -> np.ndarray:
        """k points inside park i, on a 0.1 m grid."""
        rng, poly = self.rng, self.geoms[i]
        minx, miny, maxx, maxy = poly.bounds
        got: list[np.ndarray] = []
        need = k
        while need > 0:
            m = 2 * need + 8
            xy = np.round(np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)]), 1)
            ok = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])][:need]
            got.append(ok)
            need -= len(ok)
        return np.concatenate(got) if got else np.zeros((0, 2))

    def outside(self, i: int, k: int, max_m: float) -> np.ndarray:
        """k points just outside park i (1 m to ``max_m`` from its edge) and inside no other park.

        Each point continues a ray from the park's star centre through a random edge point; the park is
        star-shaped around that centre, so the ray leaves it exactly once.
        """
        rng, poly = self.rng, self.geoms[i]
        if k <= 0:
            return np.zeros((0, 2))
        ring = poly.exterior
        got: list[np.ndarray] = []
        need = k
        for _ in range(10_000):
            if need <= 0:
                break
            m = need + 4
            edge = shapely.get_coordinates(shapely.line_interpolate_point(ring, rng.random(m), normalized=True))
            ray = edge - self.centre[i]
            ray /= np.hypot(ray[:, 0], ray[:, 1])[:, None]
            xy = np.round(edge + ray * rng.uniform(1.0, max_m - 1.0, m)[:, None], 1)
            hit, _ = self.tree.query(shapely.points(xy), predicate="intersects")
            ok = np.ones(m, dtype=bool)
            ok[hit] = False
            ok &= shapely.distance(poly, shapely.points(xy)) < max_m
            got.append(xy[ok][:need])
            need -= len(got[-1])
        else:
            raise RuntimeError(f"no room around park {self.ids[i]} for a point outside every park")
        return np.concatenate(got)

    def locate(self, i: int, k: int, outside_share: float, max_m: float) -> np.ndarray:
        """k points for park i, a share of them just outside it, in random order."""
        n_out = int(self.rng.binomial(k, outside_share)) if outside_share > 0 else 0
        xy = np.concatenate([self.inside(i, k - n_out), self.outside(i, n_out, max_m)]) if k else np.zeros((0, 2))
        return xy[self.rng.permutation(k)]

    def add(self, offsets: np.ndarray, stype: str, items: Sequence[tuple[str | None, dict[str, Any]]],
            xy: np.ndarray | None, park: str | None) -> None:
        """Append signals; a park reference is dropped for types the source does not link to parks."""
        drop = _WITHOUT_PARK_REF.get(stype, 0.0)
        refs_off = self.rng.random(len(offsets)) < drop if (drop and park is not None) else None
        for j, off in enumerate(offsets):
            x, y = (float(xy[j, 0]), float(xy[j, 1])) if xy is not None else (math.nan, math.nan)
            ref = None if refs_off is not None and refs_off[j] else park
            self.records.append((int(off), stype, items[j][0], x, y, ref, items[j][1]))

    def poisson(self, rate_per_year: float) -> int:
        """How many events a yearly rate gives over the whole window."""
        return int(self.rng.poisson(rate_per_year * self.years))

    def pick(self, options: tuple[str, ...], p: list[float] | None = None) -> str:
        """One option, uniformly or by (unnormalised) weights."""
        if p is None:
            return options[int(self.rng.integers(len(options)))]
        w = np.asarray(p, dtype=float)
        return options[int(self.rng.choice(len(options), p=w / w.sum()))]

    # One (subtype, attributes) per signal type, given the latent risk r of the park behind it.
    def complaint(self, r: float) -> tuple[str, dict[str, Any]]:
        """Troubled parks draw relatively more 'overlast' than noise or litter complaints."""
        sub = self.pick(("overlast", "afval", "geluid"), [0.3 + 0.5 * r, 0.3, 0.35])
        return sub, {"channel": self.pick(_CHANNELS)}

    def incident(self, r: float, sub: str | None = None) -> tuple[str, dict[str, Any]]:
        """A police report, cannabis farm or dumped drug waste; ``sub`` fixes which."""
        rng = self.rng
        sub = sub or self.pick(("politie_melding", "drugsafval"), [0.9, 0.1])
        if sub == "politie_melding":
            return sub, {"category": self.pick(_POLICE_CATEGORIES, [0.5, 0.25, 0.15, 0.1])}
        if sub == "hennepkwekerij":
            return sub, {"plants": int(rng.integers(40, 1_200))}
        return sub, {"containers": int(rng.integers(1, 30))}

    def energy(self, r: float) -> tuple[str, dict[str, Any]]:
        """Excess use reported by the grid operator: large where cultivation is likely."""
        excess = math.exp(self.rng.normal(math.log(2_500 + 40_000 * r ** 3), 0.6))
        return "netbeheerder", {"excess_kwh": int(round(excess))}

    def permit(self, r: float, unit_count: int) -> tuple[str, dict[str, Any]]:
        """Permits to live in a holiday home ('bewoning') cluster in troubled parks."""
        sub = self.pick(tuple(_PERMIT_TITLES), [0.6, 0.4, 0.04 + 0.6 * r ** 2])
        title = self.pick(_PERMIT_TITLES[sub])
        if unit_count > 0 and self.rng.random() < 0.7:
            title = f"{title}, kavel {int(self.rng.integers(1, unit_count + 1))}"
        return sub, {"title": title}

    def other(self) -> tuple[str | None, dict[str, Any]]:
        """Background noise: signals that say nothing about risk."""
        return None, {"note": self.pick(_OTHER_NOTES)}

    def sale(self, r: float) -> tuple[str, dict[str, Any]]:
        """A chalet sale; company buyers and quick resales are more common in troubled parks."""
        rng = self.rng
        buyer = "company" if rng.random() < 0.12 + 0.5 * r else "private"
        resale: int | None = None
        if rng.random() < 0.04 + 0.4 * r ** 1.5:
            resale = int(min(36, max(1, round(rng.exponential(3.0 + 15.0 * (1 - r))))))
        return "chalet_sale", {"buyer_kind": buyer, "resale_within_months": resale}

    def inspection_attrs(self, i: int, r: float, p_violation: float) -> dict[str, Any]:
        """An inspection outcome; a violation always names at least one category."""
        rng = self.rng
        violation = bool(rng.random() < p_violation)
        cats: list[str] = []
        if violation:
            p = np.array([0.55 + 0.2 * r, 0.1 + 0.35 * r, 0.35, 0.3, 0.01 + 0.35 * r ** 3])
            chosen = rng.random(5) < p
            if not chosen.any():
                chosen[int(rng.choice(5, p=p / p.sum()))] = True
            cats = [c for c, on in zip(INSPECTION_CATEGORIES, chosen) if on]
        team = self.muni[i] if rng.random() < 0.85 else int(rng.integers(len(MUNICIPALITIES)))
        return {"violation": violation, "categories": cats, "inspector_team": f"team-{'ABCDEF'[team]}"}

    def park_signals(self, i: int) -> None:
        """All signals of one park; rates grow with latent risk and, sub-linearly, with its units."""
        rng = self.rng
        r, s, units, ref = float(self.risk[i]), float(self.size[i]), int(self.units[i]), self.ids[i]
        trend = float(np.clip(1.2 * (r - 0.35), -0.3, 0.7))  # troubled parks get worse over the window

        # Inspections: a base rate everywhere, more where trouble is (which is also where it is looked for).
        p_violation = 0.04 + 0.85 * r ** 2
        routine = np.sort(self.days(self.poisson((1.4 + 5.0 * r ** 2) * s ** 0.5), trend))
        offsets: list[int] = []
        items: list[tuple[str | None, dict[str, Any]]] = []
        for off in routine:
            attrs = self.inspection_attrs(i, r, p_violation)
            offsets.append(int(off))
            items.append(("routine", attrs))
            if attrs["violation"] and rng.random() < 0.75:
                follow = int(off) + int(rng.integers(30, 121))
                if follow < self.ndays:
                    offsets.append(follow)
                    items.append(("follow_up", self.inspection_attrs(i, r, 0.55 * p_violation)))
        self.add(np.array(offsets, dtype=np.int64), "inspection", items, self.locate(i, len(offsets), 0, 0), ref)

        # BRP registrations at quarter ends: residents flow in and out; troubled parks fill up.
        if units > 0:
            p0 = min(0.9, (0.01 + 0.45 * r ** 1.5) * math.exp(rng.normal(0.0, 0.3)))
            growth = 0.35 * r ** 2
            expected_prev = units * 1.7 * p0
            residents = int(rng.poisson(expected_prev))
            for q, off in enumerate(self.quarter_ends):
                expected = units * 1.7 * min(0.95, p0 * (1 + growth * off / 365.25))
                if q:
                    residents += int(rng.poisson(0.08 * expected + max(0.0, expected - expected_prev)))
                    residents -= int(rng.binomial(residents, 0.08))
                residents = min(residents, units * 4)
                expected_prev = expected
                self.records.append((int(off), "registration", "brp", math.nan, math.nan, ref,
                                     {"residents": residents}))

        # Chalet sales and the odd park takeover.
        if units > 0:
            k = self.poisson(0.2 * units ** 0.75 * (1 + 1.2 * r))
            self.add(self.days(k, trend), "ownership_change", [self.sale(r) for _ in range(k)],
                     self.locate(i, k, 0, 0), ref)
        year = int(self.takeover[i])
        if self.start.year <= year <= self.end.year:
            lo = max(0, (dt.date(year, 1, 1) - self.start).days)
            hi = min(self.ndays - 1, (dt.date(year, 12, 31) - self.start).days)
            off = np.array([int(rng.integers(lo, hi + 1))])
            takeover = ("park_takeover", {"buyer_kind": "company", "resale_within_months": None})
            self.add(off, "ownership_change", [takeover], self.locate(i, 1, 0, 0), ref)

        k = self.poisson((1.9 + 1.4 * r) * s)
        self.add(self.days(k, trend), "permit", [self.permit(r, units) for _ in range(k)],
                 self.locate(i, k, 0.2, 200.0), ref)

        k = self.poisson((2.4 + 15.0 * r ** 1.5) * s)
        self.add(self.days(k, trend, season=0.5), "complaint", [self.complaint(r) for _ in range(k)],
                 self.locate(i, k, 0.3, NEARBY_MAX_M), ref)

        k = self.poisson((1.0 + 9.0 * r ** 2) * s ** 0.8)
        police = [self.incident(r, "politie_melding") for _ in range(k)]
        self.add(self.days(k, trend, season=0.3), "incident", police, self.locate(i, k, 0.15, NEARBY_MAX_M), ref)
        k = self.poisson(0.6 * r ** 4 * s ** 0.5)
        self.add(self.days(k, trend), "incident", [self.incident(r, "hennepkwekerij") for _ in range(k)],
                 self.locate(i, k, 0, 0), ref)
        k = self.poisson(0.005 + 0.5 * r ** 4)
        self.add(self.days(k, trend), "incident", [self.incident(r, "drugsafval") for _ in range(k)],
                 self.locate(i, k, 0.6, NEARBY_MAX_M), ref)

        k = self.poisson(0.004 + 0.3 * r ** 3)
        p_serious = 0.03 + 0.6 * r ** 2
        outcomes = [self.pick(("no_risk", "minor_risk", "serious_risk"), [0.75 - 0.5 * r, 0.25, p_serious])
                    for _ in range(k)]
        self.add(self.days(k, trend), "bibob", [("advies", {"outcome": o}) for o in outcomes], None, ref)

        k = self.poisson((0.1 + 8.0 * r ** 4) * s ** 0.5)
        self.add(self.days(k, trend), "energy_anomaly", [self.energy(r) for _ in range(k)],
                 self.locate(i, k, 0, 0), ref)

        k = self.poisson(0.9 * s ** 0.5)
        self.add(self.days(k), "other", [self.other() for _ in range(k)],
                 self.locate(i, k, 0.2, NEARBY_MAX_M), ref)

    def loose_signal(self, r: float) -> tuple[str, str | None, dict[str, Any]]:
        """A signal without a park reference: the kinds a municipality gets about a location."""
        stype = self.pick(("complaint", "incident", "energy_anomaly", "other", "permit"),
                          [0.45, 0.25, 0.1, 0.12, 0.08])
        sub: str | None
        if stype == "complaint":
            sub, attrs = self.complaint(r)
        elif stype == "incident":
            sub, attrs = self.incident(r)
        elif stype == "energy_anomaly":
            sub, attrs = self.energy(r)
        elif stype == "other":
            sub, attrs = self.other()
        else:
            sub, attrs = self.permit(r, 0)
        return stype, sub, attrs

    def loose_signals(self) -> None:
        """About 3% nearby (outside every park, within 250 m of one) and 1% far from any park."""
        rng = self.rng
        base = len(self.records)
        n_near = int(round(0.03 * base / 0.96))
        n_far = int(round(0.01 * base / 0.96))
        w = (0.3 + self.risk) * self.size
        for i in rng.choice(self.n, size=n_near, p=w / w.sum()):
            stype, sub, attrs = self.loose_signal(float(self.risk[i]))
            xy = self.outside(int(i), 1, NEARBY_MAX_M)
            self.records.append((int(self.days(1)[0]), stype, sub, float(xy[0, 0]), float(xy[0, 1]), None, attrs))
        minx, miny, maxx, maxy = BOX
        far: list[np.ndarray] = []
        need = n_far
        for _ in range(10_000):
            if need <= 0:
                break
            m = 2 * need + 8
            xy = np.round(np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)]), 1)
            hit, _ = self.tree.query(shapely.points(xy), predicate="dwithin", distance=_FAR_MIN_M)
            ok = np.ones(m, dtype=bool)
            ok[hit] = False
            far.append(xy[ok][:need])
            need -= len(far[-1])
        else:
            raise RuntimeError("the demo region has no room far from every park; lower n_parks")
        for x, y in (np.concatenate(far) if far else np.zeros((0, 2))):
            stype, sub, attrs = self.loose_signal(0.1)
            self.records.append((int(self.days(1)[0]), stype, sub, float(x), float(y), None, attrs))

    def signals_frame(self) -> pd.DataFrame:
        """All signals, ordered by date and numbered in that order (so date, source_id is sorted)."""
        self.quarter_ends = [
            (d - self.start).days
            for year in range(self.start.year, self.end.year + 1)
            for d in (dt.date(year, 3, 31), dt.date(year, 6, 30), dt.date(year, 9, 30), dt.date(year, 12, 31))
            if self.start <= d <= self.end
        ]
        for i in range(self.n):
            self.park_signals(i)
        self.loose_signals()
        # sorted() is stable: signals on one day keep the order they were built in.
        order = sorted(range(len(self.records)), key=lambda j: self.records[j][0])
        recs = [self.records[j] for j in order]
        return pd.DataFrame({
            "source_id": [f"DEMO-S{j + 1:06d}" for j in range(len(recs))],
            "type": [r[1] for r in recs],
            "subtype": pd.Series([r[2] for r in recs], dtype=object),
            "date": pd.Series([self.start + dt.timedelta(days=r[0]) for r in recs], dtype=object),
            "x": np.array([r[3] for r in recs], dtype=float),
            "y": np.array([r[4] for r in recs], dtype=float),
            "park_ref": pd.Series([r[5] for r in recs], dtype=object),
            "attributes": pd.Series([r[6] for r in recs], dtype=object),
        })


def generate(
    seed: int = 20240601,
    n_parks: int = 240,
    start: dt.date = dt.date(2023, 1, 1),
    end: dt.date = dt.date(2025, 12, 31),
) -> DemoRegion:
    """Generate the demo region: the same arguments always give the same region.

    ``latent_risk`` is the truth behind the signals, for judging a model; keep it out of the store.
    """
    b = _Builder(seed, n_parks, start, end)
    b.park_attributes()
    b.layout()
    b.place()
    b.latent_risk()
    parks = b.parks_frame()
    signals = b.signals_frame()
    latent = pd.Series(b.risk, index=pd.Index(b.ids, name="source_id"), name="latent_risk", dtype=float)
    return DemoRegion(parks=parks, signals=signals, latent_risk=latent)


#: The last day of :func:`generate`'s default window; :func:`relative_to` moves the region from here.
DEMO_END = dt.date(2025, 12, 31)


def relative_to(region: DemoRegion, today: dt.date) -> DemoRegion:
    """The same region moved in time so that its signals end yesterday (a fresh demo shows a current picture).

    Every signal date moves by the same number of days and the parks' years (take-over, building year) by
    the nearest number of whole years, so shapes, names, patterns and the hidden risk stay exactly the same.
    """
    days = ((today - dt.timedelta(days=1)) - DEMO_END).days
    if days == 0:
        return region
    years = int(round(days / 365.2425))
    shift = dt.timedelta(days=days)
    signals = region.signals.copy()
    signals["date"] = pd.Series([d + shift for d in signals["date"]], dtype=object, index=signals.index)
    parks = region.parks.copy()
    parks["takeover_year"] = parks["takeover_year"] + years
    parks["built_year_median"] = parks["built_year_median"] + years
    return DemoRegion(parks=parks, signals=signals, latent_risk=region.latent_risk)

