"""Plugin activation for every run: one path, and no plugin machinery where no plugin can act.

``import runlab`` installs :func:`activate_plugins` as the activator of the process hook
registry (:mod:`runlab.hooks`). It runs once per process, when the first run is created
(``runlab.start_run``, ``with runlab.run()``, a functional experiment, a script) or the
first hook is fired, whichever comes first. It loads the process's plugin manager
(:func:`runlab.plugins.get_manager`) only when :func:`plugins_configured` says a plugin
could act, so a trivial run pays a few file checks (1-2 ms, measured under load) instead of
discovering and importing plugins (60-100 ms, measured under load).

A plugin could act when any of these holds:

- a plugin folder holds a plugin: ``RUNLAB_PLUGIN_PATH``, the project's ``.runlab/plugins/``,
  the user's config folder (:func:`user_plugin_folder`);
- an installed distribution declares an entry point in the group ``runlab.plugins``;
- ``[tool.runlab.plugins] enabled`` of the project's ``pyproject.toml`` names a plugin;
- the built-in ``notify`` plugin (on by default) can show a notification: a desktop session
  (:func:`desktop_session`) and it is not disabled;
- for runs of the experiment styles only (:func:`activate_for_experiment`): the built-in
  ``system`` plugin (on by default; it samples only those runs) is not disabled and psutil
  is installed. When it is the only one, the plugins load :data:`LATE_DELAY` seconds into
  the run (:func:`join_late`), so short runs pay nothing for it.

Calling :func:`runlab.plugins.get_manager` loads the plugins whatever this says.

Example:
    >>> import os, tempfile
    >>> plugins_configured(tempfile.mkdtemp()) in (True, False)
    True
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ENTRY_POINT_GROUP",
    "LATE_DELAY",
    "activate_for_experiment",
    "activate_plugins",
    "desktop_session",
    "join_late",
    "plugin_distributions",
    "plugins_configured",
    "register_plugin_commands",
    "user_plugin_folder",
]

ENTRY_POINT_GROUP = "runlab.plugins"


def desktop_session() -> bool:
    """True where a notification can be shown: macOS, Windows, or Linux with a D-Bus session."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")) and bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def user_plugin_folder() -> Path:
    """The user's plugin folder: ``~/.config/runlab/plugins`` on Linux (``$XDG_CONFIG_HOME``),
    ``~/Library/Application Support/runlab/plugins`` on macOS, ``%APPDATA%\\runlab\\plugins`` on Windows
    (the folders ``click.get_app_dir("runlab")`` names)."""
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
        return Path(base) / "runlab" / "plugins"
    if sys.platform == "darwin":
        return Path(os.path.expanduser("~/Library/Application Support")) / "runlab" / "plugins"
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "runlab" / "plugins"


def _holds_plugin(folder: Path) -> bool:
    try:
        entries = os.listdir(folder)
    except OSError:
        return False
    for name in entries:
        if name.startswith(("_", ".")):
            continue
        if name.endswith(".py"):
            return True
        try:
            if (folder / name / "__init__.py").is_file():
                return True
        except OSError:  # an unreadable entry: the plugin manager reports its folder
            continue
    return False


def plugin_distributions() -> list[tuple[Path, str]]:
    """``(info folder, entry_points.txt text)`` of each distribution on ``sys.path`` that declares
    the ``runlab.plugins`` entry-point group.

    Read as :mod:`importlib.metadata` would (the first distribution of a name wins), without
    importing it: only directory listings and ``entry_points.txt`` files are read. Each folder's
    scan is remembered while the folder is unchanged (installing or removing a distribution
    changes it), so the runs of a sweep, and processes forked from a warm server, scan once.
    """
    seen: set[str] = set()
    found: list[tuple[Path, str]] = []
    for entry in sys.path:
        folder = entry or "."
        try:
            stamp = os.stat(folder).st_mtime_ns
        except OSError:
            continue
        for key, info, text in _scan_folder(os.path.abspath(folder), stamp):
            if key not in seen:
                seen.add(key)
                if text is not None:
                    found.append((Path(info), text))
    return found


@functools.lru_cache(maxsize=64)
def _scan_folder(folder: str, stamp: int) -> tuple[tuple[str, str, str | None], ...]:
    """``(distribution key, info folder, entry_points.txt text if it declares the group)`` per distribution."""
    header = f"[{ENTRY_POINT_GROUP}]"
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ()
    found: list[tuple[str, str, str | None]] = []
    for name in names:
        if not name.endswith((".dist-info", ".egg-info")):
            continue
        key = name.rpartition(".")[0].partition("-")[0].lower().replace("-", "_").replace(".", "_")
        info = os.path.join(folder, name)
        try:
            with open(os.path.join(info, "entry_points.txt"), encoding="utf-8") as fh:
                text: str | None = fh.read()
        except OSError:
            text = None
        found.append((key, info, text if text is not None and header in text else None))
    return tuple(found)


def plugins_configured(project_dir: str | os.PathLike[str] | None = None, *, experiment: bool = False) -> bool:
    """Whether a plugin could act in this process (see the module docstring); cheap, imports nothing.

    Args:
        project_dir: where to look for ``pyproject.toml`` and ``.runlab/plugins/`` (default: the cwd).
        experiment: for a run of an experiment style (the ``system`` plugin counts too).
    """
    need = _plugins_needed(project_dir)
    return need == "plugins" or (experiment and need == "system")


