"""Exports of parks with their scores: GeoJSON, CSV, GeoPackage and GeoParquet, produced in chunks.

GeoJSON and CSV are written feature by feature from the catalogue, so even the national set never exists
as one string. GeoPackage and GeoParquet are files with an index or a footer at the end: they are written
to a temporary file on disk (not memory) and streamed from there, then removed.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .reads.catalogue import CRS84, PROPERTY_FIELDS, RD_CRS, ParkCatalogue
from .tabular import csv_lines

__all__ = ["Format", "FORMATS", "feature_collection", "csv_chunks", "file_chunks"]

_CHUNK_FEATURES = 500
_CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    suffix: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("geojson", "application/geo+json", ".geojson"),
    Format("csv", "text/csv", ".csv"),
    Format("gpkg", "application/geopackage+sqlite3", ".gpkg"),
    Format("parquet", "application/vnd.apache.parquet", ".parquet"),
)}

_NUMERIC = tuple(i for i, name in enumerate(PROPERTY_FIELDS)
                 if name in ("id", "unit_count", "area_m2", "score", "change", "previous_score", "hotspot_p",
                             "run_id") or name.startswith("points_") or name.endswith("_points"))


def feature_collection(features: list[str] | Iterator[str], members: dict[str, Any]) -> Iterator[str]:
    """A GeoJSON FeatureCollection from pre-serialised features, in chunks; ``members`` go before the list."""
    head = json.dumps({"type": "FeatureCollection", **members}, ensure_ascii=False, separators=(",", ":"))
    yield head[:-1] + ',"features":['
    batch: list[str] = []
    first = True
    for feature in features:
        batch.append(feature)
        if len(batch) >= _CHUNK_FEATURES:
            yield ("" if first else ",") + ",".join(batch)
            first, batch = False, []
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]}"


def csv_chunks(cat: ParkCatalogue, positions: np.ndarray, *, geometry: str = "wkt", crs: str = CRS84) -> Iterator[str]:
    """CSV of the parks' properties plus their geometry as WKT, or as the lon/lat (x/y in RD) of a point
    inside the park, or none; spreadsheet-safe (see :mod:`service.tabular`)."""
    geoms = cat.geom_rd if crs == RD_CRS else cat.geom_wgs
    extra = {"wkt": ["wkt"], "lonlat": ["x", "y"] if crs == RD_CRS else ["lon", "lat"], "none": []}[geometry]
    precision = 2 if crs == RD_CRS else 7

    def rows() -> Iterator[list[Any]]:
        for i in positions:
            values: list[Any] = [cat.props[i].get(name) for name in PROPERTY_FIELDS]
            if geometry == "wkt":
                values.append(shapely.to_wkt(geoms[i], rounding_precision=precision))
            elif geometry == "lonlat":
                point = shapely.point_on_surface(geoms[i])
                values += [round(point.x, precision), round(point.y, precision)]
            yield values

    numeric = _NUMERIC + ((len(PROPERTY_FIELDS), len(PROPERTY_FIELDS) + 1) if geometry == "lonlat" else ())
    buffer: list[str] = []
    for line in csv_lines([*PROPERTY_FIELDS, *extra], rows(), numeric=numeric):
        buffer.append(line)
        if len(buffer) >= _CHUNK_FEATURES:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def _frame(cat: ParkCatalogue, positions: np.ndarray, crs: str) -> gpd.GeoDataFrame:
    props = [cat.props[i] for i in positions]
    columns = {name: [p.get(name) for p in props] for name in PROPERTY_FIELDS}
    geoms = (cat.geom_rd if crs == RD_CRS else cat.geom_wgs)[positions] if len(positions) else []
    return gpd.GeoDataFrame(columns, geometry=list(geoms), crs="EPSG:28992" if crs == RD_CRS else "OGC:CRS84")


def file_chunks(cat: ParkCatalogue, positions: np.ndarray, fmt: Format, *, crs: str = CRS84) -> Iterator[bytes]:
    """A GeoPackage or GeoParquet file of the parks, written to a temporary file and streamed from disk."""
    handle, path = tempfile.mkstemp(prefix="parkwacht-export-", suffix=fmt.suffix)
    os.close(handle)
    try:
        frame = _frame(cat, positions, crs)
        if fmt.name == "gpkg":
            os.unlink(path)  # GDAL creates the GeoPackage itself
            frame.to_file(path, driver="GPKG", layer="parks", engine="pyogrio")
        else:
            frame.to_parquet(path, index=False)
        del frame
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK_BYTES):
                yield chunk
    finally:
        if os.path.exists(path):
            os.unlink(path)
