"""``runlab index``: maintain the SQLite index."""

from __future__ import annotations

import click

from ._main import cli, get_store, root_option


@cli.group("index")
def index_group() -> None:
    """Maintain the run index (a cache of the run folders)."""


@index_group.command("rebuild")
@root_option
@click.pass_context
def rebuild(ctx: click.Context) -> None:
    """Recreate the index from the run folders.

    Picks up run folders copied in from elsewhere and drops entries whose folder is
    gone. Unreadable files are listed; they are never modified.

    \b
    Example:
      runlab index rebuild --root /data/runs
    """
    store = get_store(ctx)
    report = store.rebuild_index()
    click.echo(f"Indexed {report.indexed} runs in {store.root} "
               f"({len(report.added)} added, {len(report.removed)} removed).")  # fmt: skip
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
