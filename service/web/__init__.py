"""The officers' pages: risk map, park pages, worklist (templates live in ``templates/``).

Registering the blueprint also sets up what the pages need app-wide (``record_once``), so ``create_app``
only registers it: Flask-Babel, the map cache under the instance folder and security headers on every HTML
response. Errors are answered app-wide by :mod:`service.errors`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, request, url_for

bp = Blueprint("web", __name__)

__all__ = ["bp"]


@bp.record_once
def _setup(state: Any) -> None:
    from ..app import runtime
    from . import i18n
    from .cache import MapCache
    from .pages import WebState

    app = state.app
    i18n.init_app(app)
    settings = runtime(app).settings
    app.extensions["parkwacht_web"] = WebState(cache=MapCache(Path(settings.instance_dir) / "mapcache"))


@bp.after_app_request
def _security_headers(response: Response) -> Response:
    from ..app import runtime
    from .security import apply_headers

    return apply_headers(response, getattr(g, "csp_script_hashes", ()), runtime().settings.basemap)


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    from .. import reads
    from ..app import runtime
    from . import i18n
    from .forms import csrf_token

    def lang_url(lang: str) -> str:
        """The same page in ``lang``, built from the route (never from the raw path: ``/%5Chost`` is no link)."""
        args = request.args.to_dict(flat=False)
        args["lang"] = [lang]
        query = "?" + urlencode(args, doseq=True)
        if request.endpoint and request.endpoint != "static" and request.url_rule is not None:
            try:
                return url_for(request.endpoint, **(request.view_args or {})) + query
            except Exception:  # a route that cannot be rebuilt: fall back to the map
                pass
        return url_for("web.risk_map") + "?" + urlencode({"lang": lang})

    from ..auth.guard import allowed, current_principal

    try:
        demo = reads.has_demo_parks(runtime().store)
    except Exception:  # an error page must render even when the store is what failed
        demo = False
    principal = current_principal()
    return {
        "principal": principal,
        "may": lambda role: principal is not None and allowed(role, principal.role),
        "lang": i18n.current_language(),
        "lang_url": lang_url,
        "csrf_token": csrf_token,
        "demo": demo,
        "class_label": i18n.class_label,
        "kind_label": i18n.kind_label,
        "signal_type_label": i18n.signal_type_label,
        "category_label": i18n.category_label,
        "assignment_label": i18n.assignment_label,
        "hotspot_label": i18n.hotspot_label,
        "text_for": i18n.text_for,
    }


from . import governance, plans_views, views  # noqa: E402,F401  (registering the routes on bp: pages, model card, audit log)
