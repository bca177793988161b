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
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .._activation import ENTRY_POINT_GROUP, user_plugin_folder
from ._errors import PluginLoadError
from ._plugin import Plugin

__all__ = ["ENTRY_POINT_GROUP", "PluginSource", "discover", "folder_settings", "import_plugin_class", "plugin_folders"]

BUILTIN = {
    "plot_track": "runlab.plugins.builtin.plot_track:PlotTrackPlugin",
    "notify": "runlab.plugins.builtin.notify:NotifyPlugin",
    "mlflow": "runlab.plugins.builtin.mlflow:MlflowPlugin",
    "wandb": "runlab.plugins.builtin.wandb:WandbPlugin",
}


@dataclass(frozen=True)
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


def _folder_sources(folder: Path) -> Iterator[PluginSource]:
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_file() and entry.suffix == ".py":
            yield PluginSource(entry.stem, "folder", str(entry))
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            yield PluginSource(entry.name, "folder", str(entry))


def _entry_point_sources() -> Iterator[PluginSource]:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else ""
        yield PluginSource(ep.name, "entry-point", ep.value, label)


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
        raise PluginLoadError(f"Cannot read the settings of plugin {name!r} from {path}: {exc}", name) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PluginLoadError(
            f"Invalid plugin settings file {path}: expected a mapping, got {type(data).__name__}.", name
        )
    return data


def _module_name(source: PluginSource) -> str:
    return f"runlab_plugin_{source.name}"


def _import_file(source: PluginSource) -> ModuleType:
    path = Path(source.target)
    name = _module_name(source)
    if path.is_dir():
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginLoadError(f"Cannot import plugin file {path}.", source.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        # compiled from source each time: a reload sees the file as it is now (a cached .pyc
        # is only checked by mtime and size), and nothing is written beside the user's plugin
        origin = str(spec.origin)
        exec(compile(Path(origin).read_bytes(), origin, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


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
