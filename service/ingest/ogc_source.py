"""Parks from an OGC API – Features server (PDOK's TOP10NL, another Parkwacht), read page by page.

The server is just another :class:`~.readers.Source`: each page of features becomes a chunk of rows (the
properties as columns, the geometry as shapely objects), so the import validates, counts, records rejected
rows and batches exactly as it does for a file. Pages are followed through their ``next`` links, as the
standard prescribes, never by computing offsets. Features are asked for in RD New when the collection offers
it (OGC API – Features Part 2), so Dutch data arrives without a round trip through WGS84; else in CRS84.
Only the standard library speaks HTTP here: an import needs no extra client package.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..config import Settings
from ..store import Store
from .batches import ImportResult, _fail_batch, _open_batch
from .errors import FileRefused
from .parks import _import_park_source
from .presets import get_preset
from .readers import Chunk, Source

__all__ = ["open_ogc_source", "import_parks_from_ogc", "FEATURE_ID_COLUMN", "PAGE_SIZE"]

#: The column holding each feature's id (the default source id: a server's ids are stable).
FEATURE_ID_COLUMN = "ogc_feature_id"
#: Features asked for per page (PDOK's maximum; servers with a lower one send fewer and a next link).
PAGE_SIZE = 1000
#: A server that keeps sending next links is cut off here rather than followed forever.
MAX_PAGES = 100_000
_RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
_JSON_TYPES = ("application/geo+json", "application/json")
_TIMEOUT_S = 60


def _get(url: str, headers: Mapping[str, str]) -> Any:
    """GET ``url`` as JSON; any failure is a :class:`FileRefused` saying what the server answered."""
    request = urllib.request.Request(url, headers={"Accept": "application/geo+json, application/json;q=0.9",
                                                   "User-Agent": "parkwacht-import", **headers})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("detail") or detail
        except (ValueError, AttributeError):
            pass
        raise FileRefused(f"{url} answered {exc.code} {exc.reason}: {detail}".strip()) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FileRefused(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
    try:
        return json.loads(body)
    except ValueError:
        raise FileRefused(f"{url} did not answer with JSON") from None


def _link(doc: Mapping[str, Any], rel: str) -> str | None:
    """The href of the first link with ``rel`` in a JSON type (any type when none says JSON)."""
    links = [lk for lk in doc.get("links") or [] if isinstance(lk, dict) and lk.get("rel") == rel and lk.get("href")]
    for lk in links:
        if str(lk.get("type") or "").split(";")[0].strip() in _JSON_TYPES:
            return str(lk["href"])
    return str(links[0]["href"]) if links and not links[0].get("type") else None


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k not in params and k != "f"]
    query += [(k, v) for k, v in params.items() if v]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, safe=",:/")))


def _cell(value: Any) -> Any:
    """A property value as a file would give it: nested objects and lists as JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _chunk(features: list[Any], first_row: int) -> Chunk:
    """One page as a chunk: properties as columns, the feature id beside them, geometries parsed."""
    records = []
    geometries = []
    for f in features:
        props = f.get("properties") if isinstance(f, dict) else None
        row = {k: _cell(v) for k, v in (props or {}).items()} if isinstance(props, dict) else {}
        fid = f.get("id") if isinstance(f, dict) else None
        row[FEATURE_ID_COLUMN] = "" if fid is None else str(fid)
        records.append(row)
        geom = f.get("geometry") if isinstance(f, dict) else None
        geometries.append(json.dumps(geom) if isinstance(geom, dict) else None)
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame({FEATURE_ID_COLUMN: []})
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    geoms = np.asarray(shapely.from_geojson(np.array(geometries, dtype=object), on_invalid="ignore"), dtype=object)
    return Chunk(first_row, frame, geoms)


def _features(page: Any, url: str) -> list[Any]:
    if not isinstance(page, dict) or not isinstance(page.get("features"), list):
        raise FileRefused(f"{url} is not a GeoJSON FeatureCollection")
    return list(page["features"])


