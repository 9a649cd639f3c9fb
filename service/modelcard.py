"""The model card: what the risk model is for, what it reads and weighs, how well it did, and what it never uses.

Generated from the model of the published run (else the model file), the latest runs and the latest
recorded backtest (``parkwacht backtest --record``: a backtest scores every park, too slow for a page, so
its figures are stored with the model hash they belong to). :func:`algoritmeregister` re-arranges the card
into the fields of the Dutch algorithm register (Algoritmeregister publicatiestandaard), so it can be
copied there; fields only the responsible organisation can fill in say so.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from . import audit
from .config import Settings
from .scoring import list_runs, load_model, published_run, run_model
from .store import Store, schema
from .vocab import SIGNAL_TYPES

__all__ = ["model_card", "algoritmeregister", "record_backtest", "latest_backtest", "SIGNAL_SOURCES",
           "NOT_USED", "PURPOSE"]

PURPOSE = {
    "purpose": ("Give municipalities, RIECs and provinces one shared, explainable picture of undermining risk "
                "(ondermijning) on holiday parks, so that officers visit the parks that drift early, together "
                "with the social domain."),
    "intended_use": ("A score leads to a visit, never to a sanction. Officers read the score with its factor "
                     "points and the signals behind them, check it against local knowledge, and decide whether "
                     "and when to visit; the outcome of the visit flows back as a signal."),
    "not_intended": ("Not for decisions about persons, not for sanctions, permits or benefits, and not as "
                     "evidence: a score describes a park's signals, not anyone's conduct."),
    "human_in_the_loop": ("Between score and action there is always an officer: the worklist proposes, a person "
                          "decides. Every look at a park page and every recorded visit is in the audit log."),
    "unit": "A park (vakantiepark, camping, caravan park); never a person, a household or an address.",
}

#: Per signal type: where it comes from and what it cannot see.
SIGNAL_SOURCES: dict[str, dict[str, str]] = {
    "permit": {"source": "Municipal official publications (Officiële Bekendmakingen)",
               "gaps": "Only what is published; refusals and withdrawals are often not."},
    "ownership_change": {"source": "Kadaster transfers and municipal records",
                         "gaps": "Chalet and stacaravan sales are movable property and never reach the Kadaster: "
                                 "ownership data is partial by nature, so its absence is not evidence of calm."},
    "inspection": {"source": "Inspections and visits by officers (including visits recorded in Parkwacht)",
                   "gaps": "Inspections go where risk is already suspected (feedback loop): uninspected parks "
                           "have no findings, which is not the same as having no problems."},
    "registration": {"source": "BRP: residents registered on park addresses (counts per park, never persons)",
                     "gaps": "Unregistered residents are invisible (on the Veluwe about half of permanent "
                             "residents were unregistered); counts below 5 are suppressed for non-admins."},
    "complaint": {"source": "Complaints and reports to the municipality",
                  "gaps": "Reporting depends on neighbours and on trust in the municipality, not only on events."},
    "incident": {"source": "Police and fire-service incidents, drug-lab and drug-waste findings",
                 "gaps": "Registered incidents only; the dark number is large and differs by area."},
    "bibob": {"source": "Wet Bibob integrity screenings",
              "gaps": "Only where a permit triggered a screening; outcomes are confidential and summarised."},
    "energy_anomaly": {"source": "Grid operator: unusual consumption",
                       "gaps": "Coverage differs per grid operator; legitimate heavy use also shows up."},
    "other": {"source": "Other sources agreed locally", "gaps": "Depends on the source."},
}

NOT_USED = [
    "Personal traits of any kind: nationality, ethnicity or descent, country or place of birth, religion or "
    "belief, the age of persons. The import stores no such column (rejected rows included) and the model "
    "loader refuses a factor on one.",
    "Data about individual persons: names, BSNs, addresses of residents, households. Registrations are counts "
    "per park.",
    "Predictions about people, and any automatic decision or sanction.",
]

DECAY_NOTE = ("Signals older than the window do not count; within it, a signal's weight halves every half-life "
              "(exponential decay).")


def record_backtest(store: Store, result: dict[str, Any], actor: audit.Actor | None = None) -> int:
    """Keep a backtest's figures for the model card (and audit that it was recorded)."""
    with store.begin() as conn:
        backtest_id = int(conn.execute(schema.backtests.insert().values(
            as_of=dt.date.fromisoformat(result["as_of"]), horizon_days=int(result["horizon_days"]),
            model_version=result["model_version"], model_hash=result["model_hash"], result=result,
        ).returning(schema.backtests.c.id)).scalar_one())
        audit.record(conn, actor, "backtest.record", f"backtest:{backtest_id}", as_of=result["as_of"],
                     horizon_days=result["horizon_days"], model_hash=result["model_hash"])
    return backtest_id


def latest_backtest(store: Store, model_hash: str | None = None) -> dict[str, Any] | None:
    """The newest recorded backtest (of the model with ``model_hash``, when given), with when it was recorded."""
    b = schema.backtests
    q = sa.select(b.c.id, b.c.created_at, b.c.result).order_by(b.c.id.desc()).limit(1)
    if model_hash:
        q = q.where(b.c.model_hash == model_hash)
    with store.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        return None
    created = row.created_at.isoformat() if isinstance(row.created_at, dt.datetime) else str(row.created_at)
    return {"id": row.id, "recorded_at": created, **dict(row.result)}


