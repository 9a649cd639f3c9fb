"""What each officers' page shows, assembled from the queries, the map core and the charts.

Views call one function here and render its result; nothing in this module renders HTML around it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import shapely
from flask import current_app, request
from flask_babel import gettext as _

from .. import maps, plans, reads, scoring
from ..privacy import PERSON_COUNT_SIGNAL_TYPES, suppress_count
from ..runtime import Runtime
from ..tabular import csv_lines, safe_cell
from ..vocab import VISIT_SOURCE
from .cache import MapCache, cache_key
from .charts import Bar, bar_chart, line_chart
from .forms import MapFilter, parse_map_filter
from .i18n import (
    category_label,
    class_label,
    current_language,
    kind_label,
    map_labels,
    signal_type_label,
    text_for,
)

__all__ = [
    "RiskMapPage",
    "risk_map_page",
    "park_page",
    "worklist_page",
    "worklist_csv",
    "web_state",
    "THEME_COLOURS",
]

#: One colour per theme of the Monitor Vitale Vakantieparken (the bar chart of the park page).
THEME_COLOURS = {"ownership": "#6a51a3", "economic": "#2171b5", "social": "#238b45", "crime": "#cb181d",
                 "fire_safety": "#d94801"}
SIGNAL_WINDOW_DAYS = 365


@dataclass
class WebState:
    """Per-app state of the officers' pages (kept in ``app.extensions``)."""

    cache: MapCache


def web_state() -> WebState:
    return cast(WebState, current_app.extensions["parkwacht_web"])


def _static_url() -> str:
    return request.script_root + "/static"


def _factor_labels(rt: Runtime, run_id: int | None, lang: str) -> dict[str, str]:
    return {fid: text_for(f, lang) for fid, f in reads.factor_catalogue(rt.store, run_id).items()}


# -- the risk map ------------------------------------------------------------------------------------------
@dataclass
class RiskMapPage:
    run: dict[str, Any] | None
    filter: MapFilter
    messages: list[str]
    parts: maps.MapParts
    cache_hit: bool
    municipalities: list[tuple[str, str]]
    themes: dict[str, dict[str, Any]]
    reference_date: dt.date
    extra: dict[str, Any] = field(default_factory=dict)


def risk_map_page(rt: Runtime) -> RiskMapPage:
    """The risk map for the request's filter and language, from the cache when it is current."""
    store, settings = rt.store, rt.settings
    run = reads.published_run(store)
    run_id = run["id"] if run else None
    munis = reads.municipalities(store)
    themes = reads.theme_catalogue(store, run_id, settings)
    flt, messages = parse_map_filter(request.args, municipalities=[c for c, _n in munis], themes=list(themes))
    lang = current_language()
    key = cache_key(reads.data_version(store), flt.key(), lang, settings.basemap, _static_url())
    ref = reads.reference_date(store, run)
    parts, hit = web_state().cache.get_or_build(
        key, lambda: build_risk_map(rt, run_id, flt, lang, ref, (run or {}).get("input_counts") or {}))
    if parts.meta.get("parks", 0) == 0 and flt.active:
        messages.append(_("Geen parken voor dit filter; de kaart toont het hele land."))
    return RiskMapPage(run, flt, messages, parts, hit, munis, themes, ref)


def build_risk_map(rt: Runtime, run_id: int | None, flt: MapFilter, lang: str, ref: dt.date,
                   counts: dict[str, Any] | None = None) -> maps.MapParts:
    """Build (not cached) the risk map of the parks matching ``flt``; the legend states the run's hot-spot rule."""
    store = rt.store
    rows = reads.park_rows(store, run_id, municipalities=flt.municipalities, kinds=flt.kinds, classes=flt.classes,
                             themes=flt.themes)
    features = park_features(rows, _factor_labels(rt, run_id, lang))
    since = ref - dt.timedelta(days=SIGNAL_WINDOW_DAYS)
    signals = reads.recent_signals(store, since, None if not flt.active else [r.id for r in rows])
    outlines = reads.municipality_outlines(store, flt.municipalities)
    rule = (counts or {}).get("hotspot_rule")
    labels = map_labels(rule if isinstance(rule, dict) else None)
    m = maps.build_risk_map(features, labels=labels, basemap=rt.settings.basemap, signals=signals,
                            municipalities=outlines, park_url=request.script_root + "/parks/",
                            static_url=_static_url())
    return maps.render_parts(m, meta={"parks": len(features), "signals": len(signals),
                                      "scored": sum(1 for f in features if f.score is not None),
                                      "hotspots": sum(1 for f in features if f.hotspot == "hot"),
                                      "since": since.isoformat(), "outlines": outlines is not None})


