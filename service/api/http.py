"""HTTP details the API views share: format negotiation, ETags per data version, paging links."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, request, url_for

from .problems import NotAcceptable

__all__ = ["negotiate", "etag_for", "not_modified", "page_links", "with_etag"]


def negotiate(f: str | None, offered: Mapping[str, str], default: str) -> str:
    """The format to answer in: ``f=`` wins, else the best match of ``Accept``; 406 when nothing fits.

    ``offered`` maps format names to media types; ``application/json`` is taken as the default format.
    """
    if f:
        if f not in offered:
            raise NotAcceptable(f"f={f!r} is not offered here; choose one of {', '.join(offered)}")
        return f
    accept = request.accept_mimetypes
    if not accept:  # no Accept header: the default format
        return default
    by_type = {offered[default]: default, "application/json": default,
               **{media: name for name, media in offered.items() if media != offered[default]}}
    best = accept.best_match(list(by_type))  # the first is preferred on equal quality, so */* gets the default
    if best is None:
        raise NotAcceptable(f"none of the accepted types is offered; offered: {', '.join(by_type)} "
                            "(or choose with f=)")
    return by_type[best]


def etag_for(*parts: Any) -> str:
    """A strong validator over what determines an answer (data version, query, representation)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


def not_modified(etag: str) -> Response | None:
    """A 304 when the client's ``If-None-Match`` holds ``etag`` (an unchanged answer costs nothing)."""
    if etag in request.if_none_match or "*" in request.if_none_match:
        resp = Response(status=304)
        resp.set_etag(etag)
        return resp
    return None


def with_etag(resp: Response, etag: str, max_age: int = 0) -> Response:
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"private, max-age={max_age}, must-revalidate"
    resp.vary.add("Accept")
    return resp


def page_links(endpoint: str, *, limit: int, offset: int, matched: int, returned: int,
               media_type: str, alternates: Iterable[tuple[str, str]] = (), **view_args: Any) -> list[dict[str, Any]]:
    """``self``, ``next``/``prev`` and ``alternate`` links that keep the request's other parameters."""
    args = request.args.to_dict(flat=False)

    def link(rel: str, media: str, **changes: Any) -> dict[str, Any]:
        query: dict[str, Any] = {**args, **{k: [str(v)] for k, v in changes.items()}}
        return {"href": url_for(endpoint, _external=True, **view_args, **query), "rel": rel, "type": media}

    links = [link("self", media_type)]
    links += [link("alternate", media, f=name) for name, media in alternates]
    if offset + returned < matched:
        links.append(link("next", media_type, offset=offset + limit, limit=limit))
    if offset > 0:
        links.append(link("prev", media_type, offset=max(offset - limit, 0), limit=limit))
    return links
