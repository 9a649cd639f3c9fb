"""Load the embedded, fictional demo region (``geodata.demo``) into a store.

The generator's hidden latent risk is deliberately not stored: it is the truth the scoring model must
recover, and only the tests and the backtest may look at it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from .config import Settings
from .ingest import ImportResult, import_park_frame, import_signal_frame
from .store import Store, schema
from .vocab import DEMO_SOURCE

__all__ = ["DEMO_SOURCE", "load_demo", "signals_as_text_frame"]



def signals_as_text_frame(signals: pd.DataFrame) -> pd.DataFrame:
    """The generator's typed signals as the text columns a file import would see."""
    attrs = signals["attributes"].tolist()

    def pick(key: str, fmt=str) -> list[str]:
        return ["" if key not in a or a[key] is None else fmt(a[key]) for a in attrs]

    def rest(a: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in a.items() if k not in ("violation", "categories", "residents")}

    return pd.DataFrame({
        "source_id": signals["source_id"].astype(str),
        "type": signals["type"].astype(str),
        "subtype": signals["subtype"].fillna("").astype(str),
        "date": [d.isoformat() for d in signals["date"]],
        "x": ["" if not np.isfinite(v) else repr(float(v)) for v in signals["x"]],
        "y": ["" if not np.isfinite(v) else repr(float(v)) for v in signals["y"]],
        "park_ref": signals["park_ref"].fillna("").astype(str),
        "violation": pick("violation", lambda v: "yes" if v else "no"),
        "categories": pick("categories", lambda v: ";".join(v)),
        "residents": pick("residents"),
        "attributes": [rest(a) for a in attrs],
    })


def load_demo(store: Store, settings: Settings, *, seed: int | None = None,
              today: dt.date | None = None) -> tuple[ImportResult, ImportResult]:
    """Generate the demo region relative to ``today`` (default: the settings' day) and import it like any source.

    Its signals end the day before, so a fresh demo is current; the same day always gives the same region.
    """
    from geodata.demo import generate, relative_to

    region = relative_to(generate(seed=settings.demo_seed if seed is None else seed), today or settings.day())
    parks = import_park_frame(store, region.parks, settings=settings, source=DEMO_SOURCE, crs="EPSG:28992")
    signals = import_signal_frame(store, signals_as_text_frame(region.signals), settings=settings,
                                  source=DEMO_SOURCE, crs="EPSG:28992")
    return parks, signals


def store_is_empty(store: Store) -> bool:
    return store.count(schema.parks) == 0
