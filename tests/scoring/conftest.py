"""Fixtures of the scoring tests: the shipped model, hand-made parks and signals, a scored demo store.

Hand-made worlds are squares of 100 m on one east-west line, so which parks neighbour each other is plain
to see; signals are built from templates that each feed one or more factors of the shipped model.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from service.config import PROJECT_ROOT, Settings, load_settings
from service.ingest import import_park_frame, import_signal_records
from service.scoring.engine import NeighbourPairs, ParkFrame
from service.scoring.factors import SignalFrame
from service.scoring.inputs import neighbour_pairs
from service.scoring.model import Model
from service.scoring.model_file import load_model
from service.spatial import ParkIndex
from service.store import Store, schema
from tests import stores
from tests.conftest import TEST_TODAY

MODEL_PATH = PROJECT_ROOT / "geodata" / "model.toml"
AS_OF = dt.date(2025, 6, 30)
X0, Y0 = 180_000.0, 470_000.0
SIDE = 100.0
SPACING = 300.0  # park k lies at X0 + SPACING * cell

#: Signals that only ever raise risk: (type, subtype, attributes). Registrations are not among them: a new
#: registration with fewer residents rightly lowers the level.
RISK_TEMPLATES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("inspection", "routine", {"violation": True, "categories": ["permanent_residence"]}),
    ("inspection", "routine", {"violation": True, "categories": ["overcrowding", "fire_safety"]}),
    ("inspection", "follow_up", {"violation": True, "categories": ["illegal_construction"]}),
    ("inspection", "routine", {"violation": True, "categories": ["drugs"]}),
    ("inspection", "routine", {"violation": False, "categories": []}),
    ("complaint", "overlast", {}),
    ("incident", "politie_melding", {}),
    ("incident", "hennepkwekerij", {}),
    ("incident", "drugsafval", {}),
    ("ownership_change", "chalet_sale", {"buyer_kind": "company", "resale_within_months": 6}),
    ("ownership_change", "chalet_sale", {"buyer_kind": "private", "resale_within_months": None}),
    ("permit", "bewoning_zonder_beheerderstaken", {}),
    ("permit", "omgevingsvergunning", {"topics": ["zonder_beheerderstaken"]}),
    ("bibob", "advies", {"outcome": "serious_risk"}),
    ("bibob", "advies", {"outcome": "no_risk"}),
    ("energy_anomaly", "netbeheerder", {"excess_kwh": 5000}),
    ("other", None, {"note": "x"}),
]
#: Template types that may also come from just outside a park.
NEARBY_TYPES = {"complaint", "incident", "permit", "other", "energy_anomaly"}


@pytest.fixture(scope="session")
def model() -> Model:
    return load_model(MODEL_PATH)


# -- hand-made worlds ----------------------------------------------------------------------------------
def park_geom(cell: int) -> shapely.Polygon:
    x = X0 + SPACING * cell
    return shapely.box(x, Y0, x + SIDE, Y0 + SIDE)


def park_frame(parks: list[dict[str, Any]]) -> ParkFrame:
    """Parks given as dicts with id, cell, unit_count, operator, takeover_year, built."""
    return ParkFrame.from_records([{
        "id": p["id"], "unit_count": p.get("unit_count"), "area_m2": SIDE * SIDE, "operator": p.get("operator"),
        "takeover_year": p.get("takeover_year"), "kind": "bungalowpark",
        "attributes": {} if p.get("built") is None else {"built_year_median": p["built"]},
    } for p in parks])


def pairs_for(parks: list[dict[str, Any]], model: Model) -> NeighbourPairs:
    index = ParkIndex(np.array([p["id"] for p in parks], dtype=np.int64),
                      np.array([park_geom(p["cell"]) for p in parks], dtype=object))
    distance = model.lag_distance_m
    if distance is None:
        raise ValueError("the model has no neighbours' factor")
    return neighbour_pairs(index, distance)


def signal(sid: int, park_id: int, template: int | tuple, day: int, *, nearby_m: float | None = None,
           residents: int | None = None) -> dict[str, Any]:
    """A signal row as the store holds it; ``day`` counts from AS_OF (negative: before)."""
    if residents is not None:
        stype, sub, attrs = "registration", "brp", {"residents": residents}
    else:
        stype, sub, attrs = RISK_TEMPLATES[template] if isinstance(template, int) else template
    return {"id": sid, "park_id": park_id, "assignment": "explicit" if nearby_m is None else "nearby",
            "distance_m": nearby_m, "type": stype, "subtype": sub, "date": AS_OF + dt.timedelta(days=day),
            "attributes": dict(attrs)}


def signal_frame(rows: list[dict[str, Any]], model: Model) -> SignalFrame:
    return SignalFrame.from_records(rows, model.signal_fields)


# -- stores ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """An empty, migrated store (SQLite file or PostGIS database); copying it is much faster than migrating."""
    folder = tmp_path_factory.mktemp("template")
    s = Store(stores.fresh_url(folder))
    s.upgrade()
    s.dispose()
    return stores.stored_db(s.url)


def fresh_settings(directory: Path, database_url: str | None = None) -> Settings:
    return load_settings({}, database_url=database_url or f"sqlite:///{directory / 'parkwacht.db'}",
                         instance_dir=str(directory / "instance"), basemap="none", today=TEST_TODAY)


def fresh_store(template: Path | str, directory: Path) -> tuple[Store, Settings]:
    settings = fresh_settings(directory, stores.clone(template, directory))
    return Store(settings.database_url), settings


def copy_of(store: Store, directory: Path) -> tuple[Store, Settings]:
    """A private copy of an open store (a SQLite file's WAL is folded in first)."""
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return fresh_store(stores.stored_db(store.url), directory)


def import_world_parks(store: Store, settings: Settings, parks: list[dict[str, Any]]) -> dict[int, int]:
    """Import hand-made parks; returns {world id: store id}."""
    frame = gpd.GeoDataFrame({
        "source_id": [f"P{p['id']}" for p in parks],
        "name": [f"Park {p['id']}" for p in parks],
        "kind": ["bungalowpark"] * len(parks),
        "unit_count": [p.get("unit_count") for p in parks],
        "operator": [p.get("operator") for p in parks],
        "takeover_year": [p.get("takeover_year") for p in parks],
        "built_year_median": [p.get("built") for p in parks],
    }, geometry=[park_geom(p["cell"]) for p in parks], crs="EPSG:28992")
    result = import_park_frame(store, frame, settings=settings, source="test", crs="EPSG:28992")
    assert result.rejected == 0
    with store.connect() as conn:
        ids = dict(conn.execute(sa.select(schema.parks.c.source_id, schema.parks.c.id)).all())
    return {p["id"]: ids[f"P{p['id']}"] for p in parks}


def signal_records(rows: list[dict[str, Any]], cells: dict[int, int], start: int = 0) -> list[dict[str, Any]]:
    """World signals as API records: own signals inside their park, nearby ones north of it."""
    out = []
    for k, r in enumerate(rows):
        x = X0 + SPACING * cells[r["park_id"]] + SIDE / 2
        y = Y0 + SIDE / 2 if r["assignment"] != "nearby" else Y0 + SIDE + float(r["distance_m"])
        attrs = dict(r["attributes"])
        rec: dict[str, Any] = {"source_id": f"S{start + k}", "type": r["type"], "subtype": r["subtype"] or "",
                               "date": r["date"].isoformat(), "x": x, "y": y}
        for key in ("violation", "categories", "residents"):
            if key in attrs:
                rec[key] = attrs.pop(key)
        rec["attributes"] = attrs
        out.append(rec)
    return out


def import_world_signals(store: Store, settings: Settings, rows: list[dict[str, Any]], cells: dict[int, int],
                         start: int = 0) -> Any:
    result = import_signal_records(store, signal_records(rows, cells, start), settings=settings, source="test",
                                   crs="EPSG:28992")
    assert result.rejected == 0, result.as_dict()
    return result


# -- the demo region -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[tuple[Store, Settings]]:
    """The session's demo region in a store of its own (tests must not change it; copy it instead)."""
    store, settings = fresh_store(demo_db, tmp_path_factory.mktemp("demo"))
    yield store, settings
    store.dispose()


@pytest.fixture
def demo_copy(demo: tuple[Store, Settings], tmp_path: Path) -> Iterator[tuple[Store, Settings]]:
    """A private copy of the demo store that a test may score, break and lock."""
    store, settings = copy_of(demo[0], tmp_path)
    yield store, settings
    store.dispose()
