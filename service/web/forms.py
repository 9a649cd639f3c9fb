"""Input of the officers' pages: map and worklist filters, the visit form, and the CSRF token.

Filters are query parameters (a filtered map is a link one can share). A value that is not understood is
dropped with a message the page shows; it never becomes a server error.
"""
from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import session
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..vocab import INSPECTION_CATEGORIES, PARK_KINDS, RISK_CLASSES

__all__ = [
    "MapFilter",
    "parse_map_filter",
    "VisitForm",
    "parse_visit",
    "csrf_token",
    "csrf_valid",
    "REMARK_MAX",
    "EARLIEST_VISIT",
]

REMARK_MAX = 1000
EARLIEST_VISIT = dt.date(2000, 1, 1)
_MUNICIPALITY = re.compile(r"^(?:GM)?(\d{1,4})$")


def _shown(value: str, limit: int = 40) -> str:
    """A rejected value as the message shows it (cut; the template escapes it)."""
    value = value.strip()
    return value if len(value) <= limit else value[:limit] + "…"


@dataclass(frozen=True)
class MapFilter:
    """A normalised filter: sorted, de-duplicated codes (so equal filters share one cached map)."""

    municipalities: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.municipalities or self.classes or self.kinds or self.themes)

    def key(self) -> str:
        return "|".join(",".join(v) for v in (self.municipalities, self.classes, self.kinds, self.themes))

    def query(self) -> list[tuple[str, str]]:
        """The filter as query parameters (for links: the CSV export, the language switch)."""
        return ([("municipality", v) for v in self.municipalities] + [("risk_class", v) for v in self.classes]
                + [("kind", v) for v in self.kinds] + [("theme", v) for v in self.themes])


def _values(args: MultiDict | Mapping[str, Any], name: str) -> list[str]:
    raw = args.getlist(name) if isinstance(args, MultiDict) else [args.get(name, "")]
    out: list[str] = []
    for item in raw:
        out.extend(part.strip() for part in str(item).split(",") if part.strip())
    return out


def parse_map_filter(args: MultiDict | Mapping[str, Any], *, municipalities: Sequence[str],
                     themes: Sequence[str]) -> tuple[MapFilter, list[str]]:
    """The filter asked for in ``args`` and a message per value that was not understood (and ignored).

    ``municipalities`` are the codes known to the store; a municipality may be given as ``GM0200``,
    ``gm0200`` or ``200``.
    """
    messages: list[str] = []
    known = set(municipalities)
    codes: set[str] = set()
    for v in _values(args, "municipality"):
        m = _MUNICIPALITY.match(v.upper())
        code = f"GM{int(m.group(1)):04d}" if m else None
        if code is None:
            messages.append(_("Gemeente '%(value)s' is geen gemeentecode (zoals GM0200); dit filter is genegeerd.",
                              value=_shown(v)))
        elif code not in known:
            messages.append(_("Gemeente '%(value)s' heeft geen parken in Parkwacht; dit filter is genegeerd.",
                              value=_shown(v)))
        else:
            codes.add(code)

    def pick(name: str, allowed: Sequence[str], message: str) -> tuple[str, ...]:
        chosen = set()
        for v in _values(args, name):
            if v.lower() in allowed:
                chosen.add(v.lower())
            else:
                messages.append(message % {"value": _shown(v), "allowed": ", ".join(allowed)})
        return tuple(sorted(chosen))

    classes = pick("risk_class", RISK_CLASSES,
                   _("Risicoklasse '%(value)s' bestaat niet (kies uit %(allowed)s); dit filter is genegeerd."))
    kinds = pick("kind", PARK_KINDS,
                 _("Soort park '%(value)s' bestaat niet (kies uit %(allowed)s); dit filter is genegeerd."))
    chosen_themes = pick("theme", list(themes),
                         _("Thema '%(value)s' bestaat niet (kies uit %(allowed)s); dit filter is genegeerd."))
    return MapFilter(tuple(sorted(codes)), classes, kinds, chosen_themes), messages


# -- the visit form --------------------------------------------------------------------------------------
@dataclass
class VisitForm:
    """What an officer entered for a visit, the values understood and the errors per field."""

    raw: dict[str, Any] = field(default_factory=dict)
    visit_id: str = ""
    date: dt.date | None = None
    violation: bool | None = None
    categories: list[str] = field(default_factory=list)
    remark: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @classmethod
    def blank(cls, today: dt.date) -> VisitForm:
        """A new form: today's date and a fresh visit id (so a double submit stores one visit)."""
        return cls(raw={"date": today.isoformat(), "violation": "", "categories": [], "remark": ""},
                   visit_id=uuid.uuid4().hex)


def parse_visit(form: MultiDict, today: dt.date) -> VisitForm:
    """Validate the visit form; every problem gets a message next to its field."""
    out = VisitForm(raw={"date": form.get("date", ""), "violation": form.get("violation", ""),
                         "categories": form.getlist("categories"), "remark": form.get("remark", "")})
    try:
        out.visit_id = uuid.UUID(form.get("visit_id", "")).hex
    except ValueError:
        out.visit_id = uuid.uuid4().hex
        out.errors["form"] = _("Het formulier is onvolledig verstuurd; probeer het opnieuw.")

    text = (form.get("date") or "").strip()
    if not text:
        out.errors["date"] = _("Vul de datum van het bezoek in.")
    else:
        try:
            out.date = dt.date.fromisoformat(text)
        except ValueError:
            out.errors["date"] = _("'%(value)s' is geen datum (gebruik JJJJ-MM-DD).", value=_shown(text))
        else:
            if out.date > today:
                out.errors["date"] = _("Een bezoek kan niet in de toekomst liggen.")
            elif out.date < EARLIEST_VISIT:
                out.errors["date"] = _("Een bezoek vóór %(date)s kan niet worden vastgelegd.",
                                       date=EARLIEST_VISIT.isoformat())

    v = form.get("violation", "")
    if v in ("yes", "no"):
        out.violation = v == "yes"
    else:
        out.errors["violation"] = _("Geef aan of er een overtreding is vastgesteld.")

    cats = []
    for c in form.getlist("categories"):
        if c in INSPECTION_CATEGORIES:
            if c not in cats:
                cats.append(c)
        else:
            out.errors["categories"] = _("Onbekende categorie '%(value)s'.", value=_shown(c))
    out.categories = cats
    if out.violation is True and not cats and "categories" not in out.errors:
        out.errors["categories"] = _("Kies bij een overtreding minstens één categorie.")
    if out.violation is False and cats:
        out.errors["categories"] = _("Categorieën horen alleen bij een overtreding.")

    remark = (form.get("remark") or "").strip()
    if len(remark) > REMARK_MAX:
        out.errors["remark"] = _("De opmerking is te lang (hoogstens %(n)d tekens).", n=REMARK_MAX)
    out.remark = remark
    return out


# -- CSRF ------------------------------------------------------------------------------------------------
def csrf_token() -> str:
    """The session's CSRF token (created on first use); forms send it back in ``csrf_token``."""
    token = session.get("csrf_token")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf_token"] = token
    return token


def csrf_valid(sent: str | None) -> bool:
    """Whether ``sent`` is this session's token (compared in constant time)."""
    token = session.get("csrf_token")
    return bool(sent) and isinstance(token, str) and hmac.compare_digest(token, str(sent))
