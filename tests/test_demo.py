"""Tests of the seeded demo region: determinism, realistic parks, and signals that carry the hidden risk."""
from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.demo import BOX, INSPECTION_CATEGORIES, MUNICIPALITIES, NEARBY_MAX_M, DemoRegion, generate

START, END = dt.date(2023, 1, 1), dt.date(2025, 12, 31)
PARK_COLUMNS = [
    "source_id", "name", "kind", "municipality_code", "municipality_name", "province", "unit_count",
    "operator", "takeover_year", "built_year_median", "geometry",
]
SIGNAL_COLUMNS = ["source_id", "type", "subtype", "date", "x", "y", "park_ref", "attributes"]
SUBTYPES = {
    "permit": {"omgevingsvergunning", "bouwvergunning", "bewoning_zonder_beheerderstaken"},
    "ownership_change": {"chalet_sale", "park_takeover"},
    "inspection": {"routine", "follow_up"},
    "registration": {"brp"},
    "complaint": {"overlast", "afval", "geluid"},
    "incident": {"politie_melding", "hennepkwekerij", "drugsafval"},
    "bibob": {"advies"},
    "energy_anomaly": {"netbeheerder"},
    "other": {None},
}
TRAITS = re.compile(r"national|ethnic|relig", re.I)


@pytest.fixture(scope="module")
def region() -> DemoRegion:
    return generate()


@pytest.fixture(scope="module")
def parks(region: DemoRegion):
    return region.parks


@pytest.fixture(scope="module")
def signals(region: DemoRegion) -> pd.DataFrame:
    return region.signals


@pytest.fixture(scope="module")
def park_geoms(parks) -> dict[str, shapely.Geometry]:
    return dict(zip(parks["source_id"], parks.geometry))


def _assert_same(a: DemoRegion, b: DemoRegion) -> None:
    assert list(a.parks.geometry.to_wkb()) == list(b.parks.geometry.to_wkb())
    pd.testing.assert_frame_equal(a.parks.drop(columns="geometry"), b.parks.drop(columns="geometry"))
    pd.testing.assert_frame_equal(a.signals, b.signals)
    pd.testing.assert_series_equal(a.latent_risk, b.latent_risk)
    dump = lambda r: json.dumps(r.signals.drop(columns="date").to_dict("records"), default=str)  # noqa: E731
    assert dump(a) == dump(b)


# -- determinism ------------------------------------------------------------------------------------
def test_same_seed_gives_identical_output(region: DemoRegion) -> None:
    _assert_same(region, generate())


def test_other_seed_and_window_differ_and_respect_arguments(region: DemoRegion) -> None:
    start, end = dt.date(2024, 2, 10), dt.date(2024, 11, 5)
    small = generate(seed=7, n_parks=40, start=start, end=end)
    _assert_same(small, generate(seed=7, n_parks=40, start=start, end=end))
    assert len(small.parks) == 40 and len(small.latent_risk) == 40
    assert small.signals["date"].min() >= start and small.signals["date"].max() <= end
    other = generate(seed=7)
    assert not other.latent_risk.equals(region.latent_risk)
    assert list(other.parks.geometry.to_wkb()) != list(region.parks.geometry.to_wkb())
    assert len(other.signals) != len(region.signals) or not other.signals.equals(region.signals)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        generate(n_parks=0)
    with pytest.raises(ValueError):
        generate(start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 1))


# -- parks ------------------------------------------------------------------------------------------
def test_park_columns_and_crs(parks) -> None:
    assert list(parks.columns) == PARK_COLUMNS
    assert parks.crs.to_epsg() == 28992
    assert len(parks) == 240
    assert parks["source_id"].is_unique
    assert parks["source_id"].str.fullmatch(r"DEMO-P\d{4}").all()


def test_parks_are_valid_disjoint_polygons_in_the_veluwe_box(parks) -> None:
    geoms = parks.geometry.to_numpy()
    assert all(g.geom_type == "Polygon" for g in geoms)
    assert shapely.is_valid(geoms).all()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    assert (left == right).all(), "parks overlap"
    minx, miny, maxx, maxy = parks.total_bounds
    assert minx >= BOX[0] and miny >= BOX[1] and maxx <= BOX[2] and maxy <= BOX[3]
    n_vertices = shapely.get_num_coordinates(geoms) - 1
    assert n_vertices.min() >= 8 and n_vertices.max() <= 20


def test_park_areas_are_log_normal_like(parks) -> None:
    ha = parks.area / 10_000
    assert 1.2 <= ha.median() <= 2.8
    assert 3.0 <= ha.quantile(0.75) <= 7.5
    assert 7.0 <= ha.quantile(0.9) <= 18.0
    assert ha.max() <= 130.0


