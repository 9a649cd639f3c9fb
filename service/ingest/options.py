"""Import options checked before a file is read: a typo is one line naming the valid choices, not a batch of
rejected rows (or a traceback)."""
from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

from ..vocab import SIGNAL_TYPES
from .errors import FileRefused, UnknownOption

__all__ = ["check_encoding", "check_signal_type", "check_mapping", "check_mapped_columns", "check_file_encoding",
           "ENCODING_EXAMPLES"]

ENCODING_EXAMPLES = "utf-8, cp1252, latin-1, utf-16"
#: Bytes of a text file decoded to check an encoding before the file is read.
_HEAD = 1 << 16


def check_encoding(encoding: str | None) -> str | None:
    """The encoding's canonical name; an unknown one is refused with examples of known ones."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise UnknownOption(f"unknown text encoding {encoding!r}; use one Python knows, e.g. "
                            f"{ENCODING_EXAMPLES}") from None


def check_file_encoding(path: Path, encoding: str) -> None:
    """Refuse a text file that is plainly not in ``encoding`` (UTF-16 given for an 8-bit file, and the like).

    The head of the file must decode, and read as text it must hold line breaks (a CSV does).
    """
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        text = decoder.decode(head, final=len(head) < _HEAD)
    except UnicodeError as exc:  # UnicodeDecodeError, and UTF-16's "stream does not start with BOM"
        if encoding.replace("_", "-") in {"utf-8", "utf8"}:
            return  # rows with bytes that are not UTF-8 are rejected one by one, with a hint
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        why = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise FileRefused(f"{path.name} is not {encoding} text ({why}{where}); check --encoding "
                          f"(e.g. {ENCODING_EXAMPLES})") from None
    if len(head) > 200 and "\n" not in text and "\r" not in text:
        raise FileRefused(f"{path.name} read as {encoding} has no line breaks: it is not {encoding} text; check "
                          f"--encoding (e.g. {ENCODING_EXAMPLES})")


def check_signal_type(signal_type: str | None) -> str | None:
    """``--type`` must be one of the vocabulary's signal types."""
    if signal_type is None:
        return None
    if signal_type not in SIGNAL_TYPES:
        raise UnknownOption(f"unknown signal type {signal_type!r}; known: {', '.join(SIGNAL_TYPES)}")
    return signal_type


def check_mapping(mapping: dict[str, str] | None, targets: Iterable[str], kind: str) -> dict[str, str]:
    """``--map FIELD=COLUMN``: every FIELD must be a field Parkwacht knows for ``kind``."""
    known = tuple(targets)
    for target, column in (mapping or {}).items():
        if target not in known:
            raise UnknownOption(f"--map {target}={column}: {target!r} is not a {kind} field; "
                                f"fields: {', '.join(known)}")
        if not column:
            raise UnknownOption(f"--map {target}=: name the column {target!r} is read from")
    return dict(mapping or {})


def check_mapped_columns(mapping: dict[str, str], columns: Iterable[str], name: str) -> None:
    """Every column a ``--map`` names must be in the file (a typo would silently read nothing)."""
    have = list(columns)
    missing = {t: c for t, c in mapping.items() if c not in have}
    if missing:
        wrong = ", ".join(f"--map {t}={c}" for t, c in missing.items())
        raise FileRefused(f"{name} has no column for {wrong}; its columns: {', '.join(have)}")
