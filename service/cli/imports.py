"""``parkwacht import``: parks, signals and areas from files; rejected rows and batches."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup

from ..app import runtime
from ..ingest import ImportResult, IngestError, fail_stale_batches, import_areas, import_parks, import_signals
from ..ingest.ogc_source import import_parks_from_ogc
from ..reads import NotFound, iter_batches, rejected_rows
from .common import mapping as _mapping
from .common import print_json as _print_json

__all__ = ["import_cli", "report"]

import_cli = AppGroup("import", help="Import parks, signals and areas; list rejected rows and batches.")


class _Progress:
    """Rows read, rows per second and the time left, on one terminal line (stderr) that keeps being redrawn."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._shown = False

    def __call__(self, rows: int, expected: int | None) -> None:
        seconds = max(time.perf_counter() - self._started, 1e-6)
        rate = rows / seconds
        line = f"  {rows:,} rows"
        if expected and expected > rows:
            line += f" of ~{expected:,}, {rate:,.0f} rows/s, about {max(expected - rows, 0) / rate:,.0f} s left"
        else:
            line += f", {rate:,.0f} rows/s"
        click.echo("\r" + line.ljust(78), nl=False, err=True)
        self._shown = True

    def done(self) -> None:
        if self._shown:
            click.echo("\r" + " " * 78 + "\r", nl=False, err=True)


def _progress(as_json: bool) -> _Progress | None:
    """A progress line for a person at a terminal; nothing with ``--json`` or when output goes elsewhere."""
    return None if as_json or not sys.stderr.isatty() else _Progress()


