"""The ``runlab`` click group, error handling and the store option."""

from __future__ import annotations

import errno
import gc
import os
import sys
import warnings
from collections.abc import Callable
from importlib import import_module
from typing import Any, TypeVar

import click

from .._version import __version__
from ..errors import RunlabError, UsageError

__all__ = ["cli", "existing_store", "given_text", "main", "root_option"]

F = TypeVar("F", bound=Callable[..., Any])


class _UserError(click.ClickException):
    """A runlab usage error: one line on stderr, exit code 2."""

    exit_code = 2


_COMMANDS = {
    **dict.fromkeys(("run", "rerun"), "_run_cmd"),
    **dict.fromkeys(("compare", "logs", "metrics", "artifacts", "open"), "_inspect"),
    **dict.fromkeys(("tag", "untag", "note", "gc", "archive", "unarchive", "delete"), "_manage_cmd"),
    **dict.fromkeys(("template", "init", "completion"), "_scaffold"),
    "branch": "_branch_cmd",
    "cache": "_cache_cmd",
    "config": "_config_cmd",
    "export": "_export",
    "index": "_index_cmd",
    "list": "_list",
    "plugins": "_plugins_cmd",
    "reproduce": "_reproduce_cmd",
    "show": "_show",
    "sweep": "_sweep_cmd",
    "workflow": "_workflow_cmd",
    "ui": "_ui_cmd",
}
"""Which module of :mod:`runlab.cli` defines each command: a command's module loads when it is used."""


class RunlabGroup(click.Group):
    """A group that turns runlab errors into one-line messages (exit 2 for bad input, 1 otherwise).

    Commands load lazily (``runlab run`` imports only what running needs); plugin commands
    are looked up when a name is not a built-in command, and for ``--help``.
    """

    _plugins_registered = False

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            import_module(f"{__package__}.{module}")
        command = super().get_command(ctx, cmd_name)
        if command is None and module is None:  # a command missing from _COMMANDS still works: load them all
            _register()
            command = super().get_command(ctx, cmd_name)
        if command is None and not RunlabGroup._plugins_registered:
            _register_plugin_commands(self)
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register()
        _register_plugin_commands(self)
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            if _debug(ctx):
                raise
            raise _UserError(_one_line(exc)) from None
        except RunlabError as exc:
            if _debug(ctx):
                raise
            raise click.ClickException(_one_line(exc)) from None
        except OSError as exc:  # a full disk, an output that cannot be written: one line, exit 1
            if _debug(ctx) or exc.errno == errno.EPIPE:  # a closed pipe (| head): click ends quietly
                raise
            _drop_unwritable_output()
            where = f" ({exc.filename})" if exc.filename else ""
            raise click.ClickException(
                f"{exc.strerror or exc}{where}. RUNLAB_DEBUG=1 shows where it happened."
            ) from None


def _drop_unwritable_output() -> None:
    """When stdout itself cannot be written, send what is left of it nowhere (as Python's docs do for a
    closed pipe), so that the exit's flush does not fail again with "Exception ignored"."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass


def _debug(ctx: click.Context) -> bool:
    return bool((ctx.obj or {}).get("debug")) or os.environ.get("RUNLAB_DEBUG") == "1"


def _one_line(exc: BaseException) -> str:
    """The message; filter errors add the expression and a caret line below it."""
    return str(exc)


def _store_root(ctx: click.Context, root: str | None) -> None:
    ctx.ensure_object(dict)
    if root:
        ctx.obj["root"] = root


def root_option(fn: F) -> F:
    """Add ``--root`` to a command (it may also be given before the command name)."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        _store_root(ctx.find_root(), value)

    return click.option(
        "--root",
        metavar="PATH",
        expose_value=False,
        callback=callback,
        help="Store folder (default: RUNLAB_ROOT, [tool.runlab] root in pyproject.toml, or ./runs).",
    )(fn)


