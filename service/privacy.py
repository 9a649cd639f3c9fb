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
    "person_count_factors",
    "suppressed_score",
    "suppressed_signals",
    "suppressed_summary",
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


def person_count_factors(factors: Any) -> set[str]:
    """Ids of a model's factors whose raw value counts persons (they read person-count signal types)."""
    return {f.id for f in factors if getattr(f.source, "type", None) in PERSON_COUNT_SIGNAL_TYPES}


def suppressed_score(score: dict[str, Any] | None, person_factors: set[str], role: str | None) -> dict[str, Any] | None:
    """A decomposed park score as ``role`` may see it: raw person counts of 1 to 4 become ``"< 5"``."""
    if score is None or sees_small_counts(role):
        return score
    factors = [{**f, "raw": suppress_count(f.get("raw"), role)} if f.get("id") in person_factors else f
               for f in score.get("factors", [])]
    return {**score, "factors": factors}


def suppressed_signals(rows: list[dict[str, Any]], role: str | None) -> list[dict[str, Any]]:
    """Signals as ``role`` may see them: the residents of a registration below 5 become ``"< 5"``."""
    if sees_small_counts(role):
        return rows
    out = []
    for row in rows:
        attrs = row.get("attributes") or {}
        if row.get("type") in PERSON_COUNT_SIGNAL_TYPES and "residents" in attrs:
            row = {**row, "attributes": {**attrs, "residents": suppress_count(attrs["residents"], role)}}
        out.append(row)
    return out


def suppressed_summary(summary: dict[str, dict[str, Any]], role: str | None) -> dict[str, dict[str, Any]]:
    """A park's signals per type as ``role`` may see them: fewer than 5 registrations show as ``"< 5"``."""
    if sees_small_counts(role):
        return summary
    return {t: ({**v, "count": suppress_count(v["count"], role)} if t in PERSON_COUNT_SIGNAL_TYPES else v)
            for t, v in summary.items()}
