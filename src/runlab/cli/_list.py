"""``runlab list``."""

from __future__ import annotations

from typing import Any

import click

from ._main import cli, existing_store, given_text, root_option
from ._render import (
    FORMATS,
    STATUS_STYLE,
    cell_text,
    emit,
    fit_columns,
    format_duration,
    format_time,
    is_terminal,
    json_text,
    terminal_width,
)

DEFAULT_COLUMNS = ("id", "name", "status", "started", "duration")
#: Columns whose cells never wrap or shrink in a terminal table.
KEEP_WHOLE = frozenset({"id", "namespace", "status", "created", "started", "ended", "duration", "archived"})


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    from ..store._manage import parse_since

    return parse_since(value)


@cli.command("list")
@click.option("-w", "--where", metavar="EXPR", help='Filter, e.g. "params.lr < 0.01 and metrics.acc > 0.9".')
@click.option("-n", "--namespace", help="Only runs of this namespace.")
@click.option("-s", "--status", multiple=True, help="Only runs with this status (repeatable).")
@click.option("-t", "--tag", "tags", multiple=True, help="Only runs with this tag (repeatable: all must match).")
@click.option("--name", "name", metavar="GLOB", help="Only runs whose name matches, e.g. 'lr-*'.")
@click.option("--since", metavar="WHEN", help="Created at or after: an ISO date/time or an age such as 3d, 12h.")
@click.option("--until", metavar="WHEN", help="Created before: an ISO date/time or an age such as 1d.")
@click.option("-a", "--all", "include_archived", is_flag=True, help="Include archived runs.")
@click.option("--sort", "order_by", metavar="FIELD", default="-created", show_default=True, callback=given_text,
              help="Order by a field; '-' for descending, e.g. -metrics.acc.")  # fmt: skip
@click.option(
    "-l", "--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N runs; 0 for all."
)
@click.option("-c", "--columns", metavar="FIELDS",
              help="Columns, comma-separated, e.g. id,name,params.lr,metrics.acc.max "
                   "(default: id, name, status, started, duration and the params and metrics that vary).")  # fmt: skip
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def list_runs(ctx: click.Context, where: str | None, namespace: str | None, status: tuple[str, ...],
              tags: tuple[str, ...], name: str | None, since: str | None, until: str | None,
              include_archived: bool, order_by: str, limit: int, columns: str | None, fmt: str) -> None:  # fmt: skip
    """List runs, newest first.

    The table shows the parameters and metrics whose values differ among the listed runs.
    In a pipe the table is plain aligned text; --format json|csv|markdown for other tools.

    \b
    Examples:
      runlab list
      runlab list --where "params.lr <= 0.01 and 'best' in tags" --limit 10
      runlab list -s failed -s crashed --since 2d --format json | jq '.[].id'
      runlab list --name 'lr-*' --sort -metrics.acc --columns id,params.lr,metrics.acc
    """
    from ..store._manage import query, query_count

    cols = None
    if columns is not None:
        from ._fields import parse_columns

        cols = parse_columns(columns)
    store = existing_store(ctx)
    filters: dict[str, Any] = dict(where=where, namespace=namespace, status=status or None, tags=tags or None,
                                   name=name, since=_since(since), until=_since(until),
                                   archived=None if include_archived else False)  # fmt: skip
    if not include_archived:  # the archive has an index of its own
        _check_sort_metric(store, order_by)
    found: list[Any] = list(query(store, **filters, order_by=order_by, limit=limit or None))
    if fmt == "json" and cols is None:
        click.echo(json_text([r.to_dict() for r in found]))
        return
    if not found:
        if fmt == "table":
            filtered = where or namespace or status or tags or name or since or until
            click.echo(f"No runs in {store.root}" + (" match." if filtered else " yet."), err=True)
        else:
            emit(fmt, list(cols or DEFAULT_COLUMNS), [])
        return

    hidden: list[str] = []
    fixed = 0
    if cols is None:
        from ._fields import varying

        cols = list(DEFAULT_COLUMNS)
        if len({r.namespace for r in found}) > 1:
            cols.insert(2, "namespace")
        if any(r.archived for r in found):
            cols.append("archived")
        fixed = len(cols)
        cols += varying(found) or _shared(found)
    from ._fields import field_value

    rows = [[_cell(field_value(r, c), c, fmt) for c in cols] for r in found]
    if fixed and fmt == "table" and is_terminal():  # choose the columns that fit the terminal
        texts = [[cell_text(v) for v in row] for row in rows]
        keep = [i for i, c in enumerate(cols) if c in KEEP_WHOLE]
        shown = fit_columns(cols, texts, fixed, terminal_width(), keep=keep)
        hidden = [c for i, c in enumerate(cols) if i not in shown]
        cols = [cols[i] for i in shown]
        rows = [[row[i] for i in shown] for row in rows]
    headers = list(cols)
    styles = {cols.index("status"): [STATUS_STYLE.get(r.status, "") for r in found]} if "status" in cols else None
    emit(fmt, headers, rows, styles, keep=[i for i, c in enumerate(cols) if c in KEEP_WHOLE])
    if hidden:
        listed = ", ".join(hidden[:3]) + (", ..." if len(hidden) > 3 else "")
        click.echo(f"(+{len(hidden)} column{'s' if len(hidden) > 1 else ''}: {listed}; use -c to choose, "
                   f"e.g. -c id,name,{hidden[0]})", err=True)  # fmt: skip
    if fmt == "table" and limit and len(found) == limit:
        total = query_count(store, **filters)
        if total > limit:
            click.echo(f"(showing {limit} of {total} runs; use --limit 0 for all)", err=True)


def _check_sort_metric(store: Any, order_by: str) -> None:
    """Exit 2 when ``--sort`` names a metric no run of the store has (a typo sorted nothing, silently),
    as ``runlab sweep show --sort`` does."""
    from ._fields import AGGREGATES

    key = order_by.lstrip("+-")
    if not key.startswith("metrics.") or not store.root.is_dir():  # no store yet: nothing to sort, none to create
        return
    name = key[len("metrics.") :]
    base = name.rpartition(".")[0] if name.rpartition(".")[2] in AGGREGATES else name
    if not store.index.execute("SELECT 1 FROM metrics WHERE name IN (?, ?) LIMIT 1", (name, base)):
        from ..errors import UsageError

        known = [r[0] for r in store.index.execute("SELECT DISTINCT name FROM metrics ORDER BY name LIMIT 20")]
        raise UsageError(f"No run has the metric {base!r} to sort by; metrics: {', '.join(known) or 'none yet'}.")


def _shared(records: list[Any]) -> list[str]:
    """When no parameter or metric differs: the runs' own (not special), parameters first."""
    from ._fields import _special, flat

    keys: dict[str, None] = {}
    for rec in records:
        for key in flat(rec, aggregates=False):
            if key.startswith(("params.", "metrics.")) and not _special(key):
                keys.setdefault(key)
    return sorted(keys, key=lambda k: (not k.startswith("params."), k))


def _cell(value: Any, col: str, fmt: str) -> Any:
    """Column ``col``'s ``value`` as the output format shows it."""
    if fmt in ("table", "markdown"):
        if col in ("created", "started", "ended"):
            return format_time(value)
        if col == "duration":
            return format_duration(value)
        if col == "tags":
            return ",".join(value) or "-"
    elif fmt == "csv" and col in ("created", "started", "ended") and value is not None:
        return value.isoformat()
    return value
