"""``parkwacht import``: parks and signals from files; rejected rows and batches."""
from __future__ import annotations

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


@import_cli.command("parks")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--preset", help="Column preset, e.g. top10nl.")
@click.option("--layer", help="Layer of a multi-layer file (GeoPackage).")
@click.option("--crs", help="CRS of a file that declares none, e.g. EPSG:28992.")
@click.option("--source", help="Source name (default: preset or file name); ids are unique per source.")
@click.option("--id-column", help="Column with a stable id (default: derived from geometry and values).")
@click.option("--map", "mapping", multiple=True, help="FIELD=COLUMN, overriding the preset.")
@click.option("--encoding", help="Text encoding when the file does not declare it.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def import_parks_cmd(file: str, preset: str | None, layer: str | None, crs: str | None, source: str | None,
                     id_column: str | None, mapping: tuple[str, ...], encoding: str | None, as_json: bool) -> None:
    """Import park polygons from GeoJSON, GeoPackage, Shapefile or zipped Shapefile."""
    rt = runtime()
    try:
        result = import_parks(rt.store, file, settings=rt.settings, preset=preset, layer=layer, crs=crs,
                              source=source, id_column=id_column, mapping=_mapping(mapping), encoding=encoding)
    except (IngestError, KeyError) as exc:  # TODO-B
        raise click.ClickException(str(exc).strip("'\"")) from exc
    report(result, as_json)
    _after_import(result)


@import_cli.command("signals")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--type", "signal_type", help="Signal type of every row (else from a 'type' column).")
@click.option("--preset", help="Column preset, e.g. bekendmakingen.")
@click.option("--layer", help="Layer of a multi-layer file.")
@click.option("--crs", help="CRS of x/y or WKT columns, or of a file that declares none.")
@click.option("--source", help="Source name (default: file name); ids are unique per source.")
@click.option("--map", "mapping", multiple=True, help="FIELD=COLUMN, overriding the preset.")
@click.option("--encoding", help="Text encoding of a CSV that is not UTF-8, e.g. cp1252.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def import_signals_cmd(file: str, signal_type: str | None, preset: str | None, layer: str | None,
                       crs: str | None, source: str | None, mapping: tuple[str, ...], encoding: str | None,
                       as_json: bool) -> None:
    """Import signals from CSV/TSV (lon/lat, x/y or WKT), GeoJSON or GeoPackage."""
    rt = runtime()
    try:
        result = import_signals(rt.store, file, settings=rt.settings, signal_type=signal_type, preset=preset,
                                layer=layer, crs=crs, source=source, mapping=_mapping(mapping),
                                encoding=encoding)
    except (IngestError, KeyError) as exc:  # TODO-B
        raise click.ClickException(str(exc).strip("'\"")) from exc
    report(result, as_json)
    _after_import(result)


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
