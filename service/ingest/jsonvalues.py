"""Attributes as strict JSON (RFC 8259), bounded in size, checked row by row before anything is stored.

Python's ``json`` accepts ``Infinity`` and ``NaN`` and SQLite stores them in a JSON column, but SQLite's own
JSON functions (which scoring reads attributes with) then refuse the row, and every score run after it fails.
So a non-finite number anywhere in a row's attributes is that row's rejection, with the path to the value.
Keys are bounded per row and per import, so the cost of a request stays linear in its size.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "MAX_DEPTH",
    "MAX_KEYS_PER_ROW",
    "MAX_KEYS_PER_IMPORT",
    "KeyBudget",
    "strict",
    "NotStrict",
]

#: Nesting levels an attribute value may have (an object in a list in an object is three).
MAX_DEPTH = 8
#: Keys a row's attributes may have, counted at every level.
MAX_KEYS_PER_ROW = 200
#: Distinct top-level attribute keys one import (a file or an API request) may introduce.
MAX_KEYS_PER_IMPORT = 1_000
#: Longest text kept in an attribute value (longer text is cut, saying how long it was).
MAX_TEXT = 10_000

_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: Surrogates that do not stand for an undecodable byte (``surrogateescape`` uses U+DC80..U+DCFF only).
_LONE = re.compile(r"[\ud800-\udc7f\udd00-\udfff]")


class NotStrict(ValueError):
    """A value strict JSON cannot hold; ``str(exc)`` is the reason, naming where the value sits."""


def _text(value: str) -> str:
    """Text as every store can hold it: undecodable bytes, lone surrogates and NUL (which PostgreSQL's JSONB
    refuses) shown as escapes, very long text cut."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if _SURROGATE.search(value):
        value = _LONE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT] + f"... ({len(value)} characters)"
    return value


@dataclass
class _Walk:
    """Counts keys while a value is made strict."""

    keys: int = 0


def _strict(value: Any, path: str, depth: int, walk: _Walk) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return _text(value) if isinstance(value, str) else value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise NotStrict(f"attribute {path or 'value'} is {number!r}, a number JSON cannot hold (RFC 8259 "
                            "allows only finite numbers); leave it empty or give a finite number")
        return number
    if isinstance(value, np.bool_):
        return bool(value)
    if depth >= MAX_DEPTH and isinstance(value, (dict, list, tuple)):
        raise NotStrict(f"attribute {path} nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        walk.keys += len(value)
        if walk.keys > MAX_KEYS_PER_ROW:
            raise NotStrict(f"attributes have more than {MAX_KEYS_PER_ROW} keys (at every level); keep fewer")
        return {_text(str(k)): _strict(v, f"{path}.{k}" if path else str(k), depth + 1, walk)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(value)
        walk.keys += len(items)
        if walk.keys > MAX_KEYS_PER_ROW:
            raise NotStrict(f"attributes have more than {MAX_KEYS_PER_ROW} values in lists and keys; keep fewer")
        return [_strict(v, f"{path}[{i}]", depth + 1, walk) for i, v in enumerate(items)]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _text(bytes(value).hex())
    if hasattr(value, "isoformat"):  # pandas Timestamp and friends
        return str(value.isoformat())
    return _text(str(value))


def strict(attributes: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` as strict JSON values (numpy scalars to Python, dates to ISO text, bad text escaped).

    Raises :class:`NotStrict` naming the first value strict JSON cannot hold, or a size bound exceeded.
    """
    return _strict(attributes, "", 0, _Walk())


@dataclass
class KeyBudget:
    """The distinct top-level attribute keys an import has introduced, bounded by :data:`MAX_KEYS_PER_IMPORT`."""

    limit: int = MAX_KEYS_PER_IMPORT
    seen: set[str] = field(default_factory=set)

    def admit(self, keys: Iterable[str]) -> str | None:
        """Take a row's keys; the reason the row is refused when they would exceed the import's budget."""
        new = [k for k in keys if k not in self.seen]
        if not new:
            return None
        if len(self.seen) + len(new) > self.limit:
            return (f"this import already has {len(self.seen)} different attribute keys and this row would add "
                    f"{len(new)} more (at most {self.limit} per file or request); use fewer distinct keys or "
                    "split the import")
        self.seen.update(new)
        return None
