"""Settings: the one place where Parkwacht reads its configuration.

Every setting comes from an environment variable ``PARKWACHT_<NAME>`` with a default
that works on a fresh checkout (an embedded SQLite file under ``instance/``).
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["Settings", "PROJECT_ROOT", "load_settings", "DEFAULT_SECRET_KEY", "ENVIRONMENTS"]

#: The checkout (or installation) root: the folder holding ``service/`` and ``geodata/``.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


#: The secret of a fresh checkout: fine on a laptop, refused in production (:func:`service.app.create_app`).
DEFAULT_SECRET_KEY = "dev-only-change-me"
#: Where Parkwacht runs; only ``development`` accepts plain-HTTP cookies and the default secret.
ENVIRONMENTS = ("development", "production")


def _default_sample_data() -> str:
    """The real sample data lives beside the project, never inside it."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return str(candidate) if candidate.is_dir() else ""


@dataclass(frozen=True)
class Settings:
    """All run-time settings. Build with :func:`load_settings`; override with ``replace``."""

    #: SQLAlchemy URL of the store. SQLite by default; PostgreSQL+PostGIS is supported by the schema.
    database_url: str = ""
    #: Folder for the SQLite file, caches and other instance data.
    instance_dir: str = str(PROJECT_ROOT / "instance")
    #: Folder with the real sample data (empty: not available).
    sample_data: str = field(default_factory=_default_sample_data)
    #: A located signal outside every park is assigned to the nearest park within this distance.
    nearby_distance_m: float = 250.0
    #: The risk model file (factors, weights, thresholds).
    model_path: str = str(PROJECT_ROOT / "geodata" / "model.toml")
    #: Basemap of the web maps: ``pdok``, ``osm`` or ``none`` (offline).
    basemap: str = "pdok"
    #: Rows read per chunk when importing; bounds memory for files larger than memory.
    import_chunk_rows: int = 200_000
    #: Longest park or signal name accepted; longer names are rejected, not cut.
    max_name_length: int = 200
    #: Larger park polygons are refused as implausible unless an import says ``--allow-large`` (the largest
    #: of the 3,770 real Dutch parks is 1.3 km²).
    max_park_area_km2: float = 5.0
    #: Secret for signing web sessions; outside development the app refuses to start with the default.
    secret_key: str = DEFAULT_SECRET_KEY
    #: Seed of the embedded demo region.
    demo_seed: int = 20240601
    #: ``development`` (plain-HTTP cookies, the default secret allowed) or ``production``.
    environment: str = "development"
    #: A web session ends after this many minutes without a request.
    session_idle_minutes: int = 30
    #: ... and at the latest this many hours after the login.
    session_max_hours: int = 12
    #: Login attempts per client address and per user name (Flask-Limiter notation).
    rate_limit_login: str = "10 per minute"
    #: Requests per bearer token.
    rate_limit_token: str = "600 per minute"
    #: Requests answered 401 per client address (guessing tokens).
    rate_limit_auth_failures: str = "30 per minute"
    #: Where rate-limit counters live: in memory per process by default (no network).
    rate_limit_storage: str = "memory://"
    #: Signals and rejected rows older than this many years are removed by ``parkwacht purge``.
    retention_years: int = 5
    #: The day Parkwacht takes as today (YYYY-MM-DD); empty: the real date. Tests and demos pin it.
    today: dt.date | None = None
    #: Partner organisations that may join a planned visit (comma separated keys); empty: the default list.
    visit_partners: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            db = Path(self.instance_dir) / "parkwacht.db"
            object.__setattr__(self, "database_url", f"sqlite:///{db}")
        if self.basemap not in {"pdok", "osm", "none"}:
            raise ValueError(f"PARKWACHT_BASEMAP must be pdok, osm or none, not {self.basemap!r}")
        if self.nearby_distance_m < 0:
            raise ValueError("PARKWACHT_NEARBY_DISTANCE_M must not be negative")
        if not self.max_park_area_km2 > 0:
            raise ValueError("PARKWACHT_MAX_PARK_AREA_KM2 must be a positive number")
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"PARKWACHT_ENVIRONMENT must be {' or '.join(ENVIRONMENTS)}, not {self.environment!r}")
        for name in ("session_idle_minutes", "session_max_hours", "retention_years"):
            if getattr(self, name) < 1:
                raise ValueError(f"PARKWACHT_{name.upper()} must be at least 1")

    def day(self) -> dt.date:
        """Today, or the pinned day: live scores, the demo and visit forms all count up to it."""
        return self.today or dt.date.today()

    @property
    def development(self) -> bool:
        """Whether this is a developer's machine (plain HTTP, the default secret allowed)."""
        return self.environment == "development"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some settings changed (tests and the CLI use this)."""
        return replace(self, **overrides)


def _coerce(value: str, kind: type) -> Any:
    if kind is int:
        return int(value)
    if kind is float:
        return float(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    return value


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read ``PARKWACHT_*`` variables from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    defaults = Settings.__dataclass_fields__
    for f in fields(Settings):
        raw = env.get(f"PARKWACHT_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        kind = type(defaults[f.name].default) if defaults[f.name].default is not None else str
        if f.name == "sample_data":
            kind = str
        if f.name == "today":
            kind = dt.date
        try:
            values[f.name] = _coerce(raw, kind)
        except ValueError as exc:
            raise ValueError(f"PARKWACHT_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
    values.update(overrides)
    return Settings(**values)
