"""Reading a model file (``geodata/model.toml``): parse, check that it is complete, consistent and lawful.

A file that fails is refused with a :class:`~service.scoring.model.ModelError` that names the factor and the
field to fix; a factor on personal traits is refused by the vocabulary's one policy.

Example
-------
>>> from service.scoring.model_file import load_model
>>> model = load_model("geodata/model.toml")      # doctest: +SKIP
>>> sum(f.weight for f in model.factors)            # doctest: +SKIP
100.0
"""
from __future__ import annotations

import hashlib
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from ..vocab import SIGNAL_TYPES, THEMES, personal_trait
from .hotspots import hotspot_settings
from .model import (
    PARK_ATTRIBUTES,
    PARK_MEASURES,
    SIGNAL_FIELDS,
    Factor,
    Filter,
    Model,
    ModelError,
    NeighbourSource,
    ParkSource,
    SignalSource,
    Transform,
    WeightBy,
)

__all__ = ["load_model", "parse_model"]

_OPS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("=", "!=", "in", "not_in", "exists"),
    "bool": ("=", "!=", "exists"),
    "number": ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists"),
    "list": ("contains", "contains_any", "exists"),
}
_AGGREGATES = ("count", "sum", "latest", "growth")
_NORMALISATIONS = ("none", "per_unit", "per_hectare")
_TRANSFORMS: dict[str, tuple[str, ...]] = {
    "exp": ("scale",),  # 1 - exp(-v / scale)
    "cap": ("cap",),  # min(v / cap, 1)
    "ramp": ("lo", "hi"),  # clip((v - lo) / (hi - lo), 0, 1)
    "step": ("threshold",),  # 1 when v >= threshold
}
_REQUIRED_FACTOR_FIELDS = ("id", "theme", "label_nl", "label_en", "weight", "normalise", "transform", "source",
                           "rationale", "citation")
_ID = re.compile(r"^[a-z][a-z0-9_]{1,59}$")



