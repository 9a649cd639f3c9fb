"""Readers: open a tabular or geodata file and hand it out in chunks of rows.

CSV/TSV go through pandas (every value kept as text, so validation sees exactly what the file says);
GeoJSON, GeoPackage, Shapefile and zipped Shapefile go through pyogrio (GDAL). Reading in chunks bounds
memory for files larger than memory.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyproj import CRS

from .errors import FileRefused

__all__ = ["Chunk", "Source", "open_source", "frame_source", "TABULAR_SUFFIXES", "MALFORMED_MARK"]

#: First-column marker of a placeholder row standing in for a malformed CSV line.
MALFORMED_MARK = "\x00malformed:"

#: Suffixes read as delimited text; everything else is opened with GDAL.
TABULAR_SUFFIXES = {".csv", ".tsv", ".txt"}


@dataclass
class Chunk:
    """A block of rows: ``first_row`` is the 1-based number of its first data row in the file."""

    first_row: int
    frame: pd.DataFrame
    geometry: np.ndarray | None = None  # shapely geometries in the source CRS, or None (tabular)


@dataclass
class Source:
    """An opened input: its columns, CRS and a way to iterate over chunks."""

    name: str
    columns: list[str]
    crs: str | None
    has_geometry: bool
    _reader: Callable[[int], Iterator[Chunk]] | None = field(default=None, repr=False)

    def chunks(self, chunk_rows: int) -> Iterator[Chunk]:
        """The rows in chunks of at most ``chunk_rows``, in file order."""
        if self._reader is None:
            raise TypeError(f"source {self.name!r} was made without a reader")
        return self._reader(chunk_rows)


def _normalise_crs(value: str | None) -> str | None:
    if not value:
        return None
    try:
        crs = CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError, a plain Exception subclass
        raise FileRefused(f"{value!r} is not a coordinate reference system pyproj knows ({exc})") from exc
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _sniff_separator(path: Path, encoding: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        head = fh.readline()
    counts = {sep: head.count(sep) for sep in ("\t", ";", ",")}
    sep = max(counts, key=lambda s: counts[s])
    return sep if counts[sep] else ","


def _open_tabular(path: Path, crs: str | None, encoding: str) -> Source:
    sep = _sniff_separator(path, encoding)
    try:
        header = pd.read_csv(path, sep=sep, nrows=0, dtype=str, encoding=encoding,
                             encoding_errors="surrogateescape")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeError) as exc:
        raise FileRefused(f"{path.name} is not a readable CSV file ({exc})") from exc
    columns = [str(c).strip() for c in header.columns]
    if not columns or all(c.startswith("Unnamed") for c in columns):
        raise FileRefused(f"{path.name} has no header row")

    def frames(chunk_rows: int, tolerant: bool) -> Iterator[pd.DataFrame]:
        options: dict = dict(sep=sep, dtype=object, keep_default_na=False, na_filter=False, chunksize=chunk_rows,
                             encoding=encoding, encoding_errors="surrogateescape", quoting=csv.QUOTE_MINIMAL)
        if tolerant:
            # A malformed line becomes a marked placeholder row, so it is rejected with its own row number.
            def mark(fields: list[str]) -> list[str]:
                return [MALFORMED_MARK + json.dumps(fields)] + [""] * (len(columns) - 1)

            options.update(engine="python", on_bad_lines=mark)
        return pd.read_csv(path, **options)

    def reader(chunk_rows: int) -> Iterator[Chunk]:
        first = 1
        try:
            for frame in frames(chunk_rows, tolerant=False):
                frame.columns = columns
                frame.index = pd.RangeIndex(first, first + len(frame))
                yield Chunk(first, frame)
                first += len(frame)
            return
        except pd.errors.ParserError:
            pass  # a malformed line: read the rest again with the tolerant (slower) parser
        seen = 0
        for frame in frames(chunk_rows, tolerant=True):
            frame.columns = columns
            if seen + len(frame) < first:  # already handed out by the fast parser
                seen += len(frame)
                continue
            frame = frame.iloc[first - 1 - seen:]
            seen += first - 1 - seen + len(frame)
            frame.index = pd.RangeIndex(first, first + len(frame))
            yield Chunk(first, frame)
            first += len(frame)

    return Source(path.name, columns, _normalise_crs(crs), False, _reader=reader)


def _open_geo(path: Path, layer: str | None, crs: str | None, encoding: str | None) -> Source:
    try:
        layers = pyogrio.list_layers(path)
        if layer is None:
            if len(layers) == 0:
                raise FileRefused(f"{path.name} holds no layers")
            layer = str(layers[0][0])
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except FileRefused:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError / DataLayerError for anything GDAL cannot open
        raise FileRefused(f"{path.name} is not a readable geodata file ({exc})") from exc
    declared = _normalise_crs(info.get("crs"))
    given = _normalise_crs(crs)
    if declared and given and CRS.from_user_input(declared) != CRS.from_user_input(given):
        raise FileRefused(f"{path.name} declares {declared} but --crs says {given}; leave out --crs")
    if info.get("geometry_type") is None:
        raise FileRefused(f"{path.name} (layer {layer!r}) has no geometry column")
    use_crs = declared or given
    columns = [str(c) for c in info["fields"]]

    def reader(chunk_rows: int) -> Iterator[Chunk]:
        # A true stream (GDAL → Arrow batches): large files are never held in memory whole.
        first = 1
        try:
            with pyogrio.open_arrow(path, layer=layer, encoding=encoding, batch_size=chunk_rows) as (meta, stream):
                geom_col = meta.get("geometry_name") or "wkb_geometry"
                for batch in pa.RecordBatchReader.from_stream(stream):
                    table = batch.to_pandas()
                    wkb = table.pop(geom_col) if geom_col in table.columns else None
                    geoms = np.asarray(shapely.from_wkb(wkb.to_numpy(), on_invalid="ignore"), dtype=object) \
                        if wkb is not None else np.full(len(table), None, dtype=object)
                    table.index = pd.RangeIndex(first, first + len(table))
                    yield Chunk(first, table, geoms)
                    first += len(table)
        except FileRefused:
            raise
        except Exception as exc:  # GDAL errors surface as several pyogrio/Arrow exception types
            raise FileRefused(f"{path.name}: reading rows from {first} failed ({exc})") from exc

    return Source(path.name, columns, use_crs, True, _reader=reader)


def open_source(path: str | Path, *, layer: str | None = None, crs: str | None = None,
                encoding: str | None = None) -> Source:
    """Open ``path`` for import; raises :class:`FileRefused` with a reason when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise FileRefused(f"{path} does not exist")
    if path.is_dir():
        raise FileRefused(f"{path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise FileRefused(f"{path.name} is empty")
    suffix = path.suffix.lower()
    if suffix in TABULAR_SUFFIXES:
        return _open_tabular(path, crs, encoding or "utf-8")
    return _open_geo(path, layer, crs, encoding)


def frame_source(name: str, frame: pd.DataFrame, *, crs: str | None = None,
                 geometry: np.ndarray | None = None) -> Source:
    """Wrap an in-memory frame (API payloads, the demo generator) as a :class:`Source`."""
    frame = frame.reset_index(drop=True)

    def reader(chunk_rows: int) -> Iterator[Chunk]:
        for start in range(0, len(frame), chunk_rows):
            part = frame.iloc[start:start + chunk_rows].copy()
            part.index = pd.RangeIndex(start + 1, start + 1 + len(part))
            geoms = None if geometry is None else np.asarray(geometry[start:start + chunk_rows], dtype=object)
            yield Chunk(start + 1, part, geoms)

    return Source(name, [str(c) for c in frame.columns], _normalise_crs(crs), geometry is not None,
                  _reader=reader)
