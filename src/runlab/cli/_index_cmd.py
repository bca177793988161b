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
    """Recreate the index from the run folders (and the archive's index, if any).

    Picks up run folders copied in from elsewhere and drops entries whose folder is
    gone. Unreadable files are listed; they are never modified.

    \b
    Example:
      runlab index rebuild --root /data/runs
    """
    from ..store._manage import ARCHIVE_DIR, archive_store

    store = get_store(ctx)
    report = store.rebuild_index()
    click.echo(f"Indexed {report.indexed} runs in {store.root} "
               f"({len(report.added)} added, {len(report.removed)} removed).")  # fmt: skip
    problems = list(report.problems)
    if (store.root / ARCHIVE_DIR).is_dir():
        arch = archive_store(store).rebuild_index()
        click.echo(f"Indexed {arch.indexed} archived runs.")
        problems += arch.problems
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


@index_group.command("check")
@root_option
@click.pass_context
def check(ctx: click.Context) -> None:
    """Compare the index with the run folders without changing anything (exit 1 when they differ).

    \b
    Example:
      runlab index check || runlab index rebuild
    """
    from ..store._files import read_json

    store = get_store(ctx)
    on_disk: dict[str, str] = {}
    problems: list[str] = []
    for folder in store.run_folders():
        try:
            rid = read_json(folder / "run.json")["id"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{folder}: run.json is unreadable ({type(exc).__name__})")
            continue
        on_disk[rid] = folder.relative_to(store.root).as_posix()
    indexed = dict(store.index.execute("SELECT id, folder FROM runs")) if store.root.is_dir() else {}
    for rid, folder in on_disk.items():
        if rid not in indexed:
            problems.append(f"{folder}: run {rid} is not in the index")
        elif indexed[rid] != folder:
            problems.append(f"{folder}: run {rid} is indexed at {indexed[rid]}")
    for rid, folder in indexed.items():
        if rid not in on_disk:
            problems.append(f"{folder}: run {rid} is in the index but its folder is gone")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; run 'runlab index rebuild'.", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"OK: the index matches the {len(on_disk)} run folders in {store.root}.")
