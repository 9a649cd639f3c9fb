"""Which store the suite runs on: SQLite files (default) or PostgreSQL+PostGIS databases.

``PARKWACHT_TEST_STORE=postgis`` with ``PARKWACHT_TEST_POSTGRES_URL`` (a superuser's URL of a throwaway cluster,
as ``.ci/postgres`` starts one) runs the whole suite on PostGIS. A stored database is then named by its URL
where the SQLite run names a file; copies are ``CREATE DATABASE ... TEMPLATE ...``, as fast as a file copy.
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path

import sqlalchemy as sa

__all__ = ["KIND", "POSTGIS", "fresh_url", "postgres_url", "clone", "stored_db", "drop_all"]

KIND = os.environ.get("PARKWACHT_TEST_STORE", "sqlite")
POSTGIS = KIND == "postgis"
_ADMIN_URL = os.environ.get("PARKWACHT_TEST_POSTGRES_URL", "")
_counter = itertools.count()
_created: list[str] = []
_admin: sa.Engine | None = None

if POSTGIS and not _ADMIN_URL:
    raise RuntimeError("PARKWACHT_TEST_STORE=postgis needs PARKWACHT_TEST_POSTGRES_URL (see .ci/postgres)")


def _engine() -> sa.Engine:
    global _admin
    if _admin is None:
        _admin = sa.create_engine(_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    return _admin


def _url(name: str) -> str:
    return _ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _create(template: str | None) -> str:
    name = f"pw_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    with _engine().connect() as conn:
        if template is not None:  # a template must have no other sessions: end those a fixture left open
            conn.execute(sa.text("select pg_terminate_backend(pid) from pg_stat_activity "
                                 "where datname = :d and pid <> pg_backend_pid()"), {"d": template})
        conn.execute(sa.text(f'create database "{name}"' + (f' template "{template}"' if template else "")))
    _created.append(name)
    return name


_template: str | None = None


def _migrated_template() -> str:
    """A database migrated to head once per process; new stores are copies of it (migrating is slow)."""
    global _template
    if _template is None:
        from service.store import Store

        name = _create(None)
        store = Store(_url(name))
        store.upgrade()
        store.dispose()
        _template = name
    return _template


def postgres_url(folder: Path) -> str:
    """A new, empty PostGIS database, whichever store the suite runs on (tests of PostGIS itself)."""
    del folder  # the database lives in the cluster, not under the test's folder
    return _url(_create(None))


def fresh_url(folder: Path) -> str:
    """The URL of a new store: an empty SQLite file under ``folder``, or a PostGIS database already at head."""
    if POSTGIS:
        return _url(_create(_migrated_template()))
    return f"sqlite:///{folder / 'parkwacht.db'}"


def stored_db(database_url: str) -> Path | str:
    """What fixtures hand around for a store: the SQLite file's path, or the PostGIS database's URL."""
    if database_url.startswith("sqlite:///"):
        return Path(database_url.removeprefix("sqlite:///"))
    return database_url


def clone(db: Path | str, folder: Path) -> str:
    """The URL of a private copy of ``db`` (a SQLite file, or a PostGIS database's URL)."""
    if isinstance(db, str) and db.startswith("postgresql"):
        return _url(_create(db.rsplit("/", 1)[1]))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "parkwacht.db"
    shutil.copyfile(db, target)
    return f"sqlite:///{target}"


def drop_all() -> None:
    """Drop every database this process created (the cluster itself is thrown away after CI too)."""
    if not _created:
        return
    with _engine().connect() as conn:
        for name in _created:
            conn.execute(sa.text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :d"),
                         {"d": name})
            conn.execute(sa.text(f'drop database if exists "{name}"'))
    _created.clear()
