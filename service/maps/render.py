"""A built map rendered into the parts a page embeds, with the CSP hashes that allow its one inline script."""
from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import folium
from branca.element import Figure

__all__ = ["MapParts", "render_parts", "script_hashes"]


@dataclass(frozen=True)
class MapParts:
    """A rendered map split for embedding in a page: ``head`` (links), ``body`` (the map div), ``script``.

    ``script`` is the JavaScript of the one inline ``<script>`` block; ``script_hashes`` are the CSP source
    expressions that allow exactly it (no nonce needed, so the parts can be cached and served as they are).
    """

    head: str
    body: str
    script: str
    script_hashes: tuple[str, ...]
    #: Facts about what was drawn (counts) for the page around the map.
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Bytes sent for the map (UTF-8)."""
        return len(self.head.encode()) + len(self.body.encode()) + len(self.script.encode())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the map cache stores it)."""
        return {"head": self.head, "body": self.body, "script": self.script, "script_hashes": list(self.script_hashes),
                "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MapParts:
        """The inverse of :meth:`as_dict`."""
        return cls(d["head"], d["body"], d["script"], tuple(d["script_hashes"]), dict(d.get("meta") or {}))


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def script_hashes(*scripts: str) -> tuple[str, ...]:
    """CSP ``'sha256-...'`` expressions for the given inline script texts."""
    return tuple(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)


def render_parts(m: folium.Map, meta: Mapping[str, Any] | None = None) -> MapParts:
    """Render ``m`` into head, body and script parts (Folium's ``Figure`` without its document shell).

    An element that puts an inline script into the head or body gets it allowed too (its hash follows the
    main script's).
    """
    fig = cast(Figure, m.get_root())  # a folium.Map always sits in a Figure
    for child in list(fig._children.values()):
        child.render()
    head = fig.header.render()
    body = fig.html.render()
    script = "\n" + fig.script.render() + "\n"
    hashes = script_hashes(script, *_INLINE_SCRIPT.findall(head + body))
    return MapParts(head=head, body=body, script=script, script_hashes=hashes, meta=dict(meta or {}))
