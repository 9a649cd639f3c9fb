"""service.maps.encoding: polylines (Google's algorithm), outlines within 2 m, JSON safe in a script block."""
from __future__ import annotations

import json

import numpy as np
import shapely

from service import maps
from tests.maps.helpers import back_to_rd


def test_polyline_round_trip():
    pts = np.array([[52.123456, 5.654321], [52.123457, 5.654300], [51.9, 4.1], [52.0, 6.0]])
    back = maps.decode_polyline(maps.encode_polyline(pts))
    assert np.abs(back - pts).max() <= 0.5e-6 + 1e-12
    assert maps.encode_polyline(np.array([[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]]), precision=5) \
        == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"  # Google's documented example


def test_parks_with_holes_and_parts_keep_their_shape_and_empty_ones_stay_empty():
    holed = shapely.box(190000, 470000, 190300, 470300).difference(shapely.box(190100, 470100, 190200, 470200))
    multi = shapely.MultiPolygon([shapely.box(191000, 470000, 191100, 470100),
                                  shapely.box(192000, 470000, 192100, 470100)])
    enc = maps.encode_geometries([holed, multi, None, shapely.Polygon()])
    assert [[len(rings) for rings in park] for park in enc] == [[2], [1, 1], [], []]
    h = shapely.hausdorff_distance(back_to_rd(enc[:2]), np.array([holed, multi], dtype=object), densify=0.1)
    assert h.max() <= maps.MAX_SHIFT_M


def test_js_json_cannot_close_the_script_block():
    text = maps.js_json({"name": "</script><!-- & 'x' \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "'" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!-- & 'x' \u2028"}

