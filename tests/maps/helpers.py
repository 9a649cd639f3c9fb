"""Helpers of the map-core tests: what the browser draws, back in RD metres."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from service import geo, maps


def back_to_rd(encoded: Sequence[list[list[str]]]) -> np.ndarray:
    """Encoded parks (:func:`service.maps.encode_geometries`) decoded and projected back to RD."""
    wgs = np.array([maps.decode_geometry(e) for e in encoded], dtype=object)
    t = geo.transformer(geo.WGS84, geo.RD)
    return shapely.transform(wgs, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
