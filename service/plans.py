"""Visits planned together, and referrals to the social domain: the officers' step after the worklist.

A plan names the park, the day, the officers going (user ids) and the partner organisations joining, with a
purpose from the park's top reasons; recording the visit's outcome closes it. Referrals are counted per park
and domain (households, never persons) and never feed the risk score. No Flask here: pages call these.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from .auth import users as user_store
from .store import Store, schema

__all__ = ["PARTNERS", "REFERRAL_DOMAINS", "PlanError", "create_plan", "plans_for_officer", "plans_for_park",
           "get_plan", "close_plan", "plan_status_by_park", "add_referrals", "open_referrals", "referral_counts",
           "officers", "partner_keys", "last_visits", "ical"]

#: Partner organisations that may join a visit, unless ``PARKWACHT_VISIT_PARTNERS`` names others.
PARTNERS = ("gemeente_handhaving", "politie", "brandweer", "belastingdienst", "sociaal_domein")
#: What a visit may refer residents to the social domain for (counted per park; no persons, no traits).
REFERRAL_DOMAINS = ("dakloosheid", "uitbuiting_arbeidsmigranten", "schulden", "zorg")
_MAX_HOUSEHOLDS = 999


class PlanError(ValueError):
    """A plan or referral the store refuses (unknown park, officer or partner; a closed plan)."""


def partner_keys(configured: str = "") -> tuple[str, ...]:
    """The configured partner list (comma separated), or the default one."""
    keys = tuple(k.strip() for k in configured.split(",") if k.strip())
    return keys or PARTNERS


def officers(store: Store) -> list[dict[str, Any]]:
    """Active officers (id and name) an officer can plan a visit with."""
    return [{"id": u["id"], "name": u["name"]} for u in user_store.list_users(store)
            if u.get("role") == "officer" and u.get("active")]


def create_plan(store: Store, park_id: int, planned_for: dt.date, *, officer_ids: Sequence[int],
                partners: Sequence[str], purpose: str, created_by: int | None, allowed_partners: Sequence[str]) -> int:
    """Store a planned visit and return its id; unknown officers or partners are refused, never dropped."""
    if not officer_ids:
        raise PlanError("name at least one officer")
    unknown = [p for p in partners if p not in allowed_partners]
    if unknown:
        raise PlanError(f"unknown partner(s): {', '.join(unknown)}")
    known = {o["id"] for o in officers(store)}
    if any(int(o) not in known for o in officer_ids):
        raise PlanError("every officer must be an active officer")
    with store.begin() as conn:
        if conn.execute(sa.select(schema.parks.c.id).where(schema.parks.c.id == park_id)).first() is None:
            raise PlanError(f"park {park_id} does not exist")
        key = conn.execute(schema.visit_plans.insert().values(
            park_id=park_id, planned_for=planned_for, purpose=purpose[:80],
            officers=sorted({int(o) for o in officer_ids}), partners=list(dict.fromkeys(partners)),
            status="planned", created_by=created_by)).inserted_primary_key
        return int(key[0]) if key is not None else 0


def _rows(store: Store, where: Any) -> list[dict[str, Any]]:
    vp, p = schema.visit_plans, schema.parks
    q = (sa.select(vp, p.c.name.label("park_name"), p.c.municipality_name).join(p, p.c.id == vp.c.park_id)
         .where(where).order_by(vp.c.planned_for, vp.c.id))
    names = {o["id"]: o["name"] for o in user_store.list_users(store)}
    with store.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    for r in rows:
        r["officer_names"] = [names.get(int(i), f"#{i}") for i in (r["officers"] or [])]
    return rows


def plans_for_officer(store: Store, user_id: int, *, include_closed: bool = False) -> list[dict[str, Any]]:
    """The plans an officer goes on (or made), soonest first."""
    vp = schema.visit_plans
    rows = _rows(store, sa.true() if include_closed else vp.c.status == "planned")
    return [r for r in rows if int(user_id) in {int(i) for i in r["officers"] or []} or r["created_by"] == user_id]


def plans_for_park(store: Store, park_id: int) -> list[dict[str, Any]]:
    """A park's open plans, soonest first."""
    vp = schema.visit_plans
    return _rows(store, sa.and_(vp.c.park_id == park_id, vp.c.status == "planned"))


def get_plan(store: Store, plan_id: int) -> dict[str, Any] | None:
    rows = _rows(store, schema.visit_plans.c.id == plan_id)
    return rows[0] if rows else None