# -- loading ----------------------------------------------------------------------------------------
def load_model(path: str | Path) -> Model:
    """Read and validate a model file; raises :class:`ModelError` naming what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelError(f"model file {path} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise ModelError(f"model file {path} is not UTF-8 text") from exc
    return parse_model(text, path=str(path))


def parse_model(text: str, *, path: str | None = None) -> Model:
    """Validate model text (the same checks as :func:`load_model`); the hash is over the exact text."""
    where = path or "model text"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{where} is not valid TOML: {exc}") from exc
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _build(data, text=text, sha=sha, path=path)


def _need(table: dict[str, Any], key: str, ctx: str) -> Any:
    if key not in table or table[key] is None or table[key] == "":
        raise ModelError(f"{ctx}: missing field {key!r}")
    return table[key]


def _number(value: Any, ctx: str, key: str, *, positive: bool = False, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelError(f"{ctx}: {key} must be a number, not {value!r}")
    if positive and value <= 0:
        raise ModelError(f"{ctx}: {key} must be greater than 0, not {value!r}")
    if minimum is not None and value < minimum:
        raise ModelError(f"{ctx}: {key} must be at least {minimum}, not {value!r}")
    return float(value)


def _build(data: dict[str, Any], *, text: str, sha: str, path: str | None) -> Model:
    meta = data.get("model")
    if not isinstance(meta, dict):
        raise ModelError("missing [model] table with name and version")
    name = str(_need(meta, "name", "[model]"))
    version = str(_need(meta, "version", "[model]"))
    if len(version) > 50:
        raise ModelError("[model]: version is longer than 50 characters")

    themes_in = data.get("themes")
    if not isinstance(themes_in, dict):
        raise ModelError(f"missing [themes] table with labels for {', '.join(THEMES)}")
    for t in themes_in:
        if t not in THEMES:
            raise ModelError(f"[themes.{t}]: unknown theme {t!r}; themes are {', '.join(THEMES)}")
    themes: dict[str, dict[str, str]] = {}
    for t in THEMES:
        entry = themes_in.get(t)
        if not isinstance(entry, dict):
            raise ModelError(f"[themes]: theme {t!r} is missing")
        themes[t] = {"label_nl": str(_need(entry, "label_nl", f"[themes.{t}]")),
                     "label_en": str(_need(entry, "label_en", f"[themes.{t}]"))}

    classes = data.get("classes")
    if not isinstance(classes, dict):
        raise ModelError("missing [classes] table with thresholds verhoogd and hoog")
    verhoogd = _number(_need(classes, "verhoogd", "[classes]"), "[classes]", "verhoogd", positive=True)
    hoog = _number(_need(classes, "hoog", "[classes]"), "[classes]", "hoog", positive=True)
    if not verhoogd < hoog <= 100:
        raise ModelError(f"[classes]: need 0 < verhoogd < hoog <= 100, got verhoogd={verhoogd}, hoog={hoog}")

    hot = hotspot_settings(data.get("hotspots"), ("verhoogd", "hoog"))

    explain = data.get("explain", {})
    max_ids = explain.get("max_signal_ids", 100) if isinstance(explain, dict) else 100
    if isinstance(max_ids, bool) or not isinstance(max_ids, int) or max_ids < 1:
        raise ModelError(f"[explain]: max_signal_ids must be a whole number of 1 or more, not {max_ids!r}")

    raw_factors = data.get("factors")
    if not isinstance(raw_factors, list) or not raw_factors:
        raise ModelError("the model has no [[factors]]")
    factors = tuple(_factor(f, i) for i, f in enumerate(raw_factors))
    seen: set[str] = set()
    for f in factors:
        if f.id in seen:
            raise ModelError(f"factor {f.id!r} is defined twice")
        seen.add(f.id)
    if sum(f.spatial_lag for f in factors) > 1:
        raise ModelError("only one factor may read the neighbours' risk (source kind 'neighbours')")

    positive = [f.weight for f in factors if f.weight > 0]
    total_cents = sum(round(w * 100) for w in positive)
    if any(f.weight < 0 for f in factors):
        if total_cents != 100_00:
            raise ModelError(f"the positive weights must sum to 100 (the highest possible score), "
                             f"they sum to {total_cents / 100:g}")
    elif total_cents != 100_00:
        raise ModelError(f"weights must sum to 100 so that a score runs from 0 to 100; they sum to "
                         f"{total_cents / 100:g}")

    return Model(
        name=name, version=version, description=str(meta.get("description", "")), factors=factors,
        themes=themes, thresholds={"verhoogd": verhoogd, "hoog": hoog}, max_signal_ids=int(max_ids), text=text,
        sha256=sha, path=path, **hot,
    )


def _check_traits(ctx: str, *names: Any) -> None:
    """Refuse a factor that names a personal trait (the same policy the import applies to columns)."""
    for name in names:
        word = personal_trait(name)
        if word is not None:
            raise ModelError(
                f"{ctx}: {name!r} looks like a personal trait ({word!r}); Parkwacht scores parks, never "
                "persons, and no factor may use nationality, ethnicity, country of birth, religion or "
                "the age of persons")


def _factor(raw: Any, index: int) -> Factor:
    if not isinstance(raw, dict):
        raise ModelError(f"factor #{index + 1} is not a table")
    fid = raw.get("id")
    ctx = f"factor {fid!r}" if fid else f"factor #{index + 1}"
    for key in _REQUIRED_FACTOR_FIELDS:
        _need(raw, key, ctx)
    fid = str(raw["id"])
    if not _ID.match(fid):
        raise ModelError(f"{ctx}: id must be lower-case letters, digits and underscores (2-60 characters)")
    _check_traits(ctx, fid)
    theme = raw["theme"]
    if theme not in THEMES:
        raise ModelError(f"{ctx}: unknown theme {theme!r}; themes are {', '.join(THEMES)}")
    allow_negative = raw.get("allow_negative", False)
    if not isinstance(allow_negative, bool):
        raise ModelError(f"{ctx}: allow_negative must be true or false")
    weight = _number(raw["weight"], ctx, "weight")
    if weight < 0 and not allow_negative:
        raise ModelError(f"{ctx}: negative weight {weight:g}; a factor that lowers risk must say allow_negative = true")
    if abs(weight * 100 - round(weight * 100)) > 1e-9:
        raise ModelError(f"{ctx}: weight {weight!r} has more than two decimals")
    normalise = raw["normalise"]
    if normalise not in _NORMALISATIONS:
        raise ModelError(f"{ctx}: unknown normalise {normalise!r}; use one of {', '.join(_NORMALISATIONS)}")
    min_units = _number(raw.get("min_units", 1.0), ctx, "min_units", positive=True)

    window = raw.get("window_days")
    if window is not None:
        window = int(_number(window, ctx, "window_days", positive=True))
    half_life = raw.get("half_life_days")
    if half_life is not None:
        half_life = _number(half_life, ctx, "half_life_days", positive=True)

    source = _source(raw["source"], ctx)
    if isinstance(source, SignalSource):
        if window is None and half_life is None:
            raise ModelError(f"{ctx}: a signal factor needs window_days and/or half_life_days")
        if source.aggregate in ("latest", "growth") and half_life is not None:
            raise ModelError(f"{ctx}: half_life_days does not apply to aggregate {source.aggregate!r}")
    elif window is not None or half_life is not None:
        raise ModelError(f"{ctx}: window_days and half_life_days only apply to signal factors")
    if not isinstance(source, SignalSource) and normalise != "none":
        raise ModelError(f"{ctx}: normalise must be 'none' for a {source.kind} factor")
    if isinstance(source, NeighbourSource) and weight < 0:
        raise ModelError(f"{ctx}: the neighbours' risk cannot have a negative weight")

    transform = _transform(raw["transform"], ctx)
    return Factor(
        id=fid, theme=theme, label_nl=str(raw["label_nl"]), label_en=str(raw["label_en"]), weight=weight,
        source=source, normalise=normalise, transform=transform, rationale=str(raw["rationale"]),
        citation=str(raw["citation"]), window_days=window, half_life_days=half_life, min_units=min_units,
        allow_negative=allow_negative,
    )


def _transform(raw: Any, ctx: str) -> Transform:
    if not isinstance(raw, dict):
        raise ModelError(f"{ctx}: transform must be a table such as {{ kind = \"exp\", scale = 2 }}")
    kind = _need(raw, "kind", f"{ctx} transform")
    if kind not in _TRANSFORMS:
        raise ModelError(f"{ctx}: unknown transform {kind!r}; use one of {', '.join(_TRANSFORMS)}")
    params = {}
    for p in _TRANSFORMS[kind]:
        params[p] = _number(_need(raw, p, f"{ctx} transform {kind}"), ctx, f"transform {p}",
                            positive=p in ("scale", "cap"))
    extra = set(raw) - {"kind", *_TRANSFORMS[kind]}
    if extra:
        raise ModelError(f"{ctx}: transform {kind!r} takes {', '.join(_TRANSFORMS[kind])}, "
                         f"not {', '.join(sorted(extra))}")
    if kind == "ramp" and not params["lo"] < params["hi"]:
        raise ModelError(f"{ctx}: ramp needs lo < hi")
    return Transform(kind=kind, **params)


def _source(raw: Any, ctx: str) -> SignalSource | ParkSource | NeighbourSource:
    if not isinstance(raw, dict):
        raise ModelError(f"{ctx}: source must be a table")
    kind = _need(raw, "kind", f"{ctx} source")
    _check_traits(ctx, *[k for k in raw], *[v for v in raw.values() if isinstance(v, str)])
    if kind == "signals":
        return _signal_source(raw, ctx)
    if kind == "park":
        attribute = _need(raw, "attribute", f"{ctx} source")
        _check_traits(ctx, attribute)
        if attribute not in PARK_ATTRIBUTES:
            raise ModelError(f"{ctx}: unknown park attribute {attribute!r}; known: {', '.join(PARK_ATTRIBUTES)}")
        measure = _need(raw, "measure", f"{ctx} source")
        if measure not in PARK_MEASURES:
            raise ModelError(f"{ctx}: unknown measure {measure!r}; use one of {', '.join(PARK_MEASURES)}")
        akind = PARK_ATTRIBUTES[attribute][0]
        if akind not in PARK_MEASURES[measure]:
            raise ModelError(f"{ctx}: measure {measure!r} does not apply to park attribute {attribute!r}")
        years = raw.get("years")
        if measure == "within_years":
            years = int(_number(_need(raw, "years", f"{ctx} source"), ctx, "years", positive=True))
        return ParkSource(attribute=attribute, measure=measure, years=years)
    if kind == "neighbours":
        return NeighbourSource(within_m=_number(_need(raw, "within_m", f"{ctx} source"), ctx, "within_m",
                                                positive=True))
    raise ModelError(f"{ctx}: unknown source kind {kind!r}; use signals, park or neighbours")


def _signal_source(raw: dict[str, Any], ctx: str) -> SignalSource:
    stype = _need(raw, "type", f"{ctx} source")
    if stype not in SIGNAL_TYPES:
        raise ModelError(f"{ctx}: unknown signal type {stype!r}; known: {', '.join(SIGNAL_TYPES)}")
    scope = raw.get("scope", "own")
    if scope not in ("own", "nearby"):
        raise ModelError(f"{ctx}: scope must be 'own' or 'nearby', not {scope!r}")
    within = raw.get("within_m")
    if scope == "nearby":
        within = _number(_need(raw, "within_m", f"{ctx} source"), ctx, "within_m", positive=True)
    elif within is not None:
        raise ModelError(f"{ctx}: within_m only applies to scope 'nearby'")
    aggregate = raw.get("aggregate", "count")
    if aggregate not in _AGGREGATES:
        raise ModelError(f"{ctx}: unknown aggregate {aggregate!r}; use one of {', '.join(_AGGREGATES)}")
    fld = raw.get("field")
    lookback = raw.get("lookback_days")
    if aggregate != "count":
        fld = _need(raw, "field", f"{ctx} source")
        _field_kind(fld, ctx, want=("number",))
    elif fld is not None:
        raise ModelError(f"{ctx}: field only applies to aggregates sum, latest and growth")
    if aggregate == "growth":
        lookback = int(_number(_need(raw, "lookback_days", f"{ctx} source"), ctx, "lookback_days", positive=True))
    elif lookback is not None:
        raise ModelError(f"{ctx}: lookback_days only applies to aggregate 'growth'")
    where_raw = raw.get("where", [])
    if not isinstance(where_raw, list):
        raise ModelError(f"{ctx}: where must be a list of conditions")
    where = tuple(_filter(w, ctx) for w in where_raw)
    weight_by = None
    if "weight_by" in raw:
        wb = raw["weight_by"]
        if not isinstance(wb, dict):
            raise ModelError(f"{ctx}: weight_by must be a table with field, values and default")
        wfield = _need(wb, "field", f"{ctx} weight_by")
        _field_kind(wfield, ctx, want=("text",))
        values = wb.get("values", {})
        if not isinstance(values, dict) or not values:
            raise ModelError(f"{ctx}: weight_by needs values = {{ value = weight, ... }}")
        _check_traits(ctx, *values)
        clean = {}
        for k, v in values.items():
            clean[str(k)] = _number(v, ctx, f"weight_by value {k!r}", minimum=0.0)
        default = _number(wb.get("default", 1.0), ctx, "weight_by default", minimum=0.0)
        weight_by = WeightBy(field=wfield, values=clean, default=default)
    extra = set(raw) - {"kind", "type", "scope", "within_m", "aggregate", "field", "lookback_days", "where",
                        "weight_by"}
    if extra:
        raise ModelError(f"{ctx}: unknown source fields {', '.join(sorted(extra))}")
    return SignalSource(type=stype, scope=scope, within_m=within, aggregate=aggregate, field=fld,
                        lookback_days=lookback, where=where, weight_by=weight_by)


def _field_kind(name: Any, ctx: str, want: tuple[str, ...] | None = None) -> str:
    _check_traits(ctx, name)
    if name not in SIGNAL_FIELDS:
        raise ModelError(f"{ctx}: unknown signal field {name!r}; known: {', '.join(SIGNAL_FIELDS)} "
                         "(a new field of a source is added to SIGNAL_FIELDS in service/scoring/model.py)")
    kind = SIGNAL_FIELDS[name]
    if want and kind not in want:
        raise ModelError(f"{ctx}: field {name!r} is {kind}, here a {' or '.join(want)} field is needed")
    return kind


def _filter(raw: Any, ctx: str) -> Filter:
    if not isinstance(raw, dict):
        raise ModelError(f"{ctx}: a condition must be a table like "
                         "{ field = \"violation\", op = \"=\", value = true }")
    if "any" in raw:
        alts = raw["any"]
        if not isinstance(alts, list) or len(alts) < 2 or set(raw) != {"any"}:
            raise ModelError(f"{ctx}: 'any' needs a list of at least two conditions and nothing beside it")
        return Filter(any_of=tuple(_filter(a, ctx) for a in alts))
    fname = _need(raw, "field", f"{ctx} condition")
    kind = _field_kind(fname, ctx)
    op = _need(raw, "op", f"{ctx} condition on {fname!r}")
    if op not in _OPS_BY_KIND[kind]:
        raise ModelError(f"{ctx}: operator {op!r} does not apply to {kind} field {fname!r}; "
                         f"use {', '.join(_OPS_BY_KIND[kind])}")
    value = raw.get("value")
    if op != "exists" and value is None:
        raise ModelError(f"{ctx}: condition on {fname!r} needs a value")
    if op in ("in", "not_in", "contains_any"):
        if not isinstance(value, list) or not value:
            raise ModelError(f"{ctx}: operator {op!r} on {fname!r} needs a non-empty list of values")
        values = value
    else:
        values = [value]
    for v in values:
        if op == "exists":
            continue
        if kind == "bool" and not isinstance(v, bool):
            raise ModelError(f"{ctx}: {fname!r} is true or false, not {v!r}")
        if kind == "number" and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ModelError(f"{ctx}: {fname!r} compares with numbers, not {v!r}")
        if kind in ("text", "list") and not isinstance(v, str):
            raise ModelError(f"{ctx}: {fname!r} compares with text, not {v!r}")
    _check_traits(ctx, *[v for v in values if isinstance(v, str)])
    extra = set(raw) - {"field", "op", "value"}
    if extra:
        raise ModelError(f"{ctx}: unknown condition fields {', '.join(sorted(extra))}")
    return Filter(field=fname, op=op, value=tuple(value) if isinstance(value, list) else value)