def test_parks_cluster_in_forest_areas(parks) -> None:
    """Parks crowd together: far more close neighbours than a uniform spread over the box would give."""
    c = np.column_stack([parks.centroid.x, parks.centroid.y])
    d = np.hypot(c[:, 0, None] - c[:, 0], c[:, 1, None] - c[:, 1])
    np.fill_diagonal(d, np.inf)
    nearest = d.min(axis=1)
    uniform_expectation = 0.5 * np.sqrt((BOX[2] - BOX[0]) * (BOX[3] - BOX[1]) / len(parks))
    assert np.median(nearest) < 0.6 * uniform_expectation


def test_kind_shares(parks) -> None:
    shares = parks["kind"].value_counts(normalize=True)
    assert set(shares.index) <= {"bungalowpark", "camping", "caravanpark", "unknown"}
    for kind, expected in {"bungalowpark": 0.27, "camping": 0.55, "caravanpark": 0.05, "unknown": 0.13}.items():
        assert abs(shares.get(kind, 0.0) - expected) <= 0.05, kind


def test_park_attributes(parks) -> None:
    codes = {code: name for code, name, _, _ in MUNICIPALITIES}
    assert parks["municipality_code"].isin(list(codes)).all()
    assert (parks["municipality_code"].map(codes) == parks["municipality_name"]).all()
    assert parks["municipality_code"].nunique() >= 4
    assert (parks["province"] == "Gelderland").all()

    units = parks["unit_count"]
    assert units.dtype.kind == "i" and (units >= 0).all() and units.max() <= 800
    assert 3 <= units.median() <= 15
    assert 25 <= units.quantile(0.75) <= 90
    assert units.max() >= 300
    ha = parks.area / 10_000
    assert np.corrcoef(np.log(ha), np.log1p(units))[0, 1] > 0.2

    with_operator = parks["operator"].notna()
    assert 0.10 <= with_operator.mean() <= 0.20
    assert parks.loc[~with_operator, "operator"].map(lambda v: v is None).all()
    takeover = parks["takeover_year"].dropna()
    assert 0.02 <= len(takeover) / len(parks) <= 0.08
    assert takeover.between(2005, 2025).all()
    assert parks["built_year_median"].between(1960, 2020).all()

    names = parks["name"]
    assert names.str.len().gt(5).all()
    assert 1 <= names.duplicated().sum() <= 10  # a few duplicates, as in reality


# -- latent risk ------------------------------------------------------------------------------------
def test_latent_risk_shares_and_index(region: DemoRegion) -> None:
    risk = region.latent_risk
    assert list(risk.index) == list(region.parks["source_id"])
    assert risk.between(0.0, 1.0).all()
    low, high = (risk < 0.35).mean(), (risk > 0.7).mean()
    assert abs(low - 0.75) <= 0.08
    assert abs((1 - low - high) - 0.18) <= 0.08
    assert abs(high - 0.07) <= 0.08 and high > 0


def test_latent_risk_is_spatial_and_only_mildly_observable(region: DemoRegion) -> None:
    parks, risk = region.parks, region.latent_risk.to_numpy()
    c = np.column_stack([parks.centroid.x, parks.centroid.y])
    d = np.hypot(c[:, 0, None] - c[:, 0], c[:, 1, None] - c[:, 1])
    np.fill_diagonal(d, np.inf)
    neighbours = risk[np.argsort(d, axis=1)[:, :5]].mean(axis=1)
    assert np.corrcoef(risk, neighbours)[0, 1] > 0.2

    x = np.column_stack([
        np.ones(len(parks)), parks["operator"].isna(), parks["built_year_median"], np.log1p(parks["unit_count"]),
    ]).astype(float)
    beta, *_ = np.linalg.lstsq(x, risk, rcond=None)
    r2 = 1 - ((risk - x @ beta) ** 2).sum() / ((risk - risk.mean()) ** 2).sum()
    assert 0.0 < r2 < 0.35
    assert beta[1] > 0 and beta[2] < 0  # no operator and older stock go with more risk


# -- signals ----------------------------------------------------------------------------------------
def test_signal_columns_volume_and_order(signals: pd.DataFrame) -> None:
    assert list(signals.columns) == SIGNAL_COLUMNS
    assert 15_000 <= len(signals) <= 40_000
    assert signals["source_id"].is_unique
    assert signals["source_id"].str.fullmatch(r"DEMO-S\d{6}").all()
    keys = list(zip(signals["date"], signals["source_id"]))
    assert keys == sorted(keys)


