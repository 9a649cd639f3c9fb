"""The batch bookkeeping of an import: its accounting invariant holds without ``assert``."""
from __future__ import annotations

import pytest

from service.ingest.batches import ImportResult


def test_accounting_invariant_is_checked_with_an_explicit_error() -> None:
    ok = ImportResult(batch_id=1, kind="signals", source="s", read=5, stored=3, created=2, updated=1,
                      rejected=1, unchanged=1)
    ok.check()
    with pytest.raises(RuntimeError, match="read != stored"):
        ImportResult(batch_id=1, kind="signals", source="s", read=5, stored=3, created=3).check()
    with pytest.raises(RuntimeError, match="stored != created"):
        ImportResult(batch_id=1, kind="signals", source="s", read=3, stored=3, created=1).check()
