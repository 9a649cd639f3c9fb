"""Parks that changed class since a run or a date: as JSON, and as an Atom feed for readers and mail digests."""
from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, json, request, url_for
from pydantic import Field

from ..access import requires
from ..app import runtime
from ..reads.catalogue import catalogue
from ..reads.changes import Reference, changes_since, resolve_reference
from . import bp, schemas
from .http import etag_for, not_modified, with_etag
from .problems import BadRequest
from .spec import JSON, Query, documented, parse_query
from .spec import Response as Doc

__all__ = ["ChangesQuery"]

ATOM = "application/atom+xml"
_NS = "http://www.w3.org/2005/Atom"


class ChangesQuery(Query):
    since: int | dt.date = Field(..., description="a score run id, or a date (YYYY-MM-DD): the run that was "
                                                  "published at the end of that day")
    limit: int = Field(500, ge=1, le=10_000)


def _changes(q: ChangesQuery) -> tuple[Reference, int | None, list[dict[str, Any]]]:
    store = runtime().store
    try:
        ref = resolve_reference(store, str(q.since))
    except ValueError as exc:
        raise BadRequest(str(exc), invalid_params=[{"name": "since", "reason": str(exc)}]) from None
    run = catalogue(store).run
    return ref, (int(run["id"]) if run else None), changes_since(store, ref)[:q.limit]


@bp.get("/changes")
@requires("analyst")
@documented(
    "Parks that changed class", tags=("changes",), params=ChangesQuery, errors=(400, 404),
    description="Parks whose risk class differs from the reference run, newest first, with old and new score and "
                "the factors whose points moved most: the early-warning list.",
    responses={200: Doc("changes", schemas.ChangeList, (JSON,), ("ETag",)), 304: Doc("not modified", None, ())},
)
def list_changes() -> Response:
    q = parse_query(ChangesQuery, request.args)
    etag = etag_for(catalogue(runtime().store).version, q.since, q.limit, "json")
    if (unchanged := not_modified(etag)) is not None:
        return unchanged
    ref, run_id, items = _changes(q)
    body = {"since": {"asked": ref.asked, "run_id": ref.run_id, "as_of": ref.as_of}, "run_id": run_id,
            "changes": items}
    return with_etag(Response(json.dumps(body), mimetype=JSON), etag)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{_NS}}}{tag}", attrs)
    el.text = text
    return el


def atom_feed(ref: Reference, items: list[dict[str, Any]], *, self_url: str, park_url: str) -> bytes:
    """The changes as an Atom 1.0 document (RFC 4287): one entry per park, newest first."""
    ET.register_namespace("", _NS)
    feed = ET.Element(f"{{{_NS}}}feed")
    _text(feed, "title", f"Parkwacht: parken met een andere risicoklasse sinds {ref.asked}")
    _text(feed, "id", self_url)
    updated = max((str(c["scored_at"]) for c in items if c["scored_at"]), default=None)
    _text(feed, "updated", _rfc3339(updated))
    ET.SubElement(feed, f"{{{_NS}}}link", {"rel": "self", "href": self_url, "type": ATOM})
    author = ET.SubElement(feed, f"{{{_NS}}}author")
    _text(author, "name", "Parkwacht")
    for c in items:
        entry = ET.SubElement(feed, f"{{{_NS}}}entry")
        link = f"{park_url}{c['park_id']}"
        old = "nieuw" if c["old_class"] is None else f"{c['old_class']} ({c['old_score']:.2f})"
        _text(entry, "title", f"{c['name'] or 'Park ' + str(c['park_id'])}: {old} → {c['new_class']} "
                              f"({c['new_score']:.2f})")
        _text(entry, "id", f"{link}#{c['scored_at']}")
        _text(entry, "updated", _rfc3339(c["scored_at"]))
        ET.SubElement(entry, f"{{{_NS}}}link", {"rel": "alternate", "href": link})
        moved = "; ".join(f"{f['label_nl']} {f['delta']:+.2f}" for f in c["factors"]) or "geen factor bewoog"
        _text(entry, "summary", f"{c['municipality_name'] or ''}: {moved}".strip(": "))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _rfc3339(value: str | None) -> str:
    if not value:
        return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    stamp = dt.datetime.fromisoformat(str(value))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.replace(microsecond=0).isoformat()


@bp.get("/changes.atom")
@requires("analyst")
@documented(
    "Parks that changed class, as an Atom feed", tags=("changes",), params=ChangesQuery, errors=(400, 404),
    responses={200: Doc("an Atom 1.0 feed", {"type": "string"}, (ATOM,), ("ETag",)),
               304: Doc("not modified", None, ())},
)
def changes_feed() -> Response:
    q = parse_query(ChangesQuery, request.args)
    etag = etag_for(catalogue(runtime().store).version, q.since, q.limit, "atom")
    if (unchanged := not_modified(etag)) is not None:
        return unchanged
    ref, _run_id, items = _changes(q)
    body = atom_feed(ref, items, self_url=request.url,
                     park_url=url_for("web.risk_map", _external=True) + "parks/")
    return with_etag(Response(body, mimetype=ATOM), etag)