def _data_in_store(store: Store) -> list[dict[str, Any]]:
    """Per signal type: how many signals the store holds, from how many sources, and their date range."""
    s = schema.signals
    with store.connect() as conn:
        rows = conn.execute(sa.select(s.c.type, sa.func.count(), sa.func.count(sa.distinct(s.c.source)),
                                      sa.func.min(s.c.date), sa.func.max(s.c.date)).group_by(s.c.type)).all()
    held = {r[0]: r for r in rows}
    out = []
    for t in SIGNAL_TYPES:
        r = held.get(t)
        out.append({"type": t, **SIGNAL_SOURCES.get(t, SIGNAL_SOURCES["other"]), "signals": int(r[1]) if r else 0,
                    "sources": int(r[2]) if r else 0, "first": str(r[3]) if r else None,
                    "last": str(r[4]) if r else None})
    return out


def model_card(store: Store, settings: Settings) -> dict[str, Any]:
    """The model card as data (the page, ``/api/v1/model`` and the register export are built from this)."""
    run = published_run(store)
    model = run_model(store, run["id"]) if run else load_model(settings.model_path)
    card = model.card()
    factors = []
    for f in card["factors"]:
        theme = card["themes"].get(f["theme"], {})
        factors.append({**f, "theme_label_nl": theme.get("label_nl"), "theme_label_en": theme.get("label_en")})
    thresholds = dict(sorted(card["thresholds"].items(), key=lambda kv: kv[1]))
    runs = [{k: r[k] for k in ("id", "status", "as_of", "model_version", "finished_at")} for r in list_runs(store, 5)]
    return {
        "model": {"name": card["name"], "version": card["version"], "sha256": card["sha256"],
                  "description": card["description"], "source": "published run" if run else "model file"},
        **PURPOSE,
        "factors": factors,
        "decay": DECAY_NOTE,
        "themes": card["themes"],
        "classes": {"thresholds": thresholds,
                    "rule": "laag below the first threshold; otherwise the highest class whose threshold the "
                            "score reaches. Scores are the sum of factor points, 0 to 100."},
        "hotspots": card["hotspots"],
        "data_sources": _data_in_store(store),
        "published_run": None if run is None else {
            "id": run["id"], "as_of": run["as_of"], "finished_at": run["finished_at"],
            "parks": (run["input_counts"] or {}).get("parks"), "signals": (run["input_counts"] or {}).get("signals"),
            "classes": (run["input_counts"] or {}).get("classes")},
        "recent_runs": runs,
        "backtest": latest_backtest(store, card["sha256"]) or latest_backtest(store),
        "not_used": NOT_USED,
    }


def _backtest_summary(bt: dict[str, Any] | None) -> str:
    if not bt:
        return "No backtest recorded yet (parkwacht backtest --record)."
    scorers = bt.get("scorers", {})
    parts = []
    for name in ("model", "previous_violations", "park_size"):
        row = scorers.get(name)
        if row:
            top = row["top"].get("10%") or next(iter(row["top"].values()))
            parts.append(f"{name}: AUC {row['auc']}, hit rate {top['hit_rate']}, PAI {top['pai']}")
    return (f"Backtest as of {bt['as_of']}, horizon {bt['horizon_days']} days, model {bt['model_version']}: "
            + "; ".join(parts) + ". " + bt.get("caveat", ""))


def algoritmeregister(card: dict[str, Any]) -> dict[str, Any]:
    """The card in the shape of the Algoritmeregister publication standard (Dutch field names as keys)."""
    todo = "IN TE VULLEN door de verantwoordelijke organisatie"
    factors = "; ".join(f"{f['label_nl']} ({f['theme']}, gewicht {f['weight']:g}, bron: "
                        f"{f['source'].get('type') or f['source'].get('attribute') or f['source']['kind']})"
                        for f in card["factors"])
    sources = "; ".join(f"{d['type']}: {d['source']} (beperking: {d['gaps']})" for d in card["data_sources"])
    return {
        "standaard": "Algoritmeregister publicatiestandaard",
        "naam": f"Parkwacht risico-indicatie vakantieparken ({card['model']['name']})",
        "organisatie": todo,
        "korte_omschrijving": card["model"]["description"],
        "type_algoritme": "Regelgebaseerd, gewogen indicatorenmodel (geen machine learning)",
        "thema": ["Openbare orde en veiligheid", "Ruimte en wonen"],
        "status": "In gebruik" if card["published_run"] else "In ontwikkeling",
        "publicatiecategorie": "Impactvolle algoritmes",
        "doel_en_impact": f"{card['purpose']} {card['intended_use']} {card['not_intended']}",
        "afwegingen": ("Transparant, uitlegbaar model: elke score is exact de som van de factorpunten, met de "
                       "signalen erachter. Geen persoonskenmerken; kleine aantallen afgeschermd. "
                       + " ".join(card["not_used"])),
        "menselijke_tussenkomst": card["human_in_the_loop"],
        "risicobeheer": ("Rollen en toegangsrechten, een audittrail van elke raadpleging, een backtest tegen latere "
                         "controles naast twee eenvoudige basislijnen, en het bekende terugkoppelingseffect: "
                         + _backtest_summary(card["backtest"])),
        "wettelijke_basis": todo,
        "impacttoetsen": [{"titel": "DPIA", "status": todo}, {"titel": "IAMA", "status": todo}],
        "werking": (f"{len(card['factors'])} factoren in vijf thema's van de Monitor Vitale Vakantieparken: "
                    f"{factors}. {card['decay']} Klassen: {card['classes']['thresholds']} "
                    f"({card['classes']['rule']})"),
        "gebruikte_data": sources,
        "leverancier": "Eigen ontwikkeling (Parkwacht)",
        "model_versie": card["model"]["version"],
        "model_hash": card["model"]["sha256"],
        "contact": todo,
    }
