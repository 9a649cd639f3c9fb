"""Privacy by design in one place: small counts suppressed for non-admins, personal traits never kept.

Counts that stand for persons (registered residents, from ``registration`` signals) below
:data:`SUPPRESS_BELOW` are shown as ``"< 5"`` to everyone but an admin, CBS-style, in pages, the API and
exports alike (the API and exports call :func:`suppress_count`). A zero is shown: no person stands behind it.
Personal-trait columns (:func:`service.vocab.personal_trait`) are dropped before anything is stored,
rejected raw rows included (:func:`drop_personal_traits`).
"""
from __future__ import annotations

from typing import Any

from .vocab import personal_trait

__all__ = [
    "SUPPRESS_BELOW",
    "SUPPRESSED",
    "PERSON_COUNT_SIGNAL_TYPES",
    "sees_small_counts",
    "suppress_count",
    "drop_personal_traits",
]

#: Counts of persons from 1 up to this (exclusive) are not shown to non-admins.
SUPPRESS_BELOW = 5
#: What is shown instead.
SUPPRESSED = f"< {SUPPRESS_BELOW}"
#: Signal types whose numbers count persons (a registration carries the residents on a park's addresses).
PERSON_COUNT_SIGNAL_TYPES: tuple[str, ...] = ("registration",)


def sees_small_counts(role: str | None) -> bool:
    """Only an admin sees small person counts as they are (for checking the data, never for a page)."""
    return role == "admin"


def suppress_count(n: float | int | None, role: str | None) -> float | int | str | None:
    """``n`` as shown to ``role``: ``"< 5"`` for a count of 1 to 4 (or a change of less than 5) to non-admins.

    >>> suppress_count(3, "analyst"), suppress_count(3, "admin"), suppress_count(12, "officer")
    ('< 5', 3, 12)
    >>> suppress_count(0, "officer"), suppress_count(None, "officer"), suppress_count(-2, "officer")
    (0, None, '< 5')
    """
    if n is None or sees_small_counts(role):
        return n
    if 0 < abs(n) < SUPPRESS_BELOW:
        return SUPPRESSED
    return n


def drop_personal_traits(value: Any) -> Any:
    """``value`` without any key that names a personal trait, at any depth (dicts inside lists too).

    >>> drop_personal_traits({"source_id": "r1", "nationality": "x", "attributes": {"religie": "y", "team": 2}})
    {'source_id': 'r1', 'attributes': {'team': 2}}
    """
    if isinstance(value, dict):
        return {k: drop_personal_traits(v) for k, v in value.items() if not personal_trait(k)}
    if isinstance(value, list):
        return [drop_personal_traits(v) for v in value]
    return value
