"""``runlab plugins``: list plugins, show one plugin's details and help."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ._main import cli

if TYPE_CHECKING:
    from ..plugins import PluginManager

__all__ = ["plugins_group"]


def _manager() -> PluginManager:
    """The process's plugin manager; when a critical plugin fails to load (which stops every run),
    one that lists it as failed, so that the user can still look at it here."""
    from ..errors import PluginLoadError
    from ..plugins import PluginManager, get_manager

    try:
        return get_manager()
    except PluginLoadError as exc:
        click.echo(f"runlab: {exc}", err=True)
        return PluginManager(inspecting=True)


@cli.group("plugins")
def plugins_group() -> None:
    """Inspect the plugins: where they come from, their state and their hooks.

    \b
    Examples:
      runlab plugins list
      runlab plugins info plot_track
      runlab plugins help notify
    """


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_plugins(as_json: bool) -> None:
    """List plugins with version, source, state and hooks.

    Inactive plugins (a package missing, disabled, off by default) show a one-line notice.
    """
    manager = _manager()
    rows: list[dict[str, Any]] = []
    for record in manager.plugins():
        rows.append(
            {
                "name": record.name,
                "version": record.version,
                "source": record.source.describe(),
                "state": record.state.value,
                "hooks": manager.hooks_of(record.name),
                "notice": record.notice,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No plugins found. See docs/plugins.md to write one.")
        return
    from ._render import print_table

    print_table(
        None,
        ["name", "version", "source", "state", "hooks"],
        [[r["name"], r["version"], r["source"], r["state"], ", ".join(r["hooks"]) or "-"] for r in rows],
    )
    for r in rows:
        if r["notice"]:
            click.echo(f"note: {r['name']}: {r['notice']}")


@plugins_group.command("info")
@click.argument("name")
def info(name: str) -> None:
    """Show plugin NAME: metadata, source, hooks and its state history."""
    manager = _manager()
    record = manager.get(name)
    meta = record.plugin.metadata if record.plugin is not None else None
    lines = [
        f"name:        {record.name}",
        f"version:     {record.version}",
        f"source:      {record.source.describe()} [{record.source.target}]",
        f"state:       {record.state.value}",
        f"critical:    {'yes' if record.critical else 'no'}",
        f"hooks:       {', '.join(manager.hooks_of(name)) or '-'}",
    ]
    if meta is not None:
        lines += [
            f"author:      {meta.author or '-'}",
            f"description: {meta.description or '-'}",
            f"depends on:  {', '.join(meta.dependencies) or '-'}",
            f"tags:        {', '.join(meta.tags) or '-'}",
        ]
    if record.notice:
        lines.append(f"note:        {record.notice}")
    for source in record.shadowed:
        lines.append(f"shadows:     {source.describe()}")
    lines.append("history:")
    lines += [f"  {c.time:%Y-%m-%d %H:%M:%S}  {c.state.value:<12} {c.reason}" for c in record.history]
    if record.traceback:
        lines += ["last error:", record.traceback.rstrip()]
    click.echo("\n".join(lines))


@plugins_group.command("help")
@click.argument("name", required=False)
def help_(name: str | None) -> None:
    """Show plugin NAME's help, or one line per plugin."""
    click.echo(_manager().help(name))
