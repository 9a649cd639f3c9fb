"""``parkwacht import``: parks and signals from files; rejected rows and batches."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup

from ..app import runtime
from ..ingest import ImportResult, IngestError, import_parks, import_signals
from ..reads import NotFound, iter_batches, rejected_rows
from .common import mapping as _mapping
from .common import print_json as _print_json

__all__ = ["import_cli", "report"]

import_cli = AppGroup("import", help="Import parks and signals; list rejected rows.")


def report(result: ImportResult, as_json: bool) -> None:
    d = result.as_dict()
    if as_json:
        _print_json(d)
        return
    click.echo(f"batch {d['batch_id']} ({d['kind']}, source {d['source']}): read {d['read']}, "
               f"stored {d['stored']} (new {d['created']}, changed {d['updated']}), "
               f"unchanged {d['unchanged']}, rejected {d['rejected']} in {d['seconds']} s")
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
        click.argument("file", type=click.Path(dir_okay=False)),
        click.option("--preset", help="Column preset, e.g. top10nl or bekendmakingen."),
        click.option("--layer", help="Layer of a multi-layer file (GeoPackage)."),
        click.option("--crs", help="CRS of a file that declares none, or of x/y or WKT columns, e.g. EPSG:28992."),
        click.option("--source", help="Source name (default: preset or file name); ids are unique per source."),
        click.option("--map", "mapping", multiple=True, help="FIELD=COLUMN, overriding the preset."),
        click.option("--encoding", help="Text encoding when the file does not declare it, e.g. cp1252."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object."),
    )):
        fn = option(fn)
    return fn


def _run_import(importer: Callable[..., ImportResult], file: str, mapping: tuple[str, ...], as_json: bool,
                **options: Any) -> None:
    """Run one file import, report it, and re-score the parks it touched."""
    rt = runtime()
    try:
        result = importer(rt.store, file, settings=rt.settings, mapping=_mapping(mapping), **options)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from exc
    report(result, as_json)
    _after_import(result)


@import_cli.command("parks")
@_file_options
@click.option("--id-column", help="Column with a stable id (default: derived from geometry and values).")
def import_parks_cmd(file: str, mapping: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Import park polygons from GeoJSON, GeoPackage, Shapefile or zipped Shapefile."""
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


@import_cli.command("batches")
@click.option("--json", "as_json", is_flag=True)
def import_batches_cmd(as_json: bool) -> None:
    """List recent import batches."""
    batches = iter_batches(runtime().store)
    if as_json:
        _print_json(batches)
        return
    for b in batches:
        click.echo(f"{b['id']:>5} {b['kind']:<8} {b['status']:<7} {b['source']:<30} read {b['read']} "
                   f"stored {b['stored']} unchanged {b['unchanged']} rejected {b['rejected']}"
                   + (f"  error: {b['error']}" if b["error"] else ""))
