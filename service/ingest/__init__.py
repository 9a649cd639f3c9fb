"""Import of parks and signals: readers, presets, row validation and the batch pipeline.

An import reads a source in chunks, validates each (:mod:`.validate_parks`, :mod:`.validate_signals`),
assigns signals to parks (:mod:`.assign`) and upserts the clean rows, all as one batch in one transaction
(:mod:`.batches`). The reads of batches live in :mod:`service.reads`; they are re-exported here for now.
"""
from __future__ import annotations

from ..reads.batches import iter_batches, rejected_rows
from .assign import build_park_index, reassign_signals
from .batches import ImportResult
from .errors import FileRefused, ImportFailed, IngestError
from .parks import import_park_frame, import_parks
from .presets import PRESETS, get_preset
from .signals import import_signal_frame, import_signal_records, import_signals

__all__ = [
    "PRESETS",
    "FileRefused",
    "ImportFailed",
    "ImportResult",
    "IngestError",
    "build_park_index",
    "get_preset",
    "import_park_frame",
    "import_parks",
    "import_signal_frame",
    "import_signal_records",
    "import_signals",
    "iter_batches",
    "reassign_signals",
    "rejected_rows",
]
