"""``runlab cache``: list and clear the store's cache of expensive results."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from ._main import cli, get_store, root_option
from ._render import print_table

if TYPE_CHECKING:
    from ..cache import Cache


def _scope(text: str | None) -> tuple[str, ...]:
    """``--scope A/B`` as parts; every part is checked (``--scope ""`` or ``/a`` is refused, never "all")."""
    if text is None:
        return ()
    parts = tuple(text.split("/"))
    if "" in parts:
        from ..errors import UsageError

        raise UsageError(f"Invalid --scope {text!r}: expected names separated by '/', such as 'data/v1' (no empty "
                         "name: no leading, trailing or double '/'). Leave --scope out for every entry.")  # fmt: skip
    return parts


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _cache(ctx: click.Context) -> Cache:
    from ..cache import Cache

    return Cache(root=get_store(ctx).root)


_SCOPE = click.option("--scope", metavar="A/B", help="Only entries under this scope, e.g. data/v1.")
_NAME = click.option("--name", metavar="NAME", help="Only entries with this name.")


@cli.group("cache")
def cache_group() -> None:
    """List and clear cached results (``@runlab.cached``, ``e.cache.cached``).

    The cache lives in <root>/.runlab/cache and is shared by every run of the store.

    \b
    Examples:
      runlab cache list
      runlab cache clear --scope data/v1 --yes
    """


@cache_group.command("list")
@root_option
@_SCOPE
@_NAME
@click.pass_context
def list_cmd(ctx: click.Context, scope: str | None, name: str | None) -> None:
    """List cached entries: scope, name, backend, size, when stored and by which function.

    \b
    Example:
      runlab cache list --scope data
    """
    cache = _cache(ctx)
    entries = cache.entries(_scope(scope), name)
    if not entries:
        click.echo(f"No cached results in {cache.path}.")
        return
    rows = [
        ["/".join(e.scope) or "-", e.name, e.backend, _size(e.size),
         dt.datetime.fromtimestamp(e.created).strftime("%Y-%m-%d %H:%M:%S"), e.function or "-"]
        for e in entries
    ]  # fmt: skip
    total = sum(e.size for e in entries)
    print_table(None, ["scope", "name", "backend", "size", "stored", "function"], rows)
    click.echo(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {_size(total)}", err=True)


@cache_group.command("clear")
@root_option
@_SCOPE
@_NAME
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def clear_cmd(ctx: click.Context, scope: str | None, name: str | None, yes: bool) -> None:
    """Delete cached entries (all of them, or those under --scope / called --name).

    Asks for confirmation unless --yes. The next call of a cached function computes again.

    \b
    Example:
      runlab cache clear --name features --yes
    """
    cache = _cache(ctx)
    entries = cache.entries(_scope(scope), name)
    if not entries:
        click.echo("No cached results match; nothing changed.")
        return
    if not yes and not click.confirm(f"Delete {len(entries)} cached entr{'y' if len(entries) == 1 else 'ies'}?",
                                     err=True):  # fmt: skip
        click.echo("Nothing changed.")
        return
    removed = cache.clear(_scope(scope), name)
    click.echo(f"Deleted {removed} cached entr{'y' if removed == 1 else 'ies'}.")
