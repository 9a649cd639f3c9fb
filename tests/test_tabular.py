"""Spreadsheet-safe CSV."""
from __future__ import annotations

import csv
import doctest
import io

import pytest

from service import tabular


@pytest.mark.parametrize("value", ["=HYPERLINK(\"x\")", "+31", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(value: str) -> None:
    assert tabular.safe_cell(value).startswith("'")


def test_every_field_is_quoted_and_reads_back() -> None:
    text = "".join(tabular.csv_lines(["naam", "score"], [["De Vos; Zn, \"x\"", 41.5], ["=evil", -1.5]], numeric=[1]))
    assert text.splitlines()[1] == '"De Vos; Zn, ""x""","41.5"'
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["naam", "score"], ["De Vos; Zn, \"x\"", "41.5"], ["'=evil", "-1.5"]]
    semicolon = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert all(not cell.lstrip('"').startswith(("=", "+", "@")) for row in semicolon for cell in row)


def test_doctests() -> None:
    assert doctest.testmod(tabular).failed == 0