def park_features(rows: Sequence[reads.ParkScoreRow], labels: dict[str, str],
                  n_factors: int = 3) -> list[maps.ParkFeature]:
    """Rows as the map core's :class:`~service.maps.ParkFeature` (factor ids replaced by ``labels``)."""
    geoms = shapely.from_wkb([r.geom_wkb for r in rows]) if rows else []
    return [maps.ParkFeature(id=r.id, name=r.name, geom_rd=g, score=r.score, risk_class=r.risk_class,
                             top_factors=[(labels.get(fid, fid), pts) for fid, pts in r.top_factors(n_factors)],
                             hotspot=r.hotspot, hotspot_p=r.hotspot_p, municipality=r.municipality_name, kind=r.kind)
            for r, g in zip(rows, geoms)]


# -- the park page ------------------------------------------------------------------------------------------
def _outcome(sig: dict[str, Any], role: str | None = None) -> str:
    """What a signal says, in words (inspection outcome, residents, Bibob outcome, else its subtype).

    Residents are persons: a count of 1 to 4 is shown as "< 5" to everyone but an admin.
    """
    a = sig.get("attributes") or {}
    parts: list[str] = []
    if sig["type"] == "inspection" and "violation" in a:
        if a.get("violation"):
            cats = ", ".join(category_label(c) for c in (a.get("categories") or []))
            parts.append(_("overtreding") + (f": {cats}" if cats else ""))
        else:
            parts.append(_("geen overtreding"))
    elif sig["type"] == "registration" and a.get("residents") is not None:
        parts.append(_("%(n)s ingeschreven", n=suppress_count(a.get("residents"), role)))
    elif a.get("outcome"):
        parts.append(str(a["outcome"]))
    if sig.get("subtype") and not parts:
        parts.append(str(sig["subtype"]))
    if a.get("remark"):
        parts.append("“" + str(a["remark"]) + "”")
    return " — ".join(parts)


def _person_count_factors(rt: Runtime, run_id: int | None) -> set[str]:
    """Ids of the factors whose raw value counts persons (read from registration signals)."""
    if run_id is None:
        return set()
    try:
        model = scoring.run_model(rt.store, run_id)
    except KeyError:
        return set()
    return {f.id for f in model.factors if getattr(f.source, "type", None) in PERSON_COUNT_SIGNAL_TYPES}


def park_page(rt: Runtime, park_id: int, role: str | None = None) -> dict[str, Any]:
    """Everything the park page shows to ``role`` (:class:`service.reads.NotFound` when the park does not exist)."""
    store = rt.store
    park = reads.park(store, park_id)
    lang = current_language()
    score = reads.park_score(store, park_id)
    run = reads.published_run(store)
    history = reads.park_history(store, park_id)
    signals, n_signals = reads.park_signals(store, park_id)
    for s in signals:
        s["type_label"] = signal_type_label(s["type"])
        s["outcome"] = _outcome(s, role)

    located = [maps.SignalPoint(x=s["x"], y=s["y"], type=s["type"], date=s["date"], subtype=s.get("subtype"))
               for s in signals if s["x"] is not None and s["y"] is not None]
    feature = maps.ParkFeature(id=park["id"], name=park["name"], geom_rd=park["geom"],
                               score=score["score"] if score else None,
                               risk_class=score["risk_class"] if score else None)
    m = maps.build_park_map(feature, located, labels=map_labels(), basemap=rt.settings.basemap,
                            static_url=_static_url())
    parts = maps.render_parts(m)

    charts: dict[str, Any] = {}
    factors: list[dict[str, Any]] = []
    themes: list[dict[str, Any]] = []
    if score:
        bars = []
        for tid, t in score["themes"].items():
            colour = THEME_COLOURS.get(tid, "#154273")
            tf = [f for f in score["factors"] if f.get("theme") == tid]
            themes.append({"id": tid, "label": text_for(t, lang), "points": t["points"], "weight": t["weight"]})
            bars.append(Bar(text_for(t, lang), float(t["points"] or 0), float(t["weight"] or 0), colour))
            for f in sorted(tf, key=lambda f: -(f.get("points") or 0)):
                if (f.get("points") or 0) > 0:
                    bars.append(Bar(text_for(f, lang), float(f["points"]), float(f.get("weight") or 0),
                                    colour + "99", indent=True))
        charts["themes"] = bar_chart(bars, title=_("Punten per thema en factor"), unit=_("punten"), locale=lang)
        persons = _person_count_factors(rt, score.get("run_id"))
        for f in score["factors"]:
            theme = score["themes"].get(f.get("theme"), {})
            theme_label = text_for(theme, lang) if f.get("theme") else ""
            raw = suppress_count(f.get("raw"), role) if f.get("id") in persons else f.get("raw")
            factors.append({**f, "label": text_for(f, lang), "theme_label": theme_label, "raw_shown": raw,
                            "n": f.get("n_signals", len(f.get("signals") or []))})
    if history:
        thresholds = []
        try:
            model = scoring.run_model(store, history[-1]["run_id"])
            colours = {"verhoogd": maps.RISK_COLOURS["verhoogd"], "hoog": maps.RISK_COLOURS["hoog"]}
            thresholds = [(class_label(c), float(v), colours.get(c, "#888")) for c, v in model.thresholds.items()]
        except KeyError:
            pass
        charts["history"] = line_chart([(h["as_of"], float(h["score"])) for h in history],
                                       title=_("Score per run"), thresholds=thresholds, locale=lang)
    as_of = score["as_of"] if score else (run["as_of"] if run else None)
    freshness = (score or {}).get("freshness") or reads.latest_signal_by_type(store, park_id)
    ref = reads.reference_date(store, run)
    fresh_rows = []
    for t, d in sorted(freshness.items(), key=lambda kv: kv[1], reverse=True):
        try:
            age = (ref - dt.date.fromisoformat(str(d)[:10])).days
        except ValueError:
            age = None
        fresh_rows.append({"type": t, "label": signal_type_label(t), "date": d, "age": age})
    return {
        "park": park, "kind_label": kind_label(park["kind"]), "score": score, "run": run, "history": history,
        "signals": signals, "n_signals": n_signals, "n_located": len(located), "map": parts, "charts": charts,
        "factors": factors, "themes": themes, "as_of": as_of, "freshness": fresh_rows,
    }


