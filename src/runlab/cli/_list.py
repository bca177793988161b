"""``runlab list``."""

from __future__ import annotations

from typing import Any

import click

from ._main import cli, get_store, root_option
from ._render import STATUS_STYLE, format_duration, format_time, format_value, print_table


def _compact(pairs: dict[str, Any], width: int = 48) -> str:
    text = " ".join(f"{k}={format_value(v, 12)}" for k, v in pairs.items())
    return format_value(text, width) if text else "-"


@cli.command("list")
@click.option("-w", "--where", metavar="EXPR", help='Filter, e.g. "params.lr < 0.01 and metrics.acc > 0.9".')
@click.option("-n", "--namespace", help="Only runs of this namespace.")
@click.option("-s", "--status", multiple=True, help="Only runs with this status (repeatable).")
@click.option("-t", "--tag", "tags", multiple=True, help="Only runs with this tag (repeatable: all must match).")
@click.option("--sort", "order_by", metavar="FIELD", default="-created", show_default=True,
              help="Order by a field; '-' for descending, e.g. -metrics.acc.")  # fmt: skip
@click.option(
    "-l", "--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N runs; 0 for all."
)
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@click.pass_context
def list_runs(ctx: click.Context, where: str | None, namespace: str | None, status: tuple[str, ...],
              tags: tuple[str, ...], order_by: str, limit: int, fmt: str) -> None:  # fmt: skip
    """List runs, newest first.

    \b
    Examples:
      runlab list
      runlab list --where "params.lr <= 0.01 and 'best' in tags" --limit 10
      runlab list -s failed -s crashed --format json | jq '.[].id'
    """
    store = get_store(ctx)
    found = store.runs(where=where, namespace=namespace, status=status or None, tags=tags or None,
                       order_by=order_by, limit=limit or None)  # fmt: skip
    if fmt == "json":
        from ..store._files import dumps

        click.echo(dumps([r.to_dict() for r in found]).decode())
        return
    rows = []
    for r in found:
        rows.append([
            r.id, r.namespace, r.name or "-", r.status, format_time(r.started or r.created),
            format_duration(r.duration), _compact(dict(r.params)),
            _compact({k: s.last for k, s in r.summaries.items()}),
        ])  # fmt: skip
    if not rows:
        click.echo(
            f"No runs in {store.root}" + (" match." if where or namespace or status or tags else " yet."), err=True
        )
        return
    print_table(None, ["id", "namespace", "name", "status", "started", "duration", "params", "metrics"], rows,
                styles={3: [STATUS_STYLE.get(r[3], "") for r in rows]})  # fmt: skip
    if limit and len(rows) == limit:
        total = store.count(where=where, namespace=namespace, status=status or None, tags=tags or None)
        if total > limit:
            click.echo(f"(showing {limit} of {total} runs; use --limit 0 for all)", err=True)
