"""Import of parks and signals: readers, presets, row validation and the batch pipeline."""
from .errors import FileRefused, ImportFailed, IngestError
from .pipeline import (
    ImportResult,
    build_park_index,
    import_park_frame,
    import_parks,
    import_signal_records,
    import_signal_frame,
    import_signals,
    iter_batches,
    reassign_signals,
    rejected_rows,
)
from .presets import PRESETS, get_preset

__all__ = [
    "FileRefused", "ImportFailed", "IngestError", "ImportResult", "build_park_index", "import_park_frame",
    "import_parks", "import_signal_records", "import_signal_frame", "import_signals", "iter_batches", "reassign_signals",
    "rejected_rows", "PRESETS", "get_preset",
]
