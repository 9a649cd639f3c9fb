"""Typed errors of the import: the edge (CLI, API) turns them into messages and status codes."""
from __future__ import annotations

__all__ = ["IngestError", "FileRefused", "ImportFailed", "ImportConflict", "UnknownOption"]


class IngestError(Exception):
    """Base class: an import could not be done; ``str(exc)`` is a message a person can act on."""


class FileRefused(IngestError):
    """The file as a whole cannot be read (not geodata, empty, no CRS, missing column, ...).

    Nothing is stored; the batch is recorded as failed with this message.
    """


class UnknownOption(IngestError):
    """An import option names something Parkwacht does not know (a preset, a signal type, ...).

    Raised before the file is read, with the valid choices in the message.
    """


class ImportFailed(IngestError):
    """The import broke off half-way; its transaction was rolled back, nothing of it is stored."""

    def __init__(self, message: str, batch_id: int | None = None) -> None:
        super().__init__(message)
        self.batch_id = batch_id


class ImportConflict(ImportFailed):
    """Another import stored some of the same ids at the same moment; this one was rolled back.

    Sending it again is safe: the rows the other import stored are then found (unchanged or updated).
    """
