"""Finding plugins (without importing them) and importing them.

Sources, most specific first (a name found earlier shadows the same name found later):

1. folders in ``RUNLAB_PLUGIN_PATH`` (separated by ``os.pathsep``),
2. the project's ``.runlab/plugins/`` (next to the nearest ``pyproject.toml``, else the cwd),
3. the user's config folder (``~/.config/runlab/plugins`` on Linux; :func:`runlab._activation.user_plugin_folder`),
4. installed distributions' entry points in the group ``runlab.plugins``,
5. runlab's built-in plugins.

In a folder, every ``NAME.py`` file and every ``NAME/`` package (with ``__init__.py``) is a
plugin called NAME; names starting with ``_`` or ``.`` are ignored. A ``PluginManager([dirs])``
searches its own folders before all of these.

A folder plugin's settings may sit beside it in ``config.yml`` (:func:`folder_settings`):
the folder's ``config.yml`` holds a mapping per plugin name, a package's own ``config.yml`` its
settings; ``[tool.runlab.plugins.NAME]`` overrides both.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from .._activation import ENTRY_POINT_GROUP, plugin_distributions, user_plugin_folder
from .._valueclass import value_class
from ._errors import PluginLoadError
from ._plugin import Plugin

__all__ = [
    "ENTRY_POINT_GROUP", "PluginSource", "discover", "folder_problem", "folder_settings", "import_plugin_class",
    "plugin_folders",
]  # fmt: skip

BUILTIN = {
    "plot_track": "runlab.plugins.builtin.plot_track:PlotTrackPlugin",
    "notify": "runlab.plugins.builtin.notify:NotifyPlugin",
    "mlflow": "runlab.plugins.builtin.mlflow:MlflowPlugin",
    "wandb": "runlab.plugins.builtin.wandb:WandbPlugin",
    "system": "runlab.plugins.builtin.system:SystemMetricsPlugin",
}


@value_class(frozen=True)
class PluginSource:
    """Where a plugin comes from.

    Attributes:
        name: the plugin's name.
        kind: ``"builtin"``, ``"entry-point"`` or ``"folder"``.
        target: ``"module:attribute"`` (builtin, entry point) or the file or package path.
        distribution: ``"name version"`` of the installed distribution (entry points only).
    """

    name: str
    kind: str
    target: str
    distribution: str = ""

    def describe(self) -> str:
        if self.kind == "entry-point":
            return f"entry point ({self.distribution})"
        if self.kind == "folder":
            return f"folder ({self.target})"
        return "builtin"


def plugin_folders(project_dir: Path | None = None) -> list[Path]:
    """The plugin folders searched, most specific first (existing or not)."""
    folders = [Path(p).expanduser() for p in os.environ.get("RUNLAB_PLUGIN_PATH", "").split(os.pathsep) if p]
    folders.append((project_dir or Path.cwd()) / ".runlab" / "plugins")
    folders.append(user_plugin_folder())
    return folders


def folder_problem(folder: Path) -> str | None:
    """Why no plugin can be read from ``folder``, in one line; None when it is a readable folder or absent.

    Example:
        >>> import tempfile, pathlib
        >>> folder_problem(pathlib.Path(tempfile.mkdtemp())) is None
        True
        >>> folder_problem(pathlib.Path(tempfile.mkstemp(suffix=".py")[1]))
        'plugin folder ... is a file, so no plugin is loaded from it. ...'
    """
    try:
        if not folder.exists():
            return None
        if not folder.is_dir():
            inside = folder.parent  # the folder that holds the file is where plugins go
            return (
                f"plugin folder {folder} is a file, so no plugin is loaded from it. Plugins go inside a folder, "
                f"as {inside}/NAME.py; name that folder (RUNLAB_PLUGIN_PATH holds folders)."
            )
        os.listdir(folder)
    except OSError as exc:
        return (
            f"cannot read plugin folder {folder}: {exc.strerror or exc}. Fix the folder (or RUNLAB_PLUGIN_PATH); "
            "no plugin is loaded from it."
        )
    return None


def _folder_sources(folder: Path) -> Iterator[PluginSource]:
    """The plugins in ``folder``; an unreadable folder or entry is skipped (see :func:`folder_problem`)."""
    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(("_", ".")):
            continue
        try:
            if entry.is_file() and entry.suffix == ".py":
                yield PluginSource(entry.stem, "folder", str(entry))
            elif entry.is_dir() and (entry / "__init__.py").is_file():
                yield PluginSource(entry.name, "folder", str(entry))
        except OSError:
            continue


def _entry_point_sources() -> Iterator[PluginSource]:
    """Entry points of group ``runlab.plugins`` of the distributions on ``sys.path``
    (found by :func:`runlab._activation.plugin_distributions`); ``METADATA`` is read only for the
    few distributions that have runlab plugins."""
    import configparser

    for info, text in plugin_distributions():
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text)
        except configparser.Error:
            continue
        if parser.has_section(ENTRY_POINT_GROUP):
            label = _distribution_label(info)
            for ep_name, value in parser.items(ENTRY_POINT_GROUP):
                yield PluginSource(ep_name, "entry-point", value.strip(), label)


def _distribution_label(info: Path) -> str:
    """``"name version"`` from a distribution's ``METADATA`` (``PKG-INFO`` for eggs)."""
    fields: dict[str, str] = {}
    for meta in ("METADATA", "PKG-INFO"):
        try:
            lines = (info / meta).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            if not line.strip():
                break
            key, _, value = line.partition(":")
            if key in ("Name", "Version") and key not in fields:
                fields[key] = value.strip()
        break
    return f"{fields.get('Name', info.name)} {fields.get('Version', '')}".strip()


