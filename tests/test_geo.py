"""CRS handling, the Dutch area of use and geometry repair."""
from __future__ import annotations

import numpy as np
import pytest
import shapely

from service import geo


def test_rd_roundtrip_of_a_known_point() -> None:
    # Amersfoort, the origin of RD: (155000, 463000) is about 5.387 E, 52.155 N.
    lon, lat = geo.to_lonlat(np.array([155_000.0]), np.array([463_000.0]), geo.RD)
    assert lon[0] == pytest.approx(5.3872, abs=1e-3) and lat[0] == pytest.approx(52.1552, abs=1e-3)
    x, y = geo.to_rd_xy(lon, lat, geo.WGS84)
    assert x[0] == pytest.approx(155_000, abs=0.01) and y[0] == pytest.approx(463_000, abs=0.01)


def test_area_of_use_catches_swaps_and_metres() -> None:
    lon = np.array([5.6, 52.2, 180_000.0, np.nan])
    lat = np.array([52.2, 5.6, 470_000.0, 52.0])
    assert geo.inside_netherlands_lonlat(lon, lat).tolist() == [True, False, False, False]


def test_repair_keeps_polygonal_area() -> None:
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    fixed, why = geo.repair_polygonal(bowtie)
    assert why is None and fixed.is_valid and fixed.area == pytest.approx(50)


@pytest.mark.parametrize("geom, reason", [
    (None, "geometry is empty"),
    (shapely.Point(0, 0), "not a Point"),
    (shapely.LineString([(0, 0), (1, 1)]), "not a LineString"),
    (shapely.Polygon([(0, 0), (1, 0), (2, 0)]), "no polygonal area survives repair"),
])
def test_repair_refuses_what_is_no_park(geom, reason) -> None:
    fixed, why = geo.repair_polygonal(geom)
    assert fixed is None and reason in why


def test_simplify_for_web_moves_no_boundary_more_than_tolerance() -> None:
    circle = shapely.Point(0, 0).buffer(500, quad_segs=64)
    simple = geo.simplify_for_web(np.array([circle], dtype=object), 2.0)[0]
    assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(circle)
    assert shapely.hausdorff_distance(circle, simple) <= 2.0