def given_text(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Option callback: text given empty (``-n ""``, ``--sort ""``; each of a repeatable option's) is
    refused; it would quietly mean "not given"."""
    for text in value if isinstance(value, tuple) else (value,):
        if isinstance(text, str) and not text.strip():
            raise click.BadParameter(f"{text!r} is empty: give a value, or leave the option out.", ctx=ctx,
                                     param=param)  # fmt: skip
    return value


def get_store(ctx: click.Context) -> Any:
    from ..store import get_store as _get

    return _get((ctx.find_root().obj or {}).get("root"))


def existing_store(ctx: click.Context) -> Any:
    """The store for a command that only reads: a ``--root`` folder that does not exist is an error.

    Raises:
        UsageError: ``--root`` (or ``RUNLAB_ROOT``) names a folder that does not exist.
    """
    store = get_store(ctx)
    given = (ctx.find_root().obj or {}).get("root")
    source = "--root" if given else ("RUNLAB_ROOT" if os.environ.get("RUNLAB_ROOT") else None)
    if source and not store.root.exists():
        raise UsageError(
            f"The store folder {store.root} (from {source}) does not exist. Check the path; a store is created "
            "by the first run recorded in it."
        )
    return store


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``: print ``runlab, version X`` and exit, as :func:`click.version_option` does.

    click's own option looks its message up with :mod:`gettext` as the group is defined, in every
    process (``runlab run`` included); this one costs nothing until ``--version`` is given.
    """
    if value and not ctx.resilient_parsing:
        click.echo(f"runlab, version {__version__}", color=ctx.color)
        ctx.exit()


@click.group(cls=RunlabGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-V", "--version", is_flag=True, is_eager=True, expose_value=False, callback=_show_version,
              help="Show the version and exit.")  # fmt: skip
@click.option("--root", metavar="PATH", help="Store folder (default: RUNLAB_ROOT, [tool.runlab] root, or ./runs).")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, root: str | None, debug: bool) -> None:
    """runlab: record, find and compare experiment runs.

    \b
    Examples:
      runlab list --where "params.lr < 0.01 and status == 'completed'"
      runlab show 3f2a            # by ID prefix or run name
      runlab index rebuild        # after copying run folders in
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    _store_root(ctx, root)


def _register() -> None:
    from . import (  # noqa: F401  (commands register themselves)
        _branch_cmd,
        _cache_cmd,
        _config_cmd,
        _export,
        _index_cmd,
        _inspect,
        _list,
        _manage_cmd,
        _optimize_cmd,
        _plugins_cmd,
        _reproduce_cmd,
        _run_cmd,
        _scaffold,
        _show,
        _study_cmd,
        _sweep_cmd,
        _ui_cmd,
        _watch,
        _workflow_cmd,
    )


def _register_plugin_commands(group: click.Group) -> None:
    """Commands that plugins add through ``cli_register_commands`` (once per process)."""
    if RunlabGroup._plugins_registered:
        return
    RunlabGroup._plugins_registered = True
    from .._activation import register_plugin_commands

    register_plugin_commands(group)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:  # fmt: skip
    """Print a :class:`~runlab.store.RunlabWarning` (something runlab repaired or skipped) as one line,
    without the source location Python adds; other warnings as Python prints them."""
    if category.__name__ == "RunlabWarning":
        print(f"runlab: {message}", file=file if file is not None else sys.stderr)
    else:
        _PYTHON_SHOW_WARNING(message, category, filename, lineno, file, line)


_PYTHON_SHOW_WARNING = warnings.showwarning


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``runlab`` console script (commands load when used)."""
    _freeze_loaded()
    warnings.showwarning = _show_warning
    _check_utf8(sys.argv[1:] if argv is None else argv)
    cli.main(args=argv, prog_name="runlab")


def _freeze_loaded() -> None:
    """Move everything loaded so far (modules, classes, click's commands: it all lives as long as the
    process) out of the cyclic garbage collector's way (:func:`gc.freeze`), so the collections that
    a command's own work triggers do not go through it again each time: about 5% of a trivial
    ``runlab run`` (benchmarks/bench_run_startup.py). What is created later is collected as usual."""
    gc.freeze()


def _check_utf8(args: list[str]) -> None:
    """Exit 2 on an argument that is not valid UTF-8 (bytes Python kept as lone surrogates): no file
    of the store can hold it, and it would fail deep inside a command with a traceback."""
    for number, arg in enumerate(args, 1):
        if arg.isascii():
            continue
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            click.echo(f"Error: argument {number} ({shown!r}) is not valid UTF-8 text. Type it again, or set "
                       "your terminal's encoding to UTF-8.", err=True)  # fmt: skip
            raise SystemExit(2) from None
