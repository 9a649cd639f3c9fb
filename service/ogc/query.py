"""Query parameters of OGC API – Features: parsed once, checked as the standard asks, turned into a filter.

Part 1 has ``bbox``, ``limit``, ``datetime`` and one equality parameter per queryable property; Part 2 adds
``crs`` and ``bbox-crs``. Anything else is a 400 that names it (Part 1, /req/core/query-param-unknown).
A ``limit`` above the maximum is not an error: the maximum is used (/req/core/fc-limit-response-1).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field, field_validator
from werkzeug.datastructures import MultiDict

from ..api.problems import BadRequest
from ..api.spec import OneOf, Query, parse_query
from ..reads.catalogue import CRS84, RD_CRS, ParkFilter

__all__ = ["ItemsQuery", "FormatQuery", "ItemQuery", "parse_items", "parse_crs", "CRS_URIS", "DEFAULT_LIMIT",
           "MAX_LIMIT", "Format", "content_crs"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
#: The CRSs features can be asked in (and a bbox given in), as URIs; CRS84 first (the default).
CRS_URIS = (CRS84, RD_CRS)
#: Short spellings clients use for the same CRSs.
_CRS_ALIASES = {
    "crs84": CRS84, "ogc:crs84": CRS84, "[ogc:crs84]": CRS84, "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "epsg:28992": RD_CRS, "[epsg:28992]": RD_CRS, "urn:ogc:def:crs:epsg::28992": RD_CRS,
    "https://www.opengis.net/def/crs/epsg/0/28992": RD_CRS, "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
}

Format = Annotated[str, OneOf(("json", "html"))]


def parse_crs(value: str) -> str:
    """The canonical URI of a CRS this service offers, or a ``ValueError`` listing the offered ones."""
    text = value.strip()
    if text in CRS_URIS:
        return text
    canonical = _CRS_ALIASES.get(text.lower()) or next((u for u in CRS_URIS if u.lower() == text.lower()), None)
    if canonical is None:
        raise ValueError(f"CRS {value!r} is not offered; offered: {', '.join(CRS_URIS)}")
    return canonical


def _bbox(text: str) -> tuple[float, float, float, float]:
    """Four numbers (or six: a 3D box, whose heights are ignored) as (minx, miny, maxx, maxy)."""
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise ValueError("give four numbers (minx,miny,maxx,maxy) or six (with heights)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError("bbox holds something that is not a number") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError("bbox values must be finite")
    minx, miny, maxx, maxy = (values[0], values[1], values[3], values[4]) if len(values) == 6 else values
    if minx > maxx or miny > maxy:
        raise ValueError("bbox minimum is greater than its maximum")
    return minx, miny, maxx, maxy


def _date(text: str) -> dt.date | None:
    """An RFC 3339 date or date-time (its date counts: scores are as of a day); '..' or '' is open."""
    text = text.strip()
    if text in ("", ".."):
        return None
    try:
        return dt.datetime.fromisoformat(text).date() if "T" in text.upper() else dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 date or date-time") from None


def _interval(text: str) -> tuple[dt.date | None, dt.date | None]:
    """``instant``, ``start/end``, ``../end`` or ``start/..`` as (from, to)."""
    if "/" not in text:
        day = _date(text)
        if day is None:
            raise ValueError("give a date, a date-time or an interval start/end")
        return day, day
    start, _, end = text.partition("/")
    lo, hi = _date(start), _date(end)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError("the interval starts after it ends")
    return lo, hi


_CRS_SCHEMA: dict[str, Any] = {"type": "string", "format": "uri", "enum": list(CRS_URIS)}


class FormatQuery(Query):
    """Pages that only choose a representation."""

    f: Format | None = Field(None, description="json or html; else chosen by Accept (JSON without one)")


class ItemQuery(FormatQuery):
    """One feature: its representation and CRS."""

    crs: str | None = Field(None, description="CRS of the geometry (default CRS84, lon/lat)",
                            json_schema_extra=_CRS_SCHEMA)

    @field_validator("crs")
    @classmethod
    def _crs(cls, value: str | None) -> str | None:
        return None if value is None else parse_crs(value)


class ItemsQuery(ItemQuery):
    """Parameters of ``/collections/{collectionId}/items`` besides the property filters."""

    bbox: str | None = Field(None, description="minx,miny,maxx,maxy in bbox-crs (default CRS84: lon/lat); six "
                                               "numbers for a 3D box", examples=["5.6,52.1,6.0,52.4"])
    bbox_crs: str | None = Field(None, alias="bbox-crs", description="CRS of bbox (default CRS84)",
                                 json_schema_extra=_CRS_SCHEMA)
    datetime: str | None = Field(None, description="the score's as-of date: an instant, start/end, ../end or "
                                                   "start/.. (RFC 3339)", examples=["2024-01-01/.."])
    limit: int = Field(DEFAULT_LIMIT, ge=1, description=f"features per page; above {MAX_LIMIT:,} the maximum is used",
                       json_schema_extra={"maximum": MAX_LIMIT})
    offset: int = Field(0, ge=0, le=10_000_000, description="features to skip (the next link sets it)")

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: str | None) -> str | None:
        if value is not None:
            _bbox(value)
        return value

    @field_validator("bbox_crs")
    @classmethod
    def _bbox_crs(cls, value: str | None) -> str | None:
        return None if value is None else parse_crs(value)

    @field_validator("datetime")
    @classmethod
    def _datetime(cls, value: str | None) -> str | None:
        if value is not None:
            _interval(value)
        return value

    @property
    def page_size(self) -> int:
        return min(self.limit, MAX_LIMIT)

    def to_filter(self, equals: Iterable[tuple[str, str]] = ()) -> ParkFilter:
        """The catalogue filter this query asks for (CRS84 bboxes are checked to be degrees here)."""
        bbox_crs = self.bbox_crs or CRS84
        box = _bbox(self.bbox) if self.bbox else None
        if box is not None and bbox_crs == CRS84 and not (
                -180 <= box[0] <= 180 and -180 <= box[2] <= 180 and -90 <= box[1] <= 90 and -90 <= box[3] <= 90):
            raise BadRequest("bbox is not in longitude/latitude degrees; give bbox-crs for another CRS",
                             invalid_params=[{"name": "bbox", "reason": "not in CRS84 degrees"}])
        lo, hi = _interval(self.datetime) if self.datetime else (None, None)
        return ParkFilter(bbox=box, bbox_crs=bbox_crs, as_of_from=lo, as_of_to=hi, equals=tuple(equals))


def parse_items(args: MultiDict[str, str], properties: Iterable[str]) -> tuple[ItemsQuery, list[tuple[str, str]]]:
    """The standard parameters and the property filters (``name=value``) of an items request."""
    queryable = set(properties)
    standard = {f.alias or n for n, f in ItemsQuery.model_fields.items()}
    unknown = sorted(set(args) - standard - queryable)
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(standard))} "
                         f"and the properties {', '.join(sorted(queryable))}",
                         invalid_params=[{"name": u, "reason": "unknown parameter"} for u in unknown])
    equals: list[tuple[str, str]] = []
    rest: MultiDict[str, str] = MultiDict()
    for key, value in args.items(multi=True):
        if key in queryable and key not in standard:
            if len(args.getlist(key)) > 1:
                raise BadRequest(f"property filter {key!r} given more than once; give it once",
                                 invalid_params=[{"name": key, "reason": "given more than once"}])
            equals.append((key, value))
        else:
            rest.add(key, value)
    return parse_query(ItemsQuery, rest), equals


def content_crs(crs: str | None) -> str:
    """The ``Content-Crs`` header value of an answer in ``crs`` (Part 2: the URI in angle brackets)."""
    return f"<{crs or CRS84}>"

