"""Import of parks and signals: readers, presets, row validation and the batch pipeline.

An import reads a source in chunks, validates each (:mod:`.validate_parks`, :mod:`.validate_signals`),
assigns signals to parks (:mod:`.assign`) and upserts the clean rows, all as one batch in one transaction
(:mod:`.batches`). No single row can abort it: every error GEOS, PROJ or a value raises becomes that row's
rejection with a reason (:mod:`.park_geometry`, :mod:`.jsonvalues`); a file whose coordinates contradict its
CRS is refused as a whole before anything is written (:mod:`.crs_check`). ``--snapshot`` keeps a source in
sync (:mod:`.sync`); boundaries are a source too (:mod:`.areas`). The reads of batches live in
:mod:`service.reads`; they are re-exported here for now.
"""
from __future__ import annotations

from ..reads.batches import iter_batches, rejected_rows
from .areas import import_areas
from .assign import build_park_index, reassign_signals
from .batches import ImportResult
from .errors import FileRefused, ImportConflict, ImportFailed, IngestError, UnknownOption
from .parks import import_park_frame, import_parks
from .presets import PRESETS, get_preset
from .signals import import_signal_frame, import_signal_records, import_signals
from .sync import fail_stale_batches

__all__ = [
    "PRESETS",
    "FileRefused",
    "ImportConflict",
    "ImportFailed",
    "ImportResult",
    "IngestError",
    "UnknownOption",
    "build_park_index",
    "fail_stale_batches",
    "get_preset",
    "import_areas",
    "import_park_frame",
    "import_parks",
    "import_signal_frame",
    "import_signal_records",
    "import_signals",
    "iter_batches",
    "reassign_signals",
    "rejected_rows",
]
