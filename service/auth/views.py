"""Login and logout of the web pages (the API uses bearer tokens and has no login)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from ..access import PUBLIC, SIGNED_IN, requires
from . import sessions
from .guard import GRANTS, current_principal
from .trail import audit_event
from .users import Principal, authenticate, end_sessions

bp = Blueprint("auth", __name__)

__all__ = ["bp", "safe_next"]

_ENDED = {
    "idle": _l("Je sessie is verlopen omdat je een tijd niets hebt gedaan; log opnieuw in."),
    "expired": _l("Je sessie is verlopen; log opnieuw in."),
    "ended": _l("Je sessie is beëindigd; log opnieuw in."),
}


def safe_next(target: str | None) -> str | None:
    """A redirect target after login, only when it stays on this site (a path, never ``//host`` or ``/\\host``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(c in target for c in "\\\r\n\t") or "://" in target.split("?", 1)[0]:
        return None
    return target


def _landing(role: str) -> str:
    """Where a user goes after the login: the risk map for officers and admins, the model card for analysts."""
    return url_for("web.risk_map") if "officer" in GRANTS.get(role, frozenset()) else url_for("web.model_card")


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login() -> Response | tuple[str, int]:
    """The login form; a wrong name or password gets one message for both (no user enumeration)."""
    from ..app import runtime
    from ..web.forms import csrf_valid

    message = str(_ENDED[request.args["ended"]]) if request.args.get("ended") in _ENDED else None
    name = ""
    if request.method == "POST":
        if not csrf_valid(request.form.get("csrf_token")):
            abort(400, description=_("Het formulier is verlopen of niet van deze site; laad de pagina opnieuw."))
        name = (request.form.get("name") or "").strip().lower()[:100]
        user = authenticate(runtime().store, name, request.form.get("password") or "")
        if user is None:
            audit_event("login.failure", f"user:{name}" if name else None)
            return render_template("login.html", name=name, error=_("Naam of wachtwoord klopt niet."),
                                   message=None, next=request.form.get("next", "")), 401
        sessions.start_session(user)
        g.principal = Principal(user_id=user.id, name=user.name, role=user.role, via="session")
        audit_event("login.success", f"user:{user.name}", role=user.role, user_id=user.id)
        return redirect(safe_next(request.form.get("next")) or _landing(user.role), code=303)
    return render_template("login.html", name=name, error=None, message=message,
                           next=safe_next(request.args.get("next")) or ""), 200


@bp.post("/logout")
@requires(SIGNED_IN)
def logout() -> Response:
    """End this session and every other session of the user."""
    from ..app import runtime
    from ..web.forms import csrf_valid

    if not csrf_valid(request.form.get("csrf_token")):
        abort(400, description=_("Het formulier is verlopen of niet van deze site; laad de pagina opnieuw."))
    p = current_principal()
    if p is not None:
        audit_event("logout", f"user:{p.name}")
        if p.via == "session":
            end_sessions(runtime().store, p.user_id)
    sessions.end_session()
    flash(_("Je bent uitgelogd."), "info")
    return redirect(url_for("auth.login"), code=303)
