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
import shapely
from pyproj import CRS

from .errors import FileRefused
from .options import check_encoding, check_file_encoding

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
    """An opened input: its columns, CRS and a way to iterate over chunks.

    ``crs_from`` says where the CRS came from (for messages); ``rows_hint`` is the number of rows when the
    format knows it, else an estimate from the file size once a chunk has been read (progress and ETA).
    """

    name: str
    columns: list[str]
    crs: str | None
    has_geometry: bool
    _reader: Callable[[int], Iterator[Chunk]] | None = field(default=None, repr=False)
    crs_from: str = "declared"
    rows_hint: int | None = None

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

    size = path.stat().st_size

    def reader(chunk_rows: int) -> Iterator[Chunk]:
        first = 1
        try:
            for frame in frames(chunk_rows, tolerant=False):
                frame.columns = columns
                frame.index = pd.RangeIndex(first, first + len(frame))
                if first == 1 and len(frame):
                    source.rows_hint = _estimate_rows(frame, size)
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

    source = Source(path.name, columns, _normalise_crs(crs), False, _reader=reader, crs_from="--crs")
    return source


def _estimate_rows(frame: pd.DataFrame, size: int) -> int:
    """Rows a text file of ``size`` bytes holds, judged by the length of the rows of its first chunk."""
    sample = frame.head(2_000)
    chars = sum(len(v) for c in sample.columns for v in sample[c].tolist() if isinstance(v, str))
    per_row = max(1.0, (chars + len(sample) * len(sample.columns)) / max(len(sample), 1))
    return max(len(frame), int(size / per_row))


def _open_geo(path: Path, layer: str | None, crs: str | None, encoding: str | None) -> Source:
    # GDAL is imported on first use: it costs a web worker ~100 MiB, and only an import opens a geodata file.
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
        names = [str(row[0]) for row in layers]
        if layer is None:
            if len(layers) == 0:
                raise FileRefused(f"{path.name} holds no layers")
            layer = names[0]
        elif layer not in names:
            raise FileRefused(f"{path.name} has no layer {layer!r}; its layers: {', '.join(names) or 'none'}")
        info = pyogrio.read_info(path, layer=layer, encoding=encoding)
    except FileRefused:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError / DataLayerError for anything GDAL cannot open
        raise FileRefused(f"{path.name} is not a readable geodata file ({exc})") from exc
    declared = _normalise_crs(info.get("crs"))
    given = _normalise_crs(crs)
    geojson = info.get("driver") == "GeoJSON" and declared == "EPSG:4326"
    if geojson and given:
        declared = None  # GeoJSON is WGS84 by definition, not by declaration: --crs says what it really is
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

    how = "--crs" if given and not declared else ("GeoJSON" if geojson else "declared")
    features = info.get("features")
    return Source(path.name, columns, use_crs, True, _reader=reader, crs_from=how,
                  rows_hint=int(features) if features is not None and int(features) >= 0 else None)


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
    encoding = check_encoding(encoding)
    suffix = path.suffix.lower()
    if suffix in TABULAR_SUFFIXES:
        check_file_encoding(path, encoding or "utf-8")
        return _open_tabular(path, crs, encoding or "utf-8")
    if encoding and encoding.startswith(("utf-16", "utf-32")):
        # GeoJSON and GeoPackage are UTF-8, a Shapefile's table 8-bit or UTF-8: read as UTF-16 every name
        # and value would silently turn into other characters.
        raise FileRefused(f"{path.name} cannot be {encoding}: geodata files hold 8-bit or UTF-8 text; leave out "
                          "--encoding, or give an 8-bit one such as cp1252 or latin-1")
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
                  _reader=reader, crs_from="given", rows_hint=len(frame))