def _plugins_needed(project_dir: str | os.PathLike[str] | None = None) -> Literal["plugins", "system"] | None:
    """``"plugins"`` when a plugin could act on any run, ``"system"`` when only the built-in ``system``
    plugin could (it samples experiment runs), else None."""
    from .store._root import find_pyproject

    start = Path(project_dir) if project_dir is not None else None
    pyproject = find_pyproject(start)
    project = pyproject.parent if pyproject is not None else (start or Path.cwd())
    folders = [Path(p).expanduser() for p in os.environ.get("RUNLAB_PLUGIN_PATH", "").split(os.pathsep) if p]
    folders += [project / ".runlab" / "plugins", user_plugin_folder()]
    if any(_holds_plugin(folder) for folder in folders):
        return "plugins"
    enabled: set[str] = set()
    disabled: set[str] = set()
    if pyproject is not None:
        text = pyproject.read_text(encoding="utf-8")
        if "plugins" in text and "runlab" in text:
            from .store._root import read_toml

            section = read_toml(pyproject, text).get("tool", {}).get("runlab", {}).get("plugins", {})
            if not isinstance(section, dict):
                return "plugins"  # malformed: the plugin manager reports it
            names = {key: section.get(key, []) for key in ("enabled", "disabled")}
            if not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in names.values()):
                return "plugins"
            if any(key not in names and not isinstance(value, dict) for key, value in section.items()):
                return "plugins"  # a misspelt key (disable = [...]): the plugin manager reports it
            enabled, disabled = set(names["enabled"]), set(names["disabled"])
    if enabled - disabled:
        return "plugins"
    if "notify" not in disabled and desktop_session():
        return "plugins"
    if plugin_distributions():
        return "plugins"
    return "system" if "system" not in disabled and _importable("psutil") else None


@functools.lru_cache(maxsize=16)
def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def activate_plugins() -> None:
    """The process registry's activator: load the plugin manager when a plugin could act."""
    if plugins_configured():
        from .plugins import get_manager

        get_manager()


def activate_for_experiment() -> bool:
    """For a run of an experiment style: load the plugin manager when a plugin could act on it.

    Like :func:`activate_plugins`, except when the built-in ``system`` plugin is the only one
    that could act: it samples only runs that last (its first sample comes after a second), so
    loading is left to :func:`join_late`, called once the run has started; a run shorter than
    :data:`LATE_DELAY` never pays for the plugin machinery. Bare ``start_run`` runs never
    load it for ``system`` (it does not sample them).

    Returns:
        True when loading was left to :func:`join_late`.
    """
    process = sys.modules.get("runlab.plugins._process")
    if process is not None and process.manager_loaded():
        return False  # loaded by an earlier run of this process: nothing to check again
    need = _plugins_needed()
    if need == "plugins":
        from .plugins import get_manager

        get_manager()
    return need == "system"


LATE_DELAY = 0.5
"""Seconds a run of an experiment style runs before the plugins that only sample (``system``) load."""


def join_late(run: Any, experiment: Any = None) -> None:
    """Load the plugins :data:`LATE_DELAY` s into ``run`` and let them join it.

    On the run's background thread, if the run is still running then: the plugin manager is
    loaded and the plugins' own ``before_run`` implementations (not the experiment's) are
    called for ``run``, as if they had been loaded when it started.
    """

    def join() -> None:
        if getattr(run, "status", None) != "running":
            return
        from .hooks import get_registry
        from .hooks._specs import BEFORE_RUN
        from .plugins import get_manager

        get_manager()
        registry = get_registry()
        impls = [impl for impl in registry.implementations(BEFORE_RUN) if impl.plugin is not None]
        registry.call(impls, {"run": run, "experiment": experiment})

    run._call_later(LATE_DELAY, join)


def register_plugin_commands(cli: Any) -> None:
    """Let plugins add click commands to ``cli`` (fires ``cli_register_commands``).

    Call it before ``cli.main()`` so the commands appear in ``runlab --help``. Plugins load
    as for a run (only where one is configured). A plugin failing here is reported and
    skipped; the command line still works. A plugin's command never replaces a command
    ``cli`` has already (runlab's own, or an earlier plugin's): it is left out, with one line
    on stderr naming the plugin and the command.

    Example:
        >>> import click
        >>> register_plugin_commands(click.Group("demo"))  # no plugin adds commands here
    """
    from .hooks import get_registry
    from .hooks._specs import CLI_REGISTER_COMMANDS

    registry = get_registry()
    try:
        registry.activate()
        impls = registry.implementations(CLI_REGISTER_COMMANDS)
    except Exception as exc:
        print(f"runlab: plugin commands could not be registered: {type(exc).__name__}: {exc}", file=sys.stderr)
        return
    commands = getattr(cli, "commands", None)
    added_by: dict[str, str] = {}
    for impl in impls:  # one at a time: a clash is the fault of the implementation that made it
        before = dict(commands) if isinstance(commands, dict) else {}
        try:
            registry.call([impl], {"cli": cli})
        except Exception as exc:  # a critical plugin's failure: still no reason to lose the command line
            print(f"runlab: plugin commands could not be registered: {type(exc).__name__}: {exc}", file=sys.stderr)
        for name, command in before.items():
            if commands is not None and commands.get(name) is not command:
                commands[name] = command
                whose = f"plugin {added_by[name]!r}'s" if name in added_by else "runlab's own"
                print(
                    f"runlab: plugin {impl.owner!r} cannot replace the command 'runlab {name}' ({whose}); its "
                    f'command was left out. Give it another name (click.command("{impl.owner}-{name}")).',
                    file=sys.stderr,
                )
        if commands is not None:
            added_by.update((name, impl.owner) for name in commands if name not in before)