def discover(
    project_dir: Path | None = None, extra: list[Path] | tuple[Path, ...] = ()
) -> tuple[list[PluginSource], list[PluginSource]]:
    """Every plugin source: ``(found, shadowed)``; ``found`` has one source per name.

    ``extra`` folders are searched first.
    """
    candidates: list[PluginSource] = []
    for folder in [*extra, *plugin_folders(project_dir)]:
        candidates.extend(_folder_sources(folder))
    candidates.extend(_entry_point_sources())
    candidates.extend(PluginSource(name, "builtin", target) for name, target in BUILTIN.items())
    found: dict[str, PluginSource] = {}
    shadowed = []
    for source in candidates:
        if source.name in found:
            shadowed.append(source)
        else:
            found[source.name] = source
    return list(found.values()), shadowed


def folder_settings(source: PluginSource) -> dict[str, Any]:
    """A folder plugin's settings from a ``config.yml`` beside it ({} for other plugins or none).

    ``<folder>/config.yml`` maps plugin names to settings (``my_plugin: {greeting: hi}``); a
    package plugin's own ``<package>/config.yml`` holds its settings directly (and wins).

    Raises:
        PluginLoadError: the file is not YAML or its entry for the plugin is not a mapping.
    """
    if source.kind != "folder":
        return {}
    path = Path(source.target)
    settings: dict[str, Any] = {}
    shared = _read_yaml(path.parent / "config.yml", source.name)
    if shared is not None:
        entry = shared.get(source.name, {})
        if not isinstance(entry, dict):
            raise PluginLoadError(
                f"Invalid settings for plugin {source.name!r} in {path.parent / 'config.yml'}: expected a mapping "
                f"such as '{source.name}: {{greeting: hello}}', got {type(entry).__name__}.",
                source.name,
                path=str(path.parent / "config.yml"),
            )
        settings.update(entry)
    if path.is_dir():
        own = _read_yaml(path / "config.yml", source.name)
        if own is not None:
            settings.update(own)
    return settings


def _read_yaml(path: Path, name: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PluginLoadError(f"Cannot read the settings of plugin {name!r} from {path}: {exc}", name,
                              path=str(path)) from exc  # fmt: skip
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PluginLoadError(
            f"Invalid plugin settings file {path}: expected a mapping, got {type(data).__name__}.", name, path=str(path)
        )
    return data


def _module_name(source: PluginSource) -> str:
    return f"runlab_plugin_{source.name}"


def _import_file(source: PluginSource) -> ModuleType:
    """A folder plugin's file (or package folder), loaded anew with :mod:`runlab._pyfile`.

    Compiled from source each time: a reload sees the file as it is now (a cached .pyc is
    only checked by mtime and size), and nothing is written beside the user's plugin.
    """
    from .._pyfile import load_module

    path = Path(source.target)
    if path.is_dir() and not (path / "__init__.py").is_file():
        raise PluginLoadError(f"Cannot import plugin folder {path}: it has no __init__.py.", source.name)
    return load_module(path, _module_name(source))


def _import_target(target: str, reload: bool) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    if reload:
        module = importlib.reload(module)
    obj: Any = module
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


def _plugin_class_in(obj: Any, source: PluginSource) -> type[Plugin]:
    if inspect.isclass(obj) and issubclass(obj, Plugin):
        return obj
    if isinstance(obj, Plugin):
        return type(obj)
    if isinstance(obj, ModuleType):
        explicit = getattr(obj, "plugin", None)
        if explicit is not None:
            return _plugin_class_in(explicit, source)
        classes = [
            value
            for value in vars(obj).values()
            if inspect.isclass(value)
            and issubclass(value, Plugin)
            and value is not Plugin
            and value.__module__ == obj.__name__
            and not value.__name__.startswith("_")
        ]
        if classes:
            return classes[0]
    raise PluginLoadError(
        f"Plugin {source.name!r} ({source.describe()}) defines no runlab.plugins.Plugin subclass. "
        "Define one in the module, or point the entry point at the class ('module:ClassName').",
        source.name,
    )


def import_plugin_class(source: PluginSource, reload: bool = False) -> type[Plugin]:
    """Import ``source`` (again, with ``reload``) and return its :class:`Plugin` subclass."""
    if source.kind == "folder":
        obj: Any = _import_file(source)  # always a fresh module object
    else:
        obj = _import_target(source.target, reload)
    return _plugin_class_in(obj, source)