# -- the worklist ------------------------------------------------------------------------------------------
def worklist_page(rt: Runtime) -> dict[str, Any]:
    store = rt.store
    run = reads.published_run(store)
    run_id = run["id"] if run else None
    munis = reads.municipalities(store)
    args = request.args.copy()
    for name in ("kind", "theme"):  # the worklist filters by municipality and class only
        args.poplist(name)
    flt, messages = parse_map_filter(args, municipalities=[c for c, _n in munis], themes=[])
    ref = reads.reference_date(store, run)
    items = reads.worklist(store, run_id, ref, _factor_labels(rt, run_id, current_language()),
                             municipalities=flt.municipalities, classes=flt.classes)
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 10_000)
    except ValueError:
        limit = 100
        messages.append(_("'limit' moet een geheel getal zijn; de eerste 100 parken worden getoond."))
    planned = plans.plan_status_by_park(store)
    items, visit_filter = _visit_filters(store, items, planned, rt.settings.day(), messages)
    return {"run": run, "filter": flt, "messages": messages, "items": items[:limit], "all": items, "total": len(items),
            "limit": limit, "municipalities": munis, "reference_date": ref, "planned": planned,
            "visit_filter": visit_filter}


def _visit_filters(store: Any, items: list[Any], planned: dict[int, dt.date], today: dt.date,
                   messages: list[str]) -> tuple[list[Any], dict[str, Any]]:
    """Worklist filters ``plan`` (planned / unplanned) and ``visited`` (in / not in the last ``months``)."""
    plan = request.args.get("plan", "")
    visited = request.args.get("visited", "")
    months_text = request.args.get("months", "") or "6"
    months = int(months_text) if months_text.isdigit() and 0 < int(months_text) <= 120 else None
    if months is None:
        messages.append(_("'months' moet een geheel getal van 1 tot 120 zijn; 6 maanden is gebruikt."))
        months = 6
    if plan == "planned":
        items = [it for it in items if it.park.id in planned]
    elif plan == "unplanned":
        items = [it for it in items if it.park.id not in planned]
    if visited in ("yes", "no"):
        since = today - dt.timedelta(days=round(months * 30.44))
        recent = {p for p, d in plans.last_visits(store, VISIT_SOURCE).items() if d >= since}
        items = [it for it in items if (it.park.id in recent) == (visited == "yes")]
    return items, {"plan": plan, "visited": visited, "months": months}


#: A CSV cell a spreadsheet will not run as a formula (kept under this name for the page tests).
_cell = safe_cell


def worklist_csv(rt: Runtime) -> str:
    """The whole worklist (same filters, no limit) as spreadsheet-safe CSV (:mod:`service.tabular`)."""
    items = worklist_page(rt)["all"]
    header = [_("rang"), _("park_id"), _("naam"), _("gemeentecode"), _("gemeente"), _("soort"), _("score"),
              _("klasse"), _("verandering"), _("laatste_controle"), _("dagen_sinds_controle"),
              _("reden_1"), _("reden_2"), _("reden_3")]

    def rows() -> Any:
        for it in items:
            p = it.park
            reasons = [f"{label} ({pts:.2f})" for label, pts in it.reasons] + [""] * (3 - len(it.reasons))
            yield [it.rank, p.id, p.name, p.municipality_code or "", p.municipality_name, kind_label(p.kind),
                   None if p.score is None else round(p.score, 2), class_label(p.risk_class),
                   None if p.change is None else round(p.change, 2),
                   it.last_inspection.isoformat() if it.last_inspection else "",
                   it.days_since_inspection, *reasons[:3]]

    return "".join(csv_lines(header, rows(), numeric=(0, 1, 6, 8, 10)))
