"""The embedded demo region loads through the ordinary import pipeline, losing nothing."""
from __future__ import annotations

import sqlalchemy as sa

from service import vocab
from service.demo import load_demo
from service.store import schema


def test_demo_loads_completely_and_idempotently(store, settings) -> None:
    parks, signals = load_demo(store, settings)
    assert parks.rejected == 0 and parks.stored == parks.read == 240
    assert signals.rejected == 0 and signals.stored == signals.read
    assert signals.assignment["inside"] > 0 and signals.assignment["nearby"] > 0
    assert signals.assignment["unassigned"] > 0 and signals.assignment["explicit"] > 0
    with store.connect() as conn:
        types = set(conn.execute(sa.select(schema.signals.c.type).distinct()).scalars())
    assert types == set(vocab.SIGNAL_TYPES)
    again_parks, again_signals = load_demo(store, settings)
    assert again_parks.unchanged == 240 and again_signals.unchanged == signals.stored