def open_ogc_source(url: str, collection: str, *, bbox: str | None = None, page_size: int = PAGE_SIZE,
                    headers: Mapping[str, str] | None = None) -> Source:
    """The collection ``collection`` of the server at ``url`` (its landing page) as an import source.

    The collection and the first page are read at once, so a wrong URL, collection or bbox is refused
    before a batch starts; the rest is read page by page while the import runs.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FileRefused(f"{url!r} is not an http(s) URL of an OGC API – Features server")
    hdrs = dict(headers or {})
    base = url.rstrip("/")
    meta = _get(f"{base}/collections/{urllib.parse.quote(collection, safe='')}", hdrs)
    if not isinstance(meta, dict):
        raise FileRefused(f"{base} describes collection {collection!r} with something that is not a JSON object")
    rd = _RD_URI in (meta.get("crs") or [])
    items = _link(meta, "items") or f"{base}/collections/{urllib.parse.quote(collection, safe='')}/items"
    first_url = _with_query(items, limit=str(page_size), bbox=bbox or "", crs=_RD_URI if rd else "")
    first_page = _get(first_url, hdrs)
    first = _features(first_page, first_url)
    columns = sorted({k for f in first if isinstance(f, dict) for k in (f.get("properties") or {})})

    def reader(chunk_rows: int) -> Iterator[Chunk]:
        page, page_url, row, seen = first_page, first_url, 1, {first_url}
        features = first
        for _ in range(MAX_PAGES):
            if features:
                yield _chunk(features, row)
                row += len(features)
            next_url = _link(page, "next")
            if not features or not next_url:
                return
            if next_url in seen:
                raise FileRefused(f"{page_url} links back to a page already read ({next_url})")
            seen.add(next_url)
            page_url, page = next_url, _get(next_url, hdrs)
            features = _features(page, next_url)
        raise FileRefused(f"{base} kept sending next links after {MAX_PAGES} pages")

    name = f"{base}/collections/{collection}"[:500]
    matched = first_page.get("numberMatched") if isinstance(first_page, dict) else None
    return Source(name, [*columns, FEATURE_ID_COLUMN], "EPSG:28992" if rd else "EPSG:4326", True, _reader=reader,
                  crs_from="asked of the server", rows_hint=matched if isinstance(matched, int) else None)


def import_parks_from_ogc(store: Store, url: str, *, collection: str, settings: Settings, bbox: str | None = None,
                          preset: str | None = None, source: str | None = None, id_column: str | None = None,
                          mapping: dict[str, str] | None = None, headers: Mapping[str, str] | None = None,
                          page_size: int = PAGE_SIZE, snapshot: bool = False, allow_large: bool = False,
                          progress: Any = None, **file_only: Any) -> ImportResult:
    """Import the parks of an OGC API – Features collection with the validation, presets, counts and batch
    records of a file import. Without an id column in the preset or ``id_column``, the feature id is the id;
    ``snapshot`` and ``allow_large`` mean what they mean for a file."""
    given = {k: v for k, v in file_only.items() if v}
    if given:
        raise FileRefused(f"{', '.join('--' + k for k in given)} apply to files, not to an OGC API server")
    chosen = get_preset(preset, "parks")
    host = urllib.parse.urlsplit(url).netloc or "ogc"
    source = source or f"{host}/{collection}"[:100]
    options = {"from_ogc": url, "collection": collection, "bbox": bbox, "preset": preset, "id_column": id_column,
               "mapping": mapping}
    try:
        src = open_ogc_source(url, collection, bbox=bbox, page_size=page_size, headers=headers)
    except FileRefused as exc:  # refused as a whole: still recorded as a failed batch, as for a file
        _fail_batch(store, _open_batch(store, "parks", source, f"{url} ({collection})"[:500], preset, options),
                    str(exc))
        raise
    id_target = (mapping or {}).get("source_id") or chosen.columns.get("source_id") or "source_id"
    if id_column is None and id_target not in src.columns:
        id_column = options["id_column"] = FEATURE_ID_COLUMN  # the server's ids are stable; content hashes are not
    extra: dict[str, Any] = {k: v for k, v in (("snapshot", snapshot), ("allow_large", allow_large),
                                               ("progress", progress)) if v}
    return _import_park_source(store, src, source=source, preset_name=preset, id_column=id_column,
                               mapping=mapping, settings=settings, options=options, **extra)
