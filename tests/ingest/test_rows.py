"""Row verdicts: the first reason wins, lazy reasons are phrased for the rejected rows only."""
from __future__ import annotations

import numpy as np
import pandas as pd

from service.ingest.readers import Chunk
from service.ingest.rows import Rejections, SeenIds, check_duplicates, check_utf8, each, json_safe


def test_first_reason_wins_and_records_keep_the_raw_row() -> None:
    rej = Rejections(3)
    rej.add(np.array([True, False, False]), "a", "first")
    rej.add(np.array([True, True, False]), "b", "second")
    assert rej.ok.tolist() == [False, False, True]
    chunk = Chunk(10, pd.DataFrame({"v": ["x", "y", "z"]}, dtype=object))
    assert rej.records(chunk) == [
        {"row_number": 10, "field": "a", "reason": "first", "raw": {"v": "x"}},
        {"row_number": 11, "field": "b", "reason": "second", "raw": {"v": "y"}},
    ]


def test_lazy_reason_is_phrased_for_rejected_rows_only() -> None:
    asked: list[str] = []
    values = pd.Series(["a", "b", "c"], dtype=object)
    rej = Rejections(3)
    rej.add(np.array([False, True, False]), "f", each(values, lambda v: asked.append(v) or f"bad {v}"))
    assert asked == ["b"] and rej.reason.tolist() == [None, "bad b", None]


def test_duplicates_point_at_the_first_row_and_skip_rejected_rows() -> None:
    rej = Rejections(4)
    rej.add(np.array([True, False, False, False]), "x", "earlier reason")
    seen = SeenIds()
    check_duplicates(np.array(["a", "a", "h:1", "h:1"], dtype=object), np.arange(1, 5), seen, rej)
    assert rej.reason.tolist() == ["earlier reason", None, None,
                                   "row repeats row 3 exactly (same geometry and values)"]
    assert len(seen) == 2 and (seen.first_row("a"), seen.first_row("h:1")) == (2, 3)
    later = Rejections(2)  # the next chunk: a repeat of an earlier chunk's id points back to it
    check_duplicates(np.array(["b", "a"], dtype=object), np.arange(5, 7), seen, later)
    assert later.reason.tolist() == [None, "duplicate id 'a' in this file (first on row 2)"]


def test_json_safe_keeps_bad_bytes_as_escapes() -> None:
    assert json_safe("Caf\udce9") == "Caf\\xe9"
    assert json_safe(float("nan")) is None and json_safe(np.int64(3)) == 3


def test_ok_is_a_copy_that_follows_every_reason() -> None:
    rej = Rejections(4)
    ok = rej.ok
    ok[0] = False  # a caller's copy: changing it rejects nothing
    assert rej.ok.tolist() == [True, True, True, True]
    rej.add(np.array([False, True, False, False]), "x", "first")
    rej.add(np.array([False, True, True, False]), "y", lambda pos: [f"second {p}" for p in pos])
    assert rej.ok.tolist() == [True, False, False, True]
    assert rej.reason.tolist() == [None, "first", "second 2", None]


def test_utf8_check_finds_a_surrogate_among_other_non_ascii_text_and_passes_plain_text() -> None:
    frame = pd.DataFrame({"a": ["café", "ok", "bad\udce9"], "b": ["plain", "ascii", "text"],
                          "c": ["Zoë", "München", "ß"]}, dtype=object)
    rej = Rejections(3)
    check_utf8(frame, rej, encoding_hint=False)
    assert rej.ok.tolist() == [True, True, False]
    assert rej.field.tolist() == [None, None, "a"]
