"""The tables of the store (SQLAlchemy Core).

Geometry is kept in EPSG:28992 as WKB with its bounding box in plain columns, so the same schema runs on
SQLite without extensions and on PostgreSQL (where PostGIS can add a geometry column from the WKB).
Signals keep their RD coordinates as two floats: points need nothing more and bulk inserts stay cheap.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..vocab import ASSIGNMENTS, PARK_KINDS, ROLES

__all__ = [
    "metadata",
    "parks",
    "signals",
    "import_batches",
    "rejected_rows",
    "import_changes",
    "score_runs",
    "park_scores",
    "score_locks",
    "score_updates",
    "areas",
    "AREA_LEVELS",
    "current",
    "users",
    "api_tokens",
    "audit_log",
    "backtests",
]

naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=naming)


def current(table: sa.Table) -> sa.ColumnElement[bool]:
    """The rows of ``table`` that are current: not retired by a snapshot of their source (``retired_at`` empty).

    The one place that says what "current" means; reads, scoring and the park index all filter with it.
    """
    return table.c.retired_at.is_(None)


def _one_of(column: str, words: tuple[str, ...]) -> str:
    """A CHECK constraint's text: ``column`` holds one of the vocabulary's ``words``."""
    return f"{column} in ({','.join(repr(w) for w in words)})"


_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_now = sa.func.current_timestamp()

import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # parks | signals
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("filename", sa.String(500)),
    sa.Column("preset", sa.String(50)),
    sa.Column("status", sa.String(16), nullable=False),  # running | done | failed
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stored", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("options", _json),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),  # a running batch beats; a stale one has died
    sa.Column("pid", sa.Integer),  # who runs it: a batch whose process is gone is recorded as failed
    sa.Column("host", sa.String(255)),
    sa.Column("retired", sa.Integer, nullable=False, server_default="0"),  # rows a --snapshot retired
    sa.Column("revived", sa.Integer, nullable=False, server_default="0"),  # retired rows a snapshot holds again
)

rejected_rows = sa.Table(
    "rejected_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("field", sa.String(100)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", _json),
    sa.Index("ix_rejected_rows_batch", "batch_id", "row_number"),
)

import_changes = sa.Table(
    "import_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False),
    sa.Column("entity", sa.String(16), nullable=False),  # park | signal
    sa.Column("entity_id", sa.Integer, nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.Column("changes", _json, nullable=False),  # {field: [old, new]}
    sa.Index("ix_import_changes_batch", "batch_id"),
)

parks = sa.Table(
    "parks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.Column("name", sa.String(200)),
    sa.Column("kind", sa.String(20), nullable=False, server_default="unknown"),
    sa.Column("municipality_code", sa.String(6)),
    sa.Column("municipality_name", sa.String(100)),
    sa.Column("province", sa.String(50)),
    sa.Column("unit_count", sa.Integer),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("operator", sa.String(200)),
    sa.Column("takeover_year", sa.Integer),
    sa.Column("attributes", _json),
    sa.Column("geom_wkb", sa.LargeBinary, nullable=False),  # EPSG:28992
    sa.Column("minx", sa.Float, nullable=False),
    sa.Column("miny", sa.Float, nullable=False),
    sa.Column("maxx", sa.Float, nullable=False),
    sa.Column("maxy", sa.Float, nullable=False),
    sa.Column("row_hash", sa.String(40), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("retired_at", sa.DateTime(timezone=True)),  # gone from its source's latest snapshot
    sa.Column("retired_by", sa.Integer),  # the batch whose snapshot retired it
    sa.UniqueConstraint("source", "source_id", name="uq_parks_source_id"),
    sa.CheckConstraint(_one_of("kind", PARK_KINDS), name="kind"),
    sa.Index("ix_parks_municipality", "municipality_code"),
    sa.Index("ix_parks_bbox", "minx", "miny", "maxx", "maxy"),
    # Added by 0007: the data-version check on every API request reads these two columns of every park; a
    # covering index spares it the table's pages with their geometries (1.35 ms -> 0.27 ms for 3,770 parks).
    sa.Index("ix_parks_updated", "updated_at", "retired_at"),
)

signals = sa.Table(
    "signals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("subtype", sa.String(100)),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("x", sa.Float),  # EPSG:28992
    sa.Column("y", sa.Float),
    sa.Column("park_id", sa.Integer, sa.ForeignKey("parks.id", ondelete="SET NULL")),
    sa.Column("assignment", sa.String(12), nullable=False),
    sa.Column("distance_m", sa.Float),
    sa.Column("attributes", _json),
    sa.Column("row_hash", sa.String(40), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("retired_at", sa.DateTime(timezone=True)),  # gone from its source's latest snapshot
    sa.Column("retired_by", sa.Integer),  # the batch whose snapshot retired it
    sa.UniqueConstraint("source", "source_id", name="uq_signals_source_id"),
    sa.CheckConstraint(_one_of("assignment", ASSIGNMENTS), name="assignment"),
    sa.Index("ix_signals_park_date", "park_id", "date"),
    sa.Index("ix_signals_type_date", "type", "date"),
)

score_runs = sa.Table(
    "score_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_version", sa.String(50), nullable=False),
    sa.Column("model_hash", sa.String(64), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running | published | superseded | failed
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("input_counts", _json),
    sa.Column("timings", _json),
    sa.Column("error", sa.Text),
    # Added by 0002 (scoring): the model text itself (so an incremental update and an audit use exactly the
    # published model), the run it superseded, and who ran it (pid, host, heartbeat: a killed run is found).
    sa.Column("model_text", sa.Text),
    sa.Column("model_path", sa.String(500)),
    sa.Column("previous_run_id", sa.Integer),
    sa.Column("pid", sa.Integer),
    sa.Column("host", sa.String(255)),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    # At most one published run, enforced by the database itself (partial unique index, SQLite and PostgreSQL).
    sa.Index("uq_score_runs_published", "status", unique=True,
             sqlite_where=sa.text("status = 'published'"), postgresql_where=sa.text("status = 'published'")),
)

park_scores = sa.Table(
    "park_scores",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("park_id", sa.Integer, sa.ForeignKey("parks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("risk_class", sa.String(10), nullable=False),
    sa.Column("themes", _json),
    sa.Column("factors", _json),
    sa.Column("freshness", _json),
    sa.Column("change", sa.Float),
    sa.Column("hotspot", sa.String(5)),
    sa.Column("hotspot_p", sa.Float),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    # Added by 0002 (scoring): the score of the previous published run, the first-pass points that feed the
    # neighbours' spatial lag, and whether an incremental update rewrote the row in place.
    sa.Column("previous_score", sa.Float),
    sa.Column("base_points", sa.Float),
    sa.Column("incremental", sa.Boolean, nullable=False, server_default=sa.false()),
    # Added by 0006: the date this park's score counts signals up to (a live incremental update moves it to
    # today; a full run sets every park to the run's as-of date). Empty on older rows: the run's date.
    sa.Column("as_of", sa.Date),
    sa.Index("ix_park_scores_park", "park_id", "run_id"),
)

#: One row per named lock (``score``): taking it is an INSERT, so two processes (or two hosts sharing a
#: PostgreSQL store) can never both hold it. pid, host and heartbeat let a later run recognise a dead holder.
score_locks = sa.Table(
    "score_locks",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.Integer),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
)

#: Audit of incremental updates: which parks were asked for, which rows of the published run were
#: rewritten, and each rewritten park's score before and after.
score_updates = sa.Table(
    "score_updates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("score_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("reason", sa.String(200)),
    sa.Column("requested", _json),
    sa.Column("rescored", _json),
    sa.Column("changes", _json),  # {park_id: [old score, new score, old class, {factor: old points}]}
    sa.Column("seconds", sa.Float),
    sa.Index("ix_score_updates_run", "run_id", "id"),
)

#: Levels of administrative areas.
AREA_LEVELS = ("municipality", "province")

areas = sa.Table(
    "areas",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("code", sa.String(10), nullable=False),  # CBS code: GM0513, PV25
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("geom_wkb", sa.LargeBinary, nullable=False),  # EPSG:28992
    sa.Column("minx", sa.Float, nullable=False),
    sa.Column("miny", sa.Float, nullable=False),
    sa.Column("maxx", sa.Float, nullable=False),
    sa.Column("maxy", sa.Float, nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.UniqueConstraint("level", "code", name="uq_areas_level_code"),
    sa.CheckConstraint(_one_of("level", AREA_LEVELS), name="level"),
)

# -- users, tokens, the audit trail (0004) -----------------------------------------------------------------
#: People and API clients. A password (argon2id) is for the web login; API clients use bearer tokens.
#: ``session_version`` is part of every web session: raising it (logout, password change, disabling) ends
#: every session of the user at once, although the sessions themselves live in signed cookies.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("name", name="uq_users_name"),
    sa.CheckConstraint(_one_of("role", ROLES), name="role"),
)

#: Bearer tokens, stored only as SHA-256 hashes (a token is 256 random bits, so a fast hash is enough).
#: ``sources`` are the signal sources the token may write; ``prefix`` lets a person tell tokens apart.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("sources", _json),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    sa.Index("ix_api_tokens_user", "user_id"),
)

#: Append-only: who did or looked at what, when, from where. Migration 0004 adds triggers that refuse
#: UPDATE and DELETE (and TRUNCATE on PostgreSQL); no code path changes a row.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("user_name", sa.String(100)),
    sa.Column("user_id", sa.Integer),  # no foreign key: the trail outlives the user
    sa.Column("role", sa.String(16)),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("target", sa.String(200)),
    sa.Column("client", sa.String(64)),
    sa.Column("detail", _json),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_action", "action", "at"),
    sa.Index("ix_audit_log_user", "user_name", "at"),
)

#: Recorded backtests (``parkwacht backtest --record``): the model card shows the latest.
backtests = sa.Table(
    "backtests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("horizon_days", sa.Integer, nullable=False),
    sa.Column("model_version", sa.String(50), nullable=False),
    sa.Column("model_hash", sa.String(64), nullable=False),
    sa.Column("result", _json, nullable=False),
)

#: Visits planned together (0006): the park, the day, the officers going (user ids) and the partner
#: organisations joining, with a purpose from the park's top reasons. Recording the outcome closes the plan.
visit_plans = sa.Table(
    "visit_plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("park_id", sa.Integer, sa.ForeignKey("parks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("planned_for", sa.Date, nullable=False),
    sa.Column("purpose", sa.String(80), nullable=False),
    sa.Column("officers", _json, nullable=False),
    sa.Column("partners", _json, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="planned"),  # planned | done | cancelled
    sa.Column("visit_id", sa.String(64)),
    sa.Column("created_by", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Index("ix_visit_plans_park", "park_id", "status"),
    sa.Index("ix_visit_plans_date", "planned_for"),
)

#: Referrals to the social domain found on a visit (0006): counted per park and domain, never naming persons
#: and never part of the risk score. Open until the social domain closes them.
referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("park_id", sa.Integer, sa.ForeignKey("parks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("visit_id", sa.String(64), nullable=False),
    sa.Column("plan_id", sa.Integer),
    sa.Column("domain", sa.String(40), nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column("status", sa.String(8), nullable=False, server_default="open"),  # open | closed
    sa.Column("created_by", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Index("ix_referrals_park", "park_id", "status"),
)