def test_every_type_present_with_known_subtypes(signals: pd.DataFrame) -> None:
    assert set(signals["type"]) == set(SUBTYPES)
    for stype, group in signals.groupby("type"):
        assert set(group["subtype"].map(lambda v: v if isinstance(v, str) else None)) <= SUBTYPES[stype], stype
    assert signals["subtype"].map(lambda v: v is None or isinstance(v, str)).all()


def test_dates_within_window_and_registrations_at_quarter_ends(signals: pd.DataFrame) -> None:
    dates = signals["date"]
    assert dates.map(lambda d: type(d) is dt.date).all()
    assert dates.min() >= START and dates.max() <= END
    years = pd.Series([d.year for d in dates])
    assert set(years) == {2023, 2024, 2025}
    reg = signals[signals["type"] == "registration"]
    assert reg["date"].map(lambda d: (d.month, d.day) in {(3, 31), (6, 30), (9, 30), (12, 31)}).all()
    assert not reg.duplicated(["park_ref", "date"]).any()
    assert reg.groupby("park_ref").size().eq(12).all()


def test_unlocated_signals_have_a_park(signals: pd.DataFrame) -> None:
    unlocated = signals["x"].isna()
    assert (unlocated == signals["y"].isna()).all()
    assert set(signals.loc[unlocated, "type"]) == {"registration", "bibob"}
    assert signals.loc[unlocated, "park_ref"].notna().all()
    assert signals.loc[signals["type"].isin(["registration", "bibob"]), "x"].isna().all()


def test_located_signals_lie_in_or_near_their_park(signals: pd.DataFrame, park_geoms) -> None:
    located = signals[signals["x"].notna() & signals["park_ref"].notna()]
    assert set(located["park_ref"]) <= set(park_geoms)
    geoms = np.array([park_geoms[p] for p in located["park_ref"]], dtype=object)
    points = shapely.points(located["x"].to_numpy(), located["y"].to_numpy())
    dist = shapely.distance(geoms, points)
    assert (dist <= NEARBY_MAX_M + 1e-6).all()
    inside = dist == 0
    assert 0.75 <= inside.mean() < 1.0  # most inside, some just outside
    by_type = pd.Series(inside, index=located.index).groupby(located["type"]).mean()
    assert by_type["inspection"] == 1.0 and by_type["ownership_change"] == 1.0
    assert 0.6 <= by_type["complaint"] <= 0.8
    assert 0.7 <= by_type["permit"] <= 0.9
    permits = located["type"].to_numpy() == "permit"
    assert (dist[permits] <= 200.0 + 1e-6).all()


def test_points_outside_a_park_are_in_no_other_park(signals: pd.DataFrame, parks, park_geoms) -> None:
    located = signals[signals["x"].notna()]
    points = shapely.points(located["x"].to_numpy(), located["y"].to_numpy())
    tree = shapely.STRtree(parks.geometry.to_numpy())
    point_idx, park_idx = tree.query(points, predicate="intersects")
    assert len(np.unique(point_idx)) == len(point_idx), "a point lies in two parks"
    ids = parks["source_id"].to_numpy()
    refs = located["park_ref"].to_numpy()
    hit_refs = refs[point_idx]
    has_ref = pd.notna(hit_refs)
    assert (hit_refs[has_ref] == ids[park_idx][has_ref]).all(), "a point lies inside a park it does not refer to"


def test_loose_signals_exercise_spatial_assignment(signals: pd.DataFrame, parks) -> None:
    loose = signals[signals["park_ref"].isna()]
    assert loose["x"].notna().all()
    points = shapely.points(loose["x"].to_numpy(), loose["y"].to_numpy())
    tree = shapely.STRtree(parks.geometry.to_numpy())
    inside_idx, _ = tree.query(points, predicate="intersects")
    near_idx, _ = tree.query(points, predicate="dwithin", distance=NEARBY_MAX_M)
    inside = np.isin(np.arange(len(loose)), inside_idx)
    near = np.isin(np.arange(len(loose)), near_idx) & ~inside
    far = ~inside & ~near
    n = len(signals)
    assert inside.sum() > 0  # located incidents and grid anomalies without a park reference
    assert 0.025 <= near.sum() / n <= 0.08
    assert 0.007 <= far.sum() / n <= 0.015
    x, y = loose["x"].to_numpy(), loose["y"].to_numpy()
    assert ((x >= BOX[0]) & (x <= BOX[2]) & (y >= BOX[1]) & (y <= BOX[3])).all()
    assert set(loose["type"]) <= {"complaint", "incident", "energy_anomaly", "other", "permit"}


