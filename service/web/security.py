"""Security headers of the officers' pages: a strict Content-Security-Policy and its companions.

Scripts: only the app's own files (``'self'``) and the inline map script of the page, allowed by its SHA-256
hash. A hash (not a nonce) lets a cached map page be served as it is; it allows exactly that script and
nothing an attacker could inject. No ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts.

Styles: only the app's own stylesheets (``style-src 'self'``), no ``'unsafe-inline'`` for styles either. The
pages carry no ``<style>`` blocks and no ``style=""`` attributes (Folium's inline header styles are left out by
:class:`service.maps.ParkMap`); Leaflet and Leaflet.markercluster position their elements through the CSSOM
(``element.style.left = ...``), which a CSP does not restrict. The browser tests fail on any CSP violation,
which Chromium reports as a console error.
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import Response

from ..maps import tile_hosts

__all__ = ["content_security_policy", "apply_headers", "apply_common_headers", "DATA_CSP"]


def content_security_policy(script_hashes: Iterable[str] = (), basemap: str = "none") -> str:
    """The CSP header value for a page with these inline-script hashes and basemap."""
    scripts = " ".join(["'self'", *script_hashes])
    images = " ".join(["'self'", "data:", *tile_hosts(basemap)])
    return "; ".join([
        "default-src 'none'",
        f"script-src {scripts}",
        "style-src 'self'",
        f"img-src {images}",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ])


#: The policy of every response that is not a page (JSON, CSV, static files): nothing may run or be framed.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def apply_common_headers(response: Response, development: bool = True) -> Response:
    """Headers on every response, pages or not: no sniffing, no framing, no referrer, no Server banner.

    Pages get their own CSP (:func:`apply_headers`); everything else gets :data:`DATA_CSP`. Data is not kept
    in shared caches: pages and CSV are ``no-store``, JSON ``private, no-cache`` (an ETag still saves the
    body), static assets keep their own caching. HSTS outside development.
    """
    h = response.headers
    h.pop("Server", None)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if response.mimetype != "text/html":
        h.setdefault("Content-Security-Policy", DATA_CSP)
    if "Cache-Control" not in h:
        if response.mimetype in ("text/html", "text/csv"):
            h["Cache-Control"] = "no-store"
        elif "json" in (response.mimetype or ""):
            h["Cache-Control"] = "private, no-cache"
    if not development:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def apply_headers(response: Response, script_hashes: Iterable[str] = (), basemap: str = "none") -> Response:
    """Set the CSP and the usual companions on an HTML response (other responses are left alone)."""
    if response.mimetype != "text/html":
        return response
    response.headers["Content-Security-Policy"] = content_security_policy(script_hashes, basemap)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
