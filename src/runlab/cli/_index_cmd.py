"""``runlab index``: maintain the SQLite index."""

from __future__ import annotations

import click

from ._main import cli, get_store, root_option


@cli.group("index")
def index_group() -> None:
    """Maintain the run index (a cache of the run folders).

    \b
    Examples:
      runlab index check
      runlab index rebuild
    """


@index_group.command("rebuild")
@root_option
@click.pass_context
def rebuild(ctx: click.Context) -> None:
    """Recreate the index from the run folders, and the archive's from the archived ones.

    Picks up run folders copied in from elsewhere and drops entries whose folder is
    gone. A run whose run.json is damaged (empty, not JSON, a field of the wrong type, or
    missing from a folder that still holds the run's metrics, data or log) is kept with
    status 'damaged' and listed; files are never modified. The work is done in
    short chunks, so runs being written meanwhile are not held up.

    \b
    Example:
      runlab index rebuild --root /data/runs
    """
    store = get_store(ctx)
    report = store.rebuild_index()
    click.echo(f"Indexed {report.indexed} runs in {store.root} "
               f"({len(report.added)} added, {len(report.removed)} removed).")  # fmt: skip
    problems = list(report.problems)
    damaged = len(report.damaged)
    if report.archive is not None:
        arch = report.archive
        click.echo(f"Indexed {arch.indexed} archived runs ({len(arch.added)} added, {len(arch.removed)} removed).")
        problems += arch.problems
        damaged += len(arch.damaged)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if damaged:
        click.echo(f"{damaged} damaged run{'s' if damaged != 1 else ''} kept with status 'damaged': "
                   "'runlab show ID' says what is wrong; repair the file or 'runlab delete ID'.", err=True)  # fmt: skip


@index_group.command("check")
@root_option
@click.pass_context
def check(ctx: click.Context) -> None:
    """Compare the index (and the archive's) with the run folders without changing anything.

    Exits 1 when they differ ('runlab index rebuild' fixes that). Runs whose run.json is
    damaged are listed; when the index already records them as 'damaged' the index is up
    to date and the exit code stays 0 (a rebuild cannot repair a file).

    \b
    Example:
      runlab index check || runlab index rebuild
    """
    store = get_store(ctx)
    result = store.check_index()
    parts = [("", store.root, result)]
    if result.archive is not None:
        parts.append(("archive: ", store.archive.root, result.archive))
    problems = [f"{label}{p}" for label, _, r in parts for p in r.problems]
    for label, _, r in parts:
        for folder, problem in r.damaged:
            click.echo(f"{label}{folder}: damaged: {problem}", err=True)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; run 'runlab index rebuild'.", err=True)
        raise click.exceptions.Exit(1)
    archived = f" and the {result.archive.runs} archived ones" if result.archive is not None else ""
    damaged = sum(len(r.damaged) for _, _, r in parts)
    note = f" ({damaged} damaged, listed above)" if damaged else ""
    click.echo(f"OK: the index matches the {result.runs} run folders in {store.root}{archived}{note}.")
