"""The park index: inside, nearby, unassigned, ties, and live additions."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from service.spatial import ParkIndex
from tests.helpers import square


@pytest.fixture
def index() -> ParkIndex:
    # Park 10: 100x100 m at (1000,1000); park 20: 100x100 at (1300,1000); park 30 (small) inside park 10.
    geoms = np.array([square(1000, 1000), square(1300, 1000), square(1020, 1020, 20)], dtype=object)
    return ParkIndex(np.array([10, 20, 30]), geoms)


def test_point_inside_goes_to_that_park(index: ParkIndex) -> None:
    a = index.assign(np.array([1310.0]), np.array([1010.0]))
    assert a.park_id.tolist() == [20]
    assert a.method.tolist() == ["inside"]
    assert a.distance_m.tolist() == [0.0]


def test_overlapping_parks_prefer_the_smallest(index: ParkIndex) -> None:
    a = index.assign(np.array([1030.0, 1090.0]), np.array([1030.0, 1090.0]))
    assert a.park_id.tolist() == [30, 10]


def test_nearby_within_distance_and_nearest_wins(index: ParkIndex) -> None:
    # 1150 lies 50 m from park 10 and 150 m from park 20.
    a = index.assign(np.array([1150.0]), np.array([1050.0]), max_distance=250)
    assert a.park_id.tolist() == [10]
    assert a.method.tolist() == ["nearby"]
    assert a.distance_m[0] == pytest.approx(50.0)


def test_beyond_distance_is_unassigned_not_dropped(index: ParkIndex) -> None:
    a = index.assign(np.array([5000.0, np.nan]), np.array([5000.0, 1.0]), max_distance=250)
    assert a.park_id.tolist() == [-1, -1]
    assert a.method.tolist() == ["unassigned", "unassigned"]
    assert a.counts() == {"unassigned": 2, "inside": 0, "nearby": 0}


def test_boundary_point_counts_as_inside(index: ParkIndex) -> None:
    a = index.assign(np.array([1100.0]), np.array([1050.0]))
    assert a.method.tolist() == ["inside"] and a.park_id.tolist() == [10]


def test_equal_distance_tie_goes_to_lowest_id() -> None:
    idx = ParkIndex(np.array([7, 3]), np.array([square(0, 0), square(300, 0)], dtype=object))
    a = idx.assign(np.array([200.0]), np.array([50.0]))
    assert a.park_id.tolist() == [3]


def test_add_park_live_without_rebuild(index: ParkIndex) -> None:
    index.add(40, square(5000, 5000))
    assert index.overlay_size == 1
    assert index.locate(5050, 5050) == (40, "inside", 0.0)
    assert index.overlay_size == 1, "a single lookup must not rebuild the bulk tree"
    a = index.assign(np.array([5050.0]), np.array([5050.0]))
    assert a.park_id.tolist() == [40]


def test_replace_and_remove_park(index: ParkIndex) -> None:
    index.add(20, square(8000, 8000))  # park 20 moved
    assert index.locate(1310, 1010)[0] is None or index.locate(1310, 1010)[1] == "nearby"
    assert index.locate(8010, 8010)[0] == 20
    index.remove(20)
    assert index.locate(8010, 8010) == (None, "unassigned", None)
    assert len(index) == 2


def test_locate_matches_bulk_assign(index: ParkIndex) -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(700, 1700, 300)
    y = rng.uniform(700, 1400, 300)
    a = index.assign(x, y, 250)
    for i in range(len(x)):
        pid, method, dist = index.locate(x[i], y[i], 250)
        assert (pid if pid is not None else -1) == a.park_id[i]
        assert method == a.method[i]


def test_neighbours(index: ParkIndex) -> None:
    assert [p for p, _ in index.neighbours(10, 250)] == [30, 20]
    assert index.neighbours(20, 100) == []
    a, b, d = index.neighbour_pairs(250)
    assert {(int(i), int(j)) for i, j in zip(a, b)} >= {(10, 20), (20, 10)}


def test_same_result_as_geopandas_sjoin() -> None:
    """The bulk assignment equals sjoin(intersects) + sjoin_nearest(max_distance) with the same tie rules."""
    rng = np.random.default_rng(11)
    centres = rng.uniform(0, 20_000, size=(60, 2))
    geoms = np.array([shapely.Point(c).buffer(rng.uniform(50, 400), quad_segs=4) for c in centres], dtype=object)
    ids = np.arange(1, 61)
    x = rng.uniform(-500, 20_500, 5000)
    y = rng.uniform(-500, 20_500, 5000)
    a = ParkIndex(ids, geoms).assign(x, y, 250)

    parks = gpd.GeoDataFrame({"pid": ids, "area": shapely.area(geoms)}, geometry=list(geoms), crs=28992)
    pts = gpd.GeoDataFrame({"i": np.arange(len(x))}, geometry=gpd.points_from_xy(x, y), crs=28992)
    inside = gpd.sjoin(pts, parks, predicate="intersects").sort_values(["i", "area", "pid"]).drop_duplicates("i")
    rest = pts[~pts.i.isin(inside.i)]
    near = (gpd.sjoin_nearest(rest, parks, max_distance=250, distance_col="d")
            .sort_values(["i", "d", "pid"]).drop_duplicates("i"))
    expected = np.full(len(x), -1)
    expected[inside.i.to_numpy()] = inside.pid.to_numpy()
    expected[near.i.to_numpy()] = near.pid.to_numpy()
    assert (a.park_id == expected).all()
    assert (a.code == 1).sum() == len(inside) and (a.code == 2).sum() == len(near)


def _reference(ids, geoms, x, y, max_distance):
    """Point by point with GEOS: inside the smallest (then lowest id), else the nearest (then lowest id)."""
    park, dist = np.full(len(x), -1), np.full(len(x), np.nan)
    areas = shapely.area(geoms)
    for i, (px, py) in enumerate(zip(x, y)):
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        pt = shapely.Point(px, py)
        inside = np.flatnonzero(shapely.intersects(geoms, pt))
        if len(inside):
            best = inside[np.lexsort((ids[inside], areas[inside]))[0]]
            park[i], dist[i] = ids[best], 0.0
            continue
        d = shapely.distance(geoms, pt)
        near = np.flatnonzero(d <= max_distance)
        if len(near):
            best = near[np.lexsort((ids[near], d[near]))[0]]
            park[i], dist[i] = ids[best], d[best]
    return park, dist


def test_bulk_assignment_is_geos_exact_with_holes_multipolygons_and_shared_edges() -> None:
    rng = np.random.default_rng(5)
    with_hole = shapely.Polygon([(0, 0), (400, 0), (400, 400), (0, 400)], [[(100, 100), (300, 100), (300, 300),
                                                                         (100, 300)]])
    multi = shapely.MultiPolygon([shapely.box(600, 0, 700, 100), shapely.box(800, 0, 900, 100)])
    left, right = shapely.box(1000, 0, 1100, 100), shapely.box(1100, 0, 1200, 100)  # one shared edge
    spiky = shapely.Point(1500, 200).buffer(120, quad_segs=64)
    geoms = np.array([with_hole, multi, left, right, spiky, shapely.box(150, 150, 250, 250)], dtype=object)
    ids = np.array([4, 9, 2, 7, 5, 3])
    x = np.concatenate([rng.uniform(-300, 1900, 4000), [200.0, 1100.0, 1150.0, np.nan, 750.0]])
    y = np.concatenate([rng.uniform(-300, 600, 4000), [200.0, 200.0, 300.0, 1.0, 50.0]])
    a = ParkIndex(ids, geoms).assign(x, y, 250)
    park, dist = _reference(ids, geoms, x, y, 250)
    assert (a.park_id == park).all()
    assert np.array_equal(a.distance_m, dist, equal_nan=True)  # bit for bit what GEOS computes
    # in the hole's island; above the shared edge, equally near both: the lowest id; then the nearer one
    assert a.park_id[-5:].tolist()[:3] == [3, 2, 7]


def test_a_huge_park_does_not_blow_up_the_grid() -> None:
    country = shapely.box(0, 300_000, 280_000, 620_000)
    geoms = np.array([country, square(100_000, 400_000)], dtype=object)
    a = ParkIndex(np.array([1, 2]), geoms).assign(np.array([100_050.0, 5.0, -1000.0]),
                                                   np.array([400_050.0, 310_000.0, 0.0]), 250)
    assert a.park_id.tolist() == [2, 1, -1]
