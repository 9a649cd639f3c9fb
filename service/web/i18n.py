"""Languages of the officers' pages: Dutch by default, English on request (Flask-Babel).

The language comes from ``?lang=nl|en`` (remembered in the session), else the browser's Accept-Language,
else Dutch. Message ids are the Dutch texts, so a missing catalog still gives the Dutch page; the English
catalog lives in ``translations/en/LC_MESSAGES`` (``messages.po`` and the compiled ``messages.mo``, both
committed; ``make translations`` re-compiles after editing the ``.po``).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

from ..config import PROJECT_ROOT
from ..maps import MapLabels

__all__ = [
    "LANGUAGES",
    "DEFAULT_LANGUAGE",
    "TRANSLATIONS_DIR",
    "init_app",
    "current_language",
    "select_locale",
    "signal_type_label",
    "category_label",
    "class_label",
    "kind_label",
    "assignment_label",
    "hotspot_label",
    "partner_label",
    "referral_label",
    "text_for",
    "map_labels",
    "SIGNAL_TYPE_LABELS",
    "CATEGORY_LABELS",
    "CLASS_LABELS",
    "KIND_LABELS",
]

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
TRANSLATIONS_DIR = PROJECT_ROOT / "translations"

SIGNAL_TYPE_LABELS = {
    "permit": _l("Vergunning"),
    "ownership_change": _l("Eigendomswisseling"),
    "inspection": _l("Controle"),
    "registration": _l("Inschrijving (BRP)"),
    "complaint": _l("Melding"),
    "incident": _l("Incident"),
    "bibob": _l("Bibob-advies"),
    "energy_anomaly": _l("Afwijkend energieverbruik"),
    "other": _l("Overig"),
}
CATEGORY_LABELS = {
    "permanent_residence": _l("Permanente bewoning"),
    "overcrowding": _l("Overbewoning"),
    "fire_safety": _l("Brandveiligheid"),
    "illegal_construction": _l("Illegale bouw"),
    "drugs": _l("Drugs"),
    "environment": _l("Milieu"),
    "other": _l("Overig"),
}
CLASS_LABELS = {"laag": _l("laag"), "verhoogd": _l("verhoogd"), "hoog": _l("hoog")}
KIND_LABELS = {
    "bungalowpark": _l("Bungalowpark"),
    "camping": _l("Camping"),
    "caravanpark": _l("Caravanpark"),
    "unknown": _l("Onbekend"),
}
ASSIGNMENT_LABELS = {
    "explicit": _l("aan park gekoppeld"),
    "inside": _l("in het park"),
    "nearby": _l("nabij het park"),
    "unassigned": _l("niet toegewezen"),
}
HOTSPOT_LABELS = {
    "hot": _l("Hot spot: onderdeel van een regionaal cluster van hoge scores"),
    "cold": _l("Cold spot: onderdeel van een regionaal cluster van lage scores"),
    "none": _l("Geen significant regionaal cluster"),
}


def select_locale() -> str:
    """``?lang`` (and remember it), else the session's choice, else Accept-Language, else Dutch."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        if session.get("lang") != asked:
            session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the current page (``nl`` or ``en``)."""
    loc = get_locale() if has_request_context() else None
    lang = getattr(loc, "language", None) or DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    """Set up Flask-Babel for ``app`` (once; an app that already has Babel keeps its own set-up)."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    if "babel" not in app.extensions:
        Babel(app, locale_selector=select_locale)


def _label(table: dict[str, Any], key: str | None) -> str:
    if key is None:
        return ""
    return str(table.get(key, key))


def signal_type_label(key: str | None) -> str:
    return _label(SIGNAL_TYPE_LABELS, key)


def category_label(key: str | None) -> str:
    return _label(CATEGORY_LABELS, key)


def class_label(key: str | None) -> str:
    return _label(CLASS_LABELS, key)


def kind_label(key: str | None) -> str:
    return _label(KIND_LABELS, key or "unknown")


def assignment_label(key: str | None) -> str:
    return _label(ASSIGNMENT_LABELS, key)


PARTNER_LABELS = {
    "gemeente_handhaving": _l("Gemeente (handhaving)"),
    "politie": _l("Politie"),
    "brandweer": _l("Brandweer"),
    "belastingdienst": _l("Belastingdienst"),
    "sociaal_domein": _l("Sociaal domein"),
}
REFERRAL_LABELS = {
    "dakloosheid": _l("Dakloosheid"),
    "uitbuiting_arbeidsmigranten": _l("Uitbuiting van arbeidsmigranten"),
    "schulden": _l("Schulden"),
    "zorg": _l("Zorg"),
}


def partner_label(key: str) -> str:
    """A partner organisation's name; a configured key without a label is shown as it is."""
    return str(PARTNER_LABELS[key]) if key in PARTNER_LABELS else key.replace("_", " ")


def referral_label(key: str) -> str:
    return str(REFERRAL_LABELS[key]) if key in REFERRAL_LABELS else key


def hotspot_label(key: str | None) -> str:
    return _label(HOTSPOT_LABELS, key or "none")


def text_for(item: dict[str, Any], lang: str | None = None) -> str:
    """The ``label_nl``/``label_en`` of a model factor or theme in the page's language."""
    lang = lang or current_language()
    return str(item.get(f"label_{lang}") or item.get("label_nl") or item.get("id") or "")


def _hotspot_rule(rule: dict[str, Any] | None) -> tuple[str, str]:
    """Legend texts of hot and cold spots that say how the run tested them (so nobody over-reads a ring)."""
    if not rule or not rule.get("fdr"):
        return str(_l("Hot spot (Gi*)")), str(_l("Cold spot (Gi*)"))
    pct = f"{100 * float(rule.get('significance') or 0.05):g}"
    cold = str(_l("Cold spot (Gi*, gecorrigeerd voor meervoudig toetsen: FDR %(pct)s %%)", pct=pct))
    level = rule.get("min_level")
    if not level:
        return str(_l("Hot spot (Gi*, gecorrigeerd voor meervoudig toetsen: FDR %(pct)s %%)", pct=pct)), cold
    hot = _l("Hot spot (Gi*, FDR %(pct)s %%; alleen waar het gemiddelde van de parken rond een park minstens "
             "%(level)s is)", pct=pct, level=class_label(str(level)))
    return str(hot), cold


def map_labels(rule: dict[str, Any] | None = None) -> MapLabels:
    """Every text of the maps in the current language (the map core itself knows no languages)."""
    hot, cold = _hotspot_rule(rule)
    return MapLabels(
        parks=str(_l("Parken")),
        signals=str(_l("Signalen (laatste 12 maanden)")),
        hotspots=str(_l("Regionale hot spots (Gi*)")),
        municipalities=str(_l("Gemeentegrenzen")),
        legend_title=str(_l("Risicoklasse")),
        no_score=str(_l("nog geen score")),
        score=str(_l("Score")),
        risk_class=str(_l("klasse")),
        top_factors=str(_l("Grootste bijdragen")),
        no_factors=str(_l("Geen bijdragende factoren")),
        park_link=str(_l("Naar de parkpagina")),
        hot=hot,
        cold=cold,
        parks_in_cluster=str(_l("parken in dit cluster")),
        signal_types_title=str(_l("Signalen")),
        pdok=str(_l("PDOK achtergrondkaart (grijs)")),
        osm=str(_l("OpenStreetMap")),
        points=str(_l("punten")),
        locale=current_language(),
        classes={k: str(v) for k, v in CLASS_LABELS.items()},
        signal_types={k: str(v) for k, v in SIGNAL_TYPE_LABELS.items()},
    )
