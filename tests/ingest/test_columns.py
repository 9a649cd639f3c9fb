"""Column access for validation: clean text, numbers with a decimal comma, Dutch dates, stable ids."""
from __future__ import annotations

import numpy as np
import pandas as pd

from service.ingest.columns import clean_text, column, mapped_names, numbers, parse_dates, source_ids
from service.ingest.presets import get_preset


def test_column_prefers_override_then_preset_then_target_name() -> None:
    frame = pd.DataFrame({"naam": ["a"], "name": ["b"], "eigen": ["c"]})
    preset = get_preset("top10nl", "parks")
    assert column(frame, preset, "name", {})[0] == "a"
    assert column(frame, preset, "name", {"name": "eigen"})[0] == "c"
    assert column(frame, get_preset(None, "parks"), "name", {})[0] == "b"
    assert column(frame, preset, "operator", {}) is None
    assert mapped_names(preset, {"name": "eigen"}, ("name", "kind", "wkt")) == {"eigen", "functie", "wkt"}


def test_clean_text_strips_and_drops_control_characters() -> None:
    assert clean_text(pd.Series([" a\x01b ", None, 3.0], dtype=object), 3).tolist() == ["ab", "", "3"]
    assert clean_text(None, 2).tolist() == ["", ""]


def test_numbers_accept_a_decimal_comma_and_flag_text() -> None:
    values, bad = numbers(pd.Series(["1,5", "", "abc", "2"], dtype=object))
    assert np.isnan(values[1]) and values[0] == 1.5 and values[3] == 2
    assert bad.tolist() == [False, False, True, False]


def test_dates_iso_then_day_first() -> None:
    got = parse_dates(pd.Series(["2024-06-28", "28-06-2024", "28/06/2024", "28.06.2024", "x"], dtype=object))
    assert got[:4].tolist() == [pd.Timestamp("2024-06-28")] * 4 and pd.isna(got[4])


def test_missing_ids_are_derived_from_the_row_content() -> None:
    content = pd.Series(["r1", "r2", "r1"], dtype=object)
    ids = source_ids(pd.Series(["given", "", ""], dtype=object), lambda: content, 3)
    assert ids[0] == "given" and ids[1].startswith("h:") and ids[1] != ids[2]
    again = source_ids(None, lambda: content, 3)
    assert again[0] == again[2]
