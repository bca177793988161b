"""``runlab tag``, ``untag``, ``note``, ``archive``, ``unarchive``, ``delete`` and ``gc``: change runs.

Every command takes run IDs (or ID prefixes, names, or ``NAME~N``: ``NAME~0`` is the latest of a
name several runs have, which alone is ambiguous here) and/or ``--where EXPR``; the
destructive ones ask for confirmation unless ``--yes`` and show what they would do with
``--dry-run``. Runs that are still running are refused (their process owns the record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from ..errors import UsageError
from ._complete import complete_run_id
from ._main import cli, get_store, root_option

_IDS = click.argument("run_refs", metavar="[RUN]...", nargs=-1, shell_complete=complete_run_id)
_WHERE = click.option("-w", "--where", metavar="EXPR", help="Also every run matching this filter.")
_YES = click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
_DRY = click.option("--dry-run", is_flag=True, help="Only print what would be done.")


def _select(ctx: click.Context, refs: Sequence[str], where: str | None, archived: bool = False) -> list[Any]:
    """The records named by ``refs`` and matched by ``where`` (each once, in order)."""
    from ._refs import find_to_change

    if not refs and not where:
        raise UsageError("No runs given: pass run IDs (or ID prefixes, names, NAME~N) or --where EXPR.")
    store = get_store(ctx)
    found: dict[str, Any] = {}
    for ref in refs:
        record = find_to_change(store, ref, archived=True if archived else None)[1]
        found.setdefault(record.id, record)
    if where:
        for record in store.runs(where=where, order_by="created", archived=archived):
            found.setdefault(record.id, record)
    return list(found.values())


def _describe(record: Any) -> str:
    return f"{record.id} {record.name or ''} ({record.status})".replace("  ", " ")


def _check_all(records: Sequence[Any], change: Callable[[Any, bool], Any]) -> list[Any]:
    """``change(record, dry_run=True)`` for every record before any is changed, so that a run that
    is still running (or damaged) in the selection stops the command with nothing changed."""
    return [change(record, True) for record in records]


def _done(verb: str, record: Any) -> None:
    click.echo(f"{verb} {_describe(record)}")


def _tagging(ctx: click.Context, tag: str, refs: tuple[str, ...], where: str | None, dry_run: bool,
             remove: bool) -> None:  # fmt: skip
    from ..store._manage import set_tags

    tags = [t.strip() for t in tag.split(",")]
    store = get_store(ctx)
    records = _select(ctx, refs, where)

    def change(record: Any, dry_run: bool) -> Any:
        return set_tags(store, record, add=() if remove else tags, remove=tags if remove else (), dry_run=dry_run)

    _check_all(records, change)
    for record in records:
        change(record, dry_run)
        _done(("would untag" if dry_run else "untagged") if remove else ("would tag" if dry_run else "tagged"), record)
    if not records:
        click.echo("No runs matched.", err=True)


@cli.command("tag")
@click.argument("tag")
@_IDS
@_WHERE
@_DRY
@root_option
@click.pass_context
def tag(ctx: click.Context, tag: str, run_refs: tuple[str, ...], where: str | None, dry_run: bool) -> None:
    """Add TAG (or several, comma-separated) to runs.

    \b
    Examples:
      runlab tag best 3f2a
      runlab tag baseline,paper --where "params.lr == 0.01"
    """
    _tagging(ctx, tag, run_refs, where, dry_run, remove=False)


@cli.command("untag")
@click.argument("tag")
@_IDS
@_WHERE
@_DRY
@root_option
@click.pass_context
def untag(ctx: click.Context, tag: str, run_refs: tuple[str, ...], where: str | None, dry_run: bool) -> None:
    """Remove TAG (or several, comma-separated) from runs.

    \b
    Examples:
      runlab untag best 3f2a
      runlab untag draft --where "'draft' in tags"
    """
    _tagging(ctx, tag, run_refs, where, dry_run, remove=True)


@cli.command("note")
@click.argument("text")
@_IDS
@_WHERE
@_DRY
@root_option
@click.pass_context
def note(ctx: click.Context, text: str, run_refs: tuple[str, ...], where: str | None, dry_run: bool) -> None:
    """Set the description of runs to TEXT ('' clears it).

    \b
    Examples:
      runlab note "diverged: lr too high" 3f2a
      runlab note "" 3f2a              # clear it
    """
    from ..store._manage import set_description

    store = get_store(ctx)
    records = _select(ctx, run_refs, where)
    _check_all(records, lambda record, dry_run: set_description(store, record, text, dry_run=dry_run))
    for record in records:
        set_description(store, record, text, dry_run=dry_run)
        _done("would note" if dry_run else "noted", record)
    if not records:
        click.echo("No runs matched.", err=True)


def _destructive(name: str, verb: str, past: str, archived: bool, confirm: bool, doc: str) -> None:
    @_IDS
    @_WHERE
    @_YES
    @_DRY
    @root_option
    @click.pass_context
    def command(ctx: click.Context, run_refs: tuple[str, ...], where: str | None, yes: bool, dry_run: bool) -> None:
        from ..store import _manage

        store = get_store(ctx)
        records = _select(ctx, run_refs, where, archived=archived)
        fn = getattr(_manage, name)
        if not records:
            click.echo("No runs matched.", err=True)
            return
        targets = _check_all(records, lambda record, dry_run: fn(store, record, dry_run=dry_run))
        if dry_run:
            for record, target in zip(records, targets, strict=True):
                click.echo(f"would {verb} {_describe(record)}: {target}")
            return
        if confirm and not yes:
            for record in records:
                click.echo(f"  {_describe(record)}  {record.path}", err=True)
            n = len(records)
            if not click.confirm(f"{verb.capitalize()} {n} run{'s' if n != 1 else ''}?", err=True):
                click.echo("Nothing changed.", err=True)
                return
        for record in records:
            target = fn(store, record)
            click.echo(f"{past} {_describe(record)}: {target}")

    command.__doc__ = doc
    cli.command(name)(command)


_DELETE_DOC = """Delete runs: their folders and index entries.

    Asks for confirmation unless --yes. Running runs are refused.

    \b
    Examples:
      runlab delete 3f2a --dry-run
      runlab delete --where "status == 'failed'" --yes
    """
_ARCHIVE_DOC = """Move runs to <root>/.archive/ (hidden from 'runlab list' unless -a).

    \b
    Examples:
      runlab archive 3f2a
      runlab archive --where "created < '2026-01-01'" --yes
    """
_UNARCHIVE_DOC = """Move archived runs back into the store.

    --where matches archived runs.

    \b
    Examples:
      runlab unarchive 3f2a
      runlab unarchive --where "'keep' in tags"
    """
_destructive("delete", "delete", "deleted", archived=False, confirm=True, doc=_DELETE_DOC)
_destructive("archive", "archive", "archived", archived=False, confirm=True, doc=_ARCHIVE_DOC)
_destructive("unarchive", "unarchive", "restored", archived=True, confirm=False, doc=_UNARCHIVE_DOC)


@cli.command("gc")
@click.option("--older-than", "older_than", metavar="AGE", default="7d", show_default=True,
              help="Only runs created more than AGE ago (e.g. 12h, 7d, 0 for any age).")  # fmt: skip
@click.option("--crashed/--no-crashed", default=True, show_default=True, help="Remove crashed runs.")
@click.option("--debug-runs/--no-debug-runs", default=True, show_default=True,
              help="Remove debug runs (folders named 'debug').")  # fmt: skip
@_YES
@_DRY
@root_option
@click.pass_context
def gc(ctx: click.Context, older_than: str, crashed: bool, debug_runs: bool, yes: bool, dry_run: bool) -> None:
    """Remove crashed runs and debug runs older than an age, and lock files left by killed processes.

    \b
    Examples:
      runlab gc --dry-run
      runlab gc --older-than 1d --yes
    """
    from ..store._manage import delete, gc_candidates, gc_locks, parse_age

    store = get_store(ctx)
    found = gc_candidates(store, parse_age(older_than), crashed=crashed, debug=debug_runs)
    locks = gc_locks(store, dry_run=True)  # those no process holds now
    if not found and not locks:
        click.echo("Nothing to remove.", err=True)
        return
    for record, why in found:
        click.echo(f"{'would remove' if dry_run else 'remove'} {_describe(record)} [{why}] {record.path}",
                   err=not dry_run)  # fmt: skip
    for lock in locks:
        click.echo(f"{'would remove' if dry_run else 'remove'} lock file {lock} [no process holds it]",
                   err=not dry_run)  # fmt: skip
    what = " and ".join(_count(n, noun) for n, noun in ((len(found), "run"), (len(locks), "stale lock file")) if n)
    if dry_run:
        return
    if not yes and not click.confirm(f"Remove {what}?", err=True):
        click.echo("Nothing changed.", err=True)
        return
    removed = gc_locks(store)  # before the runs: a deleted run's lock goes with it either way
    for record, _ in found:
        delete(store, record)
    what = " and ".join(_count(n, noun) for n, noun in ((len(found), "run"), (len(removed), "stale lock file")) if n)
    click.echo(f"Removed {what or 'nothing'}.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
