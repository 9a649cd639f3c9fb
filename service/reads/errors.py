"""Typed errors of the read layer."""
from __future__ import annotations

__all__ = ["NotFound"]


class NotFound(KeyError):
    """A thing asked for by id does not exist; the HTTP edge maps it to 404.

    A :class:`LookupError` through :class:`KeyError`, so callers that still catch ``KeyError`` keep working.
    ``args[0]`` is a message a person can read.
    """

    def __str__(self) -> str:
        # KeyError's own __str__ shows the repr of its argument (quotes included); a message reads better.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()
