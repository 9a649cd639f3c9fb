"""Small builders for test input files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping


def write_geojson(path: Path, features: list[tuple[dict[str, Any], Any]], crs: str | None = None) -> Path:
    """A GeoJSON FeatureCollection from (properties, shapely geometry or None) pairs."""
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": None if g is None else mapping(g)}
        for props, g in features
    ]}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]], sep: str = ",", encoding: str = "utf-8") -> Path:
    lines = [sep.join(header)] + [sep.join("" if v is None else str(v) for v in r) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def square(x: float, y: float, size: float = 100.0) -> shapely.Polygon:
    """A square park in RD metres with its lower-left corner at (x, y)."""
    return shapely.box(x, y, x + size, y + size)
