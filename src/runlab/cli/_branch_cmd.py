"""``runlab branch``: the session runs of branched functions and their branches."""

from __future__ import annotations

from typing import Any

import click

from ._main import cli, get_store, root_option
from ._render import FORMATS, emit, format_duration

_STATUSES = ("success", "failed", "skipped", "cancelled")


@cli.group("branch")
def branch_group() -> None:
    """Branched functions (@runlab.branch): their session runs and every branch recorded.

    \b
    Examples:
      runlab branch list
      runlab branch show 3f2a --status failed
    """


@branch_group.command("list")
@click.option("--function", metavar="NAME", help="Only sessions of this function (module.qualname, or a glob).")
@click.option("-s", "--status", multiple=True, help="Only session runs with this status (repeatable).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def list_sessions(ctx: click.Context, function: str | None, status: tuple[str, ...], fmt: str) -> None:
    """List session runs, oldest first: one per branched function and process, with branch counts.

    The counts come from the store's index. A running session updates them there at its
    heartbeat (every 5 s; RUNLAB_HEARTBEAT_INTERVAL), so they can lag that much behind;
    'runlab branch show' reads the branch log itself. A finished session's counts are final.

    \b
    Examples:
      runlab branch list
      runlab branch list --function '*.answer' --format json
    """
    from ..branch import sessions

    found = sessions(function=function, root=get_store(ctx), status=list(status) or None)
    rows: list[list[Any]] = []
    for record in found:
        counts = [int(s.last) if (s := record.summaries.get(f"branches/{k}")) and s.last is not None else 0
                  for k in _STATUSES]  # fmt: skip
        pool = record.params.get("configs")  # text in a session run written before configs were made storable
        rows.append([record.id, record.experiment, record.params.get("strategy"), record.status,
                     len(pool) if isinstance(pool, dict) else None, *counts])  # fmt: skip
    if not rows and fmt == "table":
        click.echo("No branch sessions in this store. Decorate a function with @runlab.branch to record some.")
        return
    emit(fmt, ["id", "function", "strategy", "status", "configs", *_STATUSES], rows)


@branch_group.command("show")
@click.argument("session")
@click.option("-s", "--status", multiple=True, type=click.Choice(_STATUSES), help="Only branches with this status.")
@click.option("--config", "config_id", metavar="ID", help="Only branches of this config id (or a prefix).")
@click.option("-l", "--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="The last N branches; 0 for all.")  # fmt: skip
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def show_branches(ctx: click.Context, session: str, status: tuple[str, ...], config_id: str | None, limit: int,
                  fmt: str) -> None:  # fmt: skip
    """Show the branches of a session run (by run ID, ID prefix or name), newest last.

    The table shows each branch's call, config id, role, status, duration and output (or
    error); --format json gives every field, configs included.

    \b
    Examples:
      runlab branch show 3f2a
      runlab branch show 3f2a --status failed --config 9c01 --format json
    """
    from ..branch import read_branches

    store = get_store(ctx)
    record = store.load(session)
    rows = read_branches(record, status=list(status) or None, config_id=config_id)
    if limit:
        rows = rows[-limit:]
    if fmt == "json":
        click.echo(_json(rows))
        return
    table = []
    for row in rows:
        error = row.get("exception") or {}
        shown = row["output"] if row["status"] == "success" else f"{error.get('type')}: {error.get('message')}"
        table.append([row["call_id"], row["config_id"], row["role"], row["status"],
                      _duration(row["duration"]), shown])  # fmt: skip
    if not table and fmt == "table":
        click.echo(f"No branches match in session {record.id}.")
        return
    emit(fmt, ["call", "config", "role", "status", "duration", "output / error"], table)


def _duration(seconds: float | None) -> str:
    if seconds is not None and seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return format_duration(seconds)


def _json(rows: list[dict[str, Any]]) -> str:
    from ..store._files import dumps

    return dumps(rows).decode()