def test_attributes_follow_their_schema(signals: pd.DataFrame, parks) -> None:
    allowed = (str, int, float, bool, list, type(None))
    for attrs in signals["attributes"]:
        assert isinstance(attrs, dict)
        assert all(isinstance(v, allowed) for v in attrs.values())
    json.dumps(signals["attributes"].tolist(), allow_nan=False)

    attrs = lambda stype: signals.loc[signals["type"] == stype, "attributes"]  # noqa: E731
    for a in attrs("inspection"):
        assert set(a) == {"violation", "categories", "inspector_team"}
        assert isinstance(a["violation"], bool)
        assert bool(a["categories"]) == a["violation"]
        assert set(a["categories"]) <= set(INSPECTION_CATEGORIES)
        assert re.fullmatch(r"team-[A-Z]", a["inspector_team"])
    units = dict(zip(parks["source_id"], parks["unit_count"]))
    reg = signals[signals["type"] == "registration"]
    assert reg["park_ref"].map(units).gt(0).all()
    assert set(reg["park_ref"]) == {p for p, u in units.items() if u > 0}
    for a in reg["attributes"]:
        assert set(a) == {"residents"} and type(a["residents"]) is int and a["residents"] >= 0
    for a in attrs("ownership_change"):
        assert a["buyer_kind"] in {"company", "private"}
        resale = a["resale_within_months"]
        assert resale is None or (type(resale) is int and 1 <= resale <= 36)
    assert all(a["outcome"] in {"no_risk", "minor_risk", "serious_risk"} for a in attrs("bibob"))
    assert all(type(a["excess_kwh"]) is int and a["excess_kwh"] > 0 for a in attrs("energy_anomaly"))
    assert all(isinstance(a["title"], str) and a["title"] for a in attrs("permit"))
    assert all(isinstance(a["note"], str) and a["note"] for a in attrs("other"))


def test_no_personal_traits_anywhere(region: DemoRegion) -> None:
    for frame in (region.parks, region.signals):
        assert not [c for c in frame.columns if TRAITS.search(str(c))]
    keys = {k for a in region.signals["attributes"] for k in a}
    assert keys and not [k for k in keys if TRAITS.search(k)]
    assert not TRAITS.search(f"{region.latent_risk.name} {region.latent_risk.index.name}")


# -- signals carry the hidden risk ------------------------------------------------------------------
def _per_park(signals: pd.DataFrame, risk: pd.Series, mask: pd.Series) -> pd.Series:
    """Signals per park (by park_ref) that match ``mask``, zero for parks without any."""
    refs = signals.loc[mask & signals["park_ref"].notna(), "park_ref"]
    return refs.value_counts().reindex(risk.index, fill_value=0)


def test_risky_parks_have_more_violations(region: DemoRegion) -> None:
    s, risk = region.signals, region.latent_risk
    violations = (s["type"] == "inspection") & s["attributes"].map(lambda a: bool(a.get("violation")))
    count = _per_park(s, risk, violations)
    top = risk >= risk.quantile(0.9)
    bottom = risk <= risk.quantile(0.5)
    assert count[top].mean() > 3 * count[bottom].mean()
    inspections = _per_park(s, risk, s["type"] == "inspection")
    rate = count / inspections.where(inspections > 0)
    assert rate[top].mean() > rate[bottom].mean() + 0.3


def test_risk_driven_signals_follow_latent_risk(region: DemoRegion) -> None:
    s, risk = region.signals, region.latent_risk
    top = risk >= risk.quantile(0.9)
    bottom = risk <= risk.quantile(0.5)
    for stype in ("energy_anomaly", "complaint", "bibob"):
        count = _per_park(s, risk, s["type"] == stype)
        assert count[top].mean() > 2 * count[bottom].mean(), stype
    drugs = _per_park(s, risk, s["subtype"].isin(["hennepkwekerij", "drugsafval"]))
    assert drugs[top].sum() > drugs[bottom].sum()
    reg = s[s["type"] == "registration"]
    residents = reg.assign(residents=reg["attributes"].map(lambda a: a["residents"]))
    first, last = residents["date"].min(), residents["date"].max()
    per_park = residents.pivot_table(index="park_ref", columns="date", values="residents")
    units = region.parks.set_index("source_id")["unit_count"]
    share = per_park[last] / units.reindex(per_park.index)
    growth = per_park[last] - per_park[first]
    r = risk.reindex(per_park.index)
    assert np.corrcoef(r, share)[0, 1] > 0.3
    assert growth[r > 0.7].mean() > growth[r < 0.35].mean()