def report(result: ImportResult, as_json: bool) -> None:
    d = result.as_dict()
    if as_json:
        _print_json(d)
        return
    click.echo(f"batch {d['batch_id']} ({d['kind']}, source {d['source']}): read {d['read']}, "
               f"stored {d['stored']} (new {d['created']}, changed {d['updated']}), "
               f"unchanged {d['unchanged']}, rejected {d['rejected']} in {d['seconds']} s")
    if d.get("retired") or d.get("revived"):
        click.echo(f"snapshot: retired {d['retired']} no longer in the source, revived {d['revived']} back in it")
    stages = d.get("stages") or {}
    if any(stages.values()):
        click.echo("stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    if d["assignment"]:
        click.echo("assignment: " + ", ".join(f"{k} {v}" for k, v in d["assignment"].items()))
    if d.get("reassigned"):
        click.echo(f"signals re-assigned to changed parks: {d['reassigned']}")
    if d["ignored_columns"]:
        click.echo("columns not stored (personal traits): " + ", ".join(d["ignored_columns"]))
    if d["rejected"]:
        click.echo(f"see the reasons with: parkwacht import rejected {d['batch_id']}")


def _file_options(fn: Callable[..., None]) -> Callable[..., None]:
    """The options every file import shares (applied in reverse, so --help lists them in this order)."""
    for option in reversed((
        click.argument("file", type=click.Path(dir_okay=False), required=False),
        click.option("--preset", help="Column preset, e.g. top10nl or bekendmakingen."),
        click.option("--layer", help="Layer of a multi-layer file (GeoPackage)."),
        click.option("--crs", help="CRS of a file that declares none, or of x/y or WKT columns, e.g. EPSG:28992."),
        click.option("--source", help="Source name (default: preset or file name); ids are unique per source."),
        click.option("--map", "mapping", multiple=True, help="FIELD=COLUMN, overriding the preset."),
        click.option("--encoding", help="Text encoding when the file does not declare it, e.g. cp1252."),
        click.option("--snapshot", is_flag=True, help="The file is the source's complete current set: retire "
                      "what it no longer holds (kept, not scored or shown), revive what is back."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object."),
    )):
        fn = option(fn)
    return fn


def _run_import(importer: Callable[..., ImportResult], file: str | None, mapping: tuple[str, ...], as_json: bool,
                **options: Any) -> None:
    """Run one file import, report it, and re-score the parks it touched."""
    if not file:
        raise click.UsageError("Missing argument 'FILE'.")
    rt = runtime()
    progress = _progress(as_json) if importer is not import_parks_from_ogc else None
    if progress is not None:
        options["progress"] = progress
    try:
        result = importer(rt.store, file, settings=rt.settings, mapping=_mapping(mapping), **options)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if progress is not None:
            progress.done()
    report(result, as_json)
    _after_import(result)


@import_cli.command("parks")
@_file_options
@click.option("--id-column", help="Column with a stable id (default: derived from geometry and values).")
@click.option("--from-ogc", "ogc_url", metavar="URL", help="Read parks page by page from this OGC API - Features "
              "server (its landing page) instead of FILE; a bearer token may come from PARKWACHT_OGC_TOKEN.")
@click.option("--collection", help="With --from-ogc: the collection to read, e.g. parks.")
@click.option("--bbox", help="With --from-ogc: only parks in minlon,minlat,maxlon,maxlat (CRS84).")
@click.option("--allow-large", is_flag=True, help="Store parks larger than PARKWACHT_MAX_PARK_AREA_KM2 "
              "(5 km² by default) instead of refusing them as implausible.")
def import_parks_cmd(file: str | None, mapping: tuple[str, ...], as_json: bool, ogc_url: str | None = None,
                     collection: str | None = None, bbox: str | None = None, **options: Any) -> None:
    """Import park polygons from GeoJSON, GeoPackage, Shapefile or zipped Shapefile, or an OGC API server."""
    if ogc_url or collection or bbox:
        if file or not ogc_url or not collection:
            raise click.UsageError("give either FILE or --from-ogc URL with --collection ID")
        token = os.environ.get("PARKWACHT_OGC_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        _run_import(import_parks_from_ogc, ogc_url, mapping, as_json, collection=collection, bbox=bbox,
                    headers=headers, **options)
        return
    _run_import(import_parks, file, mapping, as_json, **options)


@import_cli.command("signals")
@_file_options
@click.option("--type", "signal_type", help="Signal type of every row (else from a 'type' column).")
def import_signals_cmd(file: str, mapping: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Import signals from CSV/TSV (lon/lat, x/y or WKT), GeoJSON or GeoPackage."""
    _run_import(import_signals, file, mapping, as_json, **options)


def _after_import(result: ImportResult) -> None:
    """Re-score the parks this import touched, when a run is published (incremental)."""
    if not result.affected_parks:
        return
    outcome = runtime().after_signals(result)
    line = f"re-scoring: {outcome.get('status')}, {len(outcome.get('rescored', []))} parks re-scored"
    if outcome.get("message"):
        line += f" ({outcome['message']})"
    click.echo(line, err=True)


@import_cli.command("rejected")
@click.argument("batch", type=int)
@click.option("--json", "as_json", is_flag=True)
def import_rejected_cmd(batch: int, as_json: bool) -> None:
    """List the rejected rows of import BATCH with their reasons."""
    try:
        rows = rejected_rows(runtime().store, batch)
    except NotFound as exc:
        raise click.ClickException(f"no import batch {batch}") from exc
    if as_json:
        _print_json({"batch_id": batch, "rejected": rows})
        return
    if not rows:
        click.echo(f"batch {batch} has no rejected rows")
    for r in rows:
        click.echo(f"row {r['row_number']}: [{r['field'] or '-'}] {r['reason']}")


@import_cli.command("areas")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--level", required=True, type=click.Choice(["municipality", "province"]),
              help="What the file's areas are.")
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option("--crs", help="CRS of a file that declares none (a GeoJSON is WGS84), e.g. EPSG:28992.")
@click.option("--source", help="Source name (default: the file name).")
@click.option("--code-column", help="Column with the CBS code (default: statcode, code, ...).")
@click.option("--name-column", help="Column with the name (default: statnaam, name, naam, ...).")
@click.option("--encoding", help="Text encoding when the file does not declare it, e.g. cp1252.")
@click.option("--snapshot", is_flag=True, help="The file holds every area of its level: remove the others.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def import_areas_cmd(file: str, as_json: bool, **options: Any) -> None:
    """Import municipality or province boundaries (CBS gebiedsindelingen: GeoJSON or GeoPackage)."""
    rt = runtime()
    progress = _progress(as_json)
    try:
        result = import_areas(rt.store, file, settings=rt.settings, progress=progress, **options)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if progress is not None:
            progress.done()
    report(result, as_json)


@import_cli.command("batches")
@click.option("--json", "as_json", is_flag=True)
def import_batches_cmd(as_json: bool) -> None:
    """List recent import batches (a batch a killed process left running is recorded as failed first)."""
    store = runtime().store
    with store.begin() as conn:
        fail_stale_batches(conn)
    batches = iter_batches(store)
    if as_json:
        _print_json(batches)
        return
    for b in batches:
        sync = f" retired {b['retired']} revived {b['revived']}" if b.get("retired") or b.get("revived") else ""
        click.echo(f"{b['id']:>5} {b['kind']:<8} {b['status']:<7} {b['source']:<30} read {b['read']} "
                   f"stored {b['stored']} unchanged {b['unchanged']} rejected {b['rejected']}{sync}"
                   + (f"  error: {b['error']}" if b["error"] else ""))