def close_plan(store: Store, plan_id: int, park_id: int, visit_id: str) -> bool:
    """Mark an open plan of ``park_id`` done by the visit ``visit_id`` (False: no such open plan)."""
    vp = schema.visit_plans
    with store.begin() as conn:
        done = conn.execute(vp.update().where(vp.c.id == plan_id, vp.c.park_id == park_id, vp.c.status == "planned")
                            .values(status="done", visit_id=visit_id, closed_at=dt.datetime.now(dt.UTC))).rowcount
    return bool(done)


def plan_status_by_park(store: Store) -> dict[int, dt.date]:
    """Park id -> the soonest open plan's date (the worklist's 'planned' filter)."""
    vp = schema.visit_plans
    with store.connect() as conn:
        rows = conn.execute(sa.select(vp.c.park_id, sa.func.min(vp.c.planned_for))
                            .where(vp.c.status == "planned").group_by(vp.c.park_id)).all()
    return {int(p): d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for p, d in rows}


def last_visits(store: Store, source: str) -> dict[int, dt.date]:
    """Park id -> the date of its latest recorded visit (signals of ``source``)."""
    s = schema.signals
    with store.connect() as conn:
        rows = conn.execute(sa.select(s.c.park_id, sa.func.max(s.c.date)).where(
            s.c.source == source, s.c.park_id.is_not(None)).group_by(s.c.park_id)).all()
    return {int(p): d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for p, d in rows}


def add_referrals(store: Store, park_id: int, visit_id: str, counts: dict[str, int], *, plan_id: int | None,
                  created_by: int | None) -> int:
    """Record households referred per domain on a visit (once per visit and domain); returns rows added."""
    bad = [d for d in counts if d not in REFERRAL_DOMAINS]
    if bad:
        raise PlanError(f"unknown referral domain(s): {', '.join(bad)}")
    r = schema.referrals
    added = 0
    with store.begin() as conn:
        for domain, n in counts.items():
            if not 0 < int(n) <= _MAX_HOUSEHOLDS:
                continue
            seen = conn.execute(sa.select(r.c.id).where(r.c.visit_id == visit_id, r.c.domain == domain)).first()
            if seen is None:
                conn.execute(r.insert().values(park_id=park_id, visit_id=visit_id, plan_id=plan_id, domain=domain,
                                               households=int(n), status="open", created_by=created_by))
                added += 1
    return added


def open_referrals(store: Store, park_id: int) -> dict[str, int]:
    """Open referrals of a park: households per domain (for the park page, so the right partner comes along)."""
    r = schema.referrals
    with store.connect() as conn:
        rows = conn.execute(sa.select(r.c.domain, sa.func.sum(r.c.households)).where(
            r.c.park_id == park_id, r.c.status == "open").group_by(r.c.domain)).all()
    return {str(d): int(n) for d, n in rows}


def referral_counts(store: Store) -> list[dict[str, Any]]:
    """Per park: open households per domain, for the social domain partners (no persons, no scores)."""
    r, p = schema.referrals, schema.parks
    with store.connect() as conn:
        rows = conn.execute(sa.select(r.c.park_id, p.c.name, p.c.municipality_name, r.c.domain,
                                      sa.func.sum(r.c.households)).join(p, p.c.id == r.c.park_id)
                            .where(r.c.status == "open").group_by(r.c.park_id, p.c.name, p.c.municipality_name,
                                                                  r.c.domain)).all()
    out: dict[int, dict[str, Any]] = {}
    for pid, name, muni, domain, n in rows:
        entry = out.setdefault(int(pid), {"park_id": int(pid), "park_name": name, "municipality": muni,
                                          "domains": {}})
        entry["domains"][str(domain)] = int(n)
    return sorted(out.values(), key=lambda e: (-sum(e["domains"].values()), e["park_name"] or ""))


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT escaping (backslash, semicolon, comma, newline)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> Iterable[str]:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    raw = line.encode()
    while len(raw) > 75:
        cut = 75
        while (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            cut -= 1
        yield raw[:cut].decode()
        raw = b" " + raw[cut:]
    yield raw.decode()


def ical(plans: Sequence[dict[str, Any]], *, host: str, summary: str, describe: Any, stamp: dt.datetime) -> str:
    """An iCalendar feed of plans as all-day events (``describe(plan)`` gives each event's text)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Parkwacht//Bezoeken//NL", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_text(summary)}"]
    for plan in plans:
        day = plan["planned_for"]
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        lines += ["BEGIN:VEVENT", f"UID:plan-{plan['id']}@{host}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
                  f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{_ics_text(str(plan['summary']))}", f"DESCRIPTION:{_ics_text(describe(plan))}",
                  f"STATUS:{'CONFIRMED' if plan['status'] == 'planned' else 'CANCELLED'}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(f"{part}\r\n" for line in lines for part in _fold(line))
