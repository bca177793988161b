"""``runlab export``: runs as a CSV, JSON or Parquet file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ._main import cli, get_store, given_text, root_option


def _check_output(path: str) -> Path | None:
    if path == "-":
        return None
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise UsageError(f"Cannot write the export to {out}: it is a folder. Give a file name, e.g. {out}/runs.csv.")
    if not parent.is_dir():
        raise UsageError(f"Cannot write the export to {out}: the folder {parent} does not exist. Create it first.")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"Cannot write the export to {out}: permission denied. Choose another path with -o.")
    return out


EXPORT_FORMATS = ("csv", "json", "parquet", "xlsx")


@cli.command("export")
@click.option("-w", "--where", metavar="EXPR", help="Only runs matching this filter.")
@click.option("-n", "--namespace", help="Only runs of this namespace.")
@click.option("-s", "--status", multiple=True, help="Only runs with this status (repeatable).")
@click.option("-t", "--tag", "tags", multiple=True, help="Only runs with this tag (repeatable).")
@click.option("--sort", "order_by", metavar="FIELD", default="created", show_default=True, callback=given_text)
@click.option("-f", "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default=None,
              help="Output format (default: from the file extension, else csv).")  # fmt: skip
@click.option("-o", "--output", "output", metavar="FILE", required=True, help="The file to write ('-' for stdout).")
@root_option
@click.pass_context
def export(ctx: click.Context, where: str | None, namespace: str | None, status: tuple[str, ...],
           tags: tuple[str, ...], order_by: str, fmt: str | None, output: str) -> None:  # fmt: skip
    """Write one row per run (fields, params.X, metrics.X with .min/.max/.count/.step) to FILE.

    The format comes from --format, else from FILE's extension (.csv, .json, .parquet,
    .xlsx; no extension: csv); an extension that names another format is refused.
    Parquet needs pyarrow (pip install pyarrow); xlsx needs pandas and openpyxl
    (pip install 'runlab[analysis]').

    \b
    Examples:
      runlab export --where "status == 'completed'" -o runs.csv
      runlab export -n mnist --format json -o - | jq length
      runlab export -o runs.parquet
      runlab export -o runs.xlsx       # a spreadsheet (Excel, LibreOffice)
    """
    fmt = _format(fmt, output)
    if fmt == "xlsx":
        import importlib.util

        missing = [m for m in ("pandas", "openpyxl") if importlib.util.find_spec(m) is None]
        if missing:
            raise UsageError(f"xlsx export needs {' and '.join(missing)}, not installed: pip install "
                             "'runlab[analysis]' (or use --format csv).")  # fmt: skip
        if output == "-":
            raise UsageError("A spreadsheet cannot be written to stdout; give a file name with -o, e.g. -o runs.xlsx.")
    if fmt == "parquet":
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise UsageError("Parquet export needs pyarrow, which is not installed: pip install pyarrow "
                             "(or use --format csv or json).")  # fmt: skip
        if output == "-":
            raise UsageError("Parquet cannot be written to stdout; give a file name with -o.")
    out = _check_output(output)
    from ._fields import flat
    from ._list import _check_sort_metric

    store = get_store(ctx)
    _check_sort_metric(store, order_by)  # a metric no run has would sort nothing, silently
    records = store.runs(where=where, namespace=namespace, status=status or None, tags=tags or None,
                         order_by=order_by)  # fmt: skip
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    for rec in records:
        row = flat(rec)
        for key in ("created", "started", "ended"):
            row[key] = row[key].isoformat() if row[key] is not None else None
        rows.append(row)
        columns.update(dict.fromkeys(row))
    try:
        if fmt == "json":
            from ._render import json_text

            data = json_text(rows).encode() + b"\n"
            if out is None:
                click.echo(data.decode(), nl=False)
            else:
                out.write_bytes(data)
        elif fmt == "csv":
            _write_csv(out, list(columns), rows)
        elif fmt == "xlsx":
            import pandas as pd

            table = [[_cell(row.get(c)) for c in columns] for row in rows]
            pd.DataFrame(table, columns=list(columns)).to_excel(out, index=False, sheet_name="runs", engine="openpyxl")
        else:
            import pandas as pd

            table = [[row.get(c) for c in columns] for row in rows]
            frame = pd.DataFrame(_typed_columns(table, len(columns)), columns=list(columns))
            frame.to_parquet(out, index=False)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"Cannot write the export to {output}: {reason}. Choose another path with -o.") from None
    if out is not None:
        click.echo(f"Exported {len(rows)} run{'s' if len(rows) != 1 else ''} to {out} ({fmt}).", err=True)


def _format(fmt: str | None, output: str) -> str:
    """The export format: ``fmt``, else the extension of ``output``; refuses a contradiction."""
    suffix = Path(output).suffix.lower().lstrip(".") if output != "-" else ""
    if fmt is None:
        if not suffix:
            return "csv"
        if suffix not in EXPORT_FORMATS:
            raise UsageError(
                f"Cannot tell the export format from {output!r}: its extension .{suffix} is not one of "
                f"{', '.join('.' + f for f in EXPORT_FORMATS)}. Rename the file or give --format."
            )
        return suffix
    if suffix in EXPORT_FORMATS and suffix != fmt:
        raise UsageError(
            f"--format {fmt} does not match the file name {output!r} (.{suffix}); a {fmt} file named .{suffix} would "
            f"mislead. Name it runs.{fmt}, or drop --format."
        )
    return fmt


def _cell(value: Any) -> Any:
    """A value for one CSV or spreadsheet cell: lists of strings joined, other lists and dicts as JSON."""
    import json

    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def _kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else type(value).__name__


def _typed_columns(table: list[list[Any]], width: int) -> list[list[Any]]:
    """Rows for a typed (Parquet) column store: a column whose values are all booleans, all
    numbers or all text keeps them; any other column (a parameter that is a float in one run
    and the text "NaN" or a list in another) holds each value as its CSV cell text.

    Example:
        >>> _typed_columns([[1, ["a"], 0.5], [2.5, None, "NaN"]], 3)
        [[1, 'a', '0.5'], [2.5, None, 'NaN']]
    """
    for c in range(width):
        kinds = {_kind(row[c]) for row in table if row[c] is not None}
        if len(kinds) > 1 or not kinds <= {"bool", "number", "str"}:
            for row in table:
                row[c] = None if row[c] is None else str(_cell(row[c]))
    return table


def _write_csv(out: Path | None, columns: list[str], rows: list[dict[str, Any]]) -> None:
    import csv
    import io

    cell = _cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in columns])
    if out is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8")
