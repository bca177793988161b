"""The plugin manager: discovery, loading, lifecycle, hook calls and error isolation."""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import sys
import threading
import traceback
from dataclasses import field, replace
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import HookSignatureError, ValidationError
from ..hooks import HOOKS, HookImpl, HookRegistry, get_registry
from ..hooks._specs import AFTER_PLUGINS_LOADED, RUN_STATE_CHANGED
from ._commands import PluginCommands
from ._config import PluginConfig, load_plugin_config
from ._discovery import (
    BUILTIN,
    PluginSource,
    discover,
    folder_problem,
    folder_settings,
    import_plugin_class,
    plugin_folders,
)
from ._errors import PluginError, PluginLoadError, PluginNotFoundError
from ._hook_api import HookAPI, with_config_argument
from ._plugin import Plugin, PluginContext, PluginMetadata, PluginState, StateChange, _now
from ._record import note_plugins, record_failure

__all__ = ["PluginManager", "PluginRecord"]

_SERVING = (PluginState.INITIALIZED, PluginState.RUNNING, PluginState.ERROR)


@value_class
class PluginRecord:
    """What the manager knows about one plugin.

    Attributes:
        name: the plugin's name.
        source: where it was found.
        state: its current :class:`PluginState`; ``history`` holds every change with its time.
        plugin: the instance once loaded (None before, or after a failure).
        notice: one line on why it is inactive or failed ("" when fine).
        error: the last error message; ``traceback`` its traceback.
        shadowed: sources of the same name that this one hides.
    """

    name: str
    source: PluginSource
    state: PluginState = PluginState.DISCOVERED
    history: list[StateChange] = field(default_factory=list)
    plugin: Plugin | None = None
    plugin_class: type[Plugin] | None = None
    notice: str = ""
    error: str | None = None
    traceback: str | None = None
    shadowed: list[PluginSource] = field(default_factory=list)
    reported: set[tuple[str, str]] = field(default_factory=set)
    executions: list[dict[str, Any]] = field(default_factory=list)
    given_metadata: PluginMetadata | None = None

    def __post_init__(self) -> None:
        if not self.history:
            self.history.append(StateChange(self.state, _now(), "found: " + self.source.describe()))

    def set_state(self, state: PluginState, reason: str = "") -> None:
        self.state = state
        self.history.append(StateChange(state, _now(), reason))

    @property
    def version(self) -> str:
        if self.given_metadata is not None:
            return self.given_metadata.version
        if self.plugin is not None:
            return str(self.plugin.version)
        if self.plugin_class is not None:
            return str(self.plugin_class.version)
        return self.source.distribution.rpartition(" ")[2] or "-"

    @property
    def metadata(self) -> PluginMetadata:
        """What ``load_all(metadata_map)`` gave for it, else the plugin's own; ``entry_point`` from its source."""
        found = self.given_metadata
        if found is None and self.plugin is not None:
            found = self.plugin.metadata
        if found is None:
            found = PluginMetadata(self.name, self.version)
        return replace(found, entry_point=found.entry_point or self.source.target)

    @property
    def critical(self) -> bool:
        return bool(self.plugin_class is not None and self.plugin_class.critical)


class PluginManager(PluginCommands, HookAPI):
    """Finds, loads and calls plugins; isolates their failures.

    Discovery and loading happen on first use (:meth:`apply`, :meth:`plugins`, ...), never at
    ``import runlab``. The plugins' implementations live in :attr:`registry`: the process hook
    registry for the process's manager (:func:`get_manager`), else a registry of its own that
    :meth:`activate` attaches to the process registry, so the plugins see every run's events
    (``run_state_changed``, ``metrics_logged``, ``artifact_saved``, ``run_finishing``) and
    every experiment's hook calls.

    Error isolation: an exception in a hook implementation is reported once on stderr with
    the plugin's name, recorded in the run's ``run.json`` (``plugins.NAME.errors``) when the
    call concerns a run, and the plugin is marked ERROR; the other plugins and the run go on.
    A plugin failing to load is marked FAILED and its hooks are not registered. A plugin
    with ``critical = True`` is not isolated: :meth:`apply` raises :class:`PluginError`, so
    the caller's run fails; for run-core events (which cannot raise into the run) the manager
    fails the run itself when it has not finished. A plugin whose ``@hook`` method names an
    argument its hook never passes is refused when it loads (state FAILED,
    :class:`~runlab.HookSignatureError` in its notice; :meth:`add` raises it). Thread-safe.

    Args:
        project_dir: the folder with ``.runlab/plugins/`` (default: the nearest
            ``pyproject.toml``'s folder, else the cwd); or a list of plugin folders to search
            first (the plugin system's ``PluginManager([".deia/plugins"])``).
        config: enabled/disabled plugins and settings (default: ``[tool.runlab.plugins]``); any
            other object is PyComex's ``config``, handed to every hook as ``config=``
            (:meth:`apply_hook`; see :mod:`runlab.plugins._hook_api`).
        builtin: include runlab's built-in plugins.
        registry: where the plugins' hooks are registered (default: a new registry).
        inspecting: load for looking at the plugins (``runlab plugins list``): a critical
            plugin that fails to load is marked FAILED like any other instead of raising.

    Example:
        >>> from runlab.plugins import PluginManager, Plugin, hook
        >>> class Echo(Plugin):
        ...     name = "echo"
        ...     @hook("before_run")
        ...     def before(self, run):
        ...         return f"hello {run}"
        >>> pm = PluginManager(builtin=False)
        >>> _ = pm.add(Echo)
        >>> pm.apply("before_run", run="r1", experiment=None)
        'hello r1'
    """

    def __init__(
        self,
        project_dir: str | Path | list[str | Path] | tuple[str | Path, ...] | None = None,
        *,
        config: PluginConfig | Any = None,
        builtin: bool = True,
        registry: HookRegistry | None = None,
        inspecting: bool = False,
    ) -> None:
        self.inspecting = inspecting
        self.plugin_dirs: list[Path] = []
        if isinstance(project_dir, (list, tuple)):
            self.plugin_dirs, project_dir = [Path(d) for d in project_dir], None
        self.host_config: Any = None
        if config is not None and not isinstance(config, PluginConfig):
            self.host_config, config = config, None
            if registry is None:
                registry = HookRegistry(on_error=self._hook_failed, specs=with_config_argument(dict(HOOKS)))
            if getattr(self.host_config, "pm", True) is None:
                self.host_config.pm = self  # PyComex's config.pm
        self.config = config if config is not None else load_plugin_config(Path(project_dir) if project_dir else None)
        self.project_dir = Path(project_dir) if project_dir else self.config.project_dir
        self.builtin = builtin
        self.registry = registry if registry is not None else HookRegistry(on_error=self._hook_failed)
        self._records: dict[str, PluginRecord] = {}
        self._lock = threading.RLock()
        self._discovered = False
        self._loaded = False
        self._subscribed: HookImpl | None = None

    # -- discovery and loading --------------------------------------------------------
    def discover(self) -> list[PluginRecord]:
        """Find plugins (without importing them); returns the records of new plugins."""
        sources, shadowed = discover(self.project_dir, self.plugin_dirs)
        new = []
        with self._lock:
            if not self._discovered:
                for folder in [*self.plugin_dirs, *plugin_folders(self.project_dir)]:
                    problem = folder_problem(folder)
                    if problem:
                        _report(problem)
            self._discovered = True
            for source in sources:
                if source.kind == "builtin" and not self.builtin:
                    continue
                if source.name not in self._records:
                    record = PluginRecord(source.name, source)
                    self._records[source.name] = record
                    new.append(record)
            for source in shadowed:
                if source.name in self._records:
                    self._records[source.name].shadowed.append(source)
        return new

    def load_all(self, metadata_map: dict[str, PluginMetadata] | None = None) -> list[str]:
        """Discover (once) and load every enabled plugin; fires ``after_plugins_loaded``.

        Args:
            metadata_map: :class:`PluginMetadata` for plugins by name (the plugin system's
                way to describe plugins; shown instead of what the plugin says of itself).

        Returns:
            The names of the plugins now serving hooks.
        """
        with self._lock:
            if not self._discovered:
                self.discover()
            for name, given in (metadata_map or {}).items():
                if name in self._records:
                    self._records[name].given_metadata = given
            first = not self._loaded
            self._loaded = True
            if first:
                self._check_config_names()
            for record in list(self._records.values()):
                if record.state is PluginState.DISCOVERED:
                    self._load(record)
            active = self.active()
            for name in active:
                record = self._records[name]
                if record.state is PluginState.INITIALIZED:
                    record.set_state(PluginState.RUNNING, "serving hooks")
        if first:
            self.apply(AFTER_PLUGINS_LOADED, manager=self, plugins=active)
        return active

    def _check_config_names(self) -> None:
        """Report names in ``enabled`` / ``disabled`` that match no plugin (a ``disabled`` one only when
        it looks like a misspelling: a project may switch off a plugin not installed everywhere)."""
        known = set(self._records) | set(BUILTIN)
        for key in ("enabled", "disabled"):
            for name in sorted(getattr(self.config, key) - known):
                close = difflib.get_close_matches(name, sorted(known), n=1)
                if key == "disabled" and not close:
                    continue
                hint = f" Did you mean {close[0]!r}?" if close else ""
                where = f" of {self.config.source}" if self.config.source else ""
                _report(
                    f'{key} = ["{name}"] in [tool.runlab.plugins]{where} names no plugin.{hint} '
                    "See 'runlab plugins list'."
                )

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load_all()

    def add(self, plugin: type[Plugin] | Plugin, name: str | None = None) -> PluginRecord:
        """Register a plugin class or instance directly (no discovery), loaded at once."""
        cls = plugin if isinstance(plugin, type) else type(plugin)
        name = name or cls.name or cls.__name__
        cls.check_metadata(name)  # the caller's to fix: raise
        cls.check_hooks(self.registry.specs, name)  # a misspelt argument is the caller's to fix: raise
        source = PluginSource(name, "builtin" if cls.__module__.startswith("runlab.") else "added", cls.__module__)
        with self._lock:
            old = self._records.get(name)
            if old is not None:
                self._unload(old, "replaced")
            record = PluginRecord(name, source)
            self._records[name] = record
            instance = plugin if isinstance(plugin, Plugin) else None
            self._load(record, cls=cls, instance=instance)
            if self._loaded and record.state is PluginState.INITIALIZED:
                record.set_state(PluginState.RUNNING, "serving hooks")
        self._loaded = True
        return record

    def _load(
        self,
        record: PluginRecord,
        *,
        cls: type[Plugin] | None = None,
        instance: Plugin | None = None,
        reload: bool = False,
    ) -> None:
        name = record.name
        if not self.config.is_enabled(name):
            record.notice = f"disabled in {self.config.source or 'the configuration'}"
            record.set_state(PluginState.STOPPED, record.notice)
            return
        try:
            if cls is None:
                cls = import_plugin_class(record.source, reload=reload)
            record.plugin_class = cls
        except (Exception, SystemExit) as exc:  # a plugin calling sys.exit() fails, not the process
            self._load_failed(record, "import", exc)
            return
        try:
            cls.check_metadata(name)
        except ValidationError as exc:
            self._load_failed(record, "load", exc)
            return
        if cls.enabled_by_default is False and name not in self.config.enabled:
            record.notice = f'off by default; enable it with enabled = ["{name}"] in [tool.runlab.plugins]'
            record.set_state(PluginState.STOPPED, record.notice)
            return
        try:
            cls.check_hooks(self.registry.specs, name)
        except HookSignatureError as exc:
            self._load_failed(record, "register its hooks", exc)
            return
        missing = [m for m in cls.requires if not _importable(m)]
        if missing:
            hint = cls.install_hint or f"pip install {' '.join(missing)}"
            record.notice = f"inactive: needs {', '.join(missing)} ({hint})"
            record.set_state(PluginState.STOPPED, record.notice)
            return
        try:
            settings = {**folder_settings(record.source), **self.config.settings.get(name, {})}
        except PluginLoadError as exc:
            self._load_failed(record, "read its settings", exc)
            return
        try:
            plugin = instance if instance is not None else cls(settings)
            if instance is not None and settings:
                plugin.settings.update(settings)
            if not plugin.name:
                plugin.name = name
            record.plugin = plugin
            record.set_state(PluginState.LOADED, "imported " + record.source.describe())
            plugin.initialize(PluginContext(name=name, config=dict(plugin.settings), manager=self))
            hooks = plugin.hook_methods()
        except (Exception, SystemExit) as exc:
            record.plugin = None
            self._load_failed(record, "initialize", exc)
            return
        try:  # hooks set on the instance in initialize() are checked here, not by check_hooks
            for hook_name, priority, method in hooks:
                self.registry.register(hook_name, method, priority, plugin=name, on_error=self._hook_failed)
        except HookSignatureError as exc:
            self.registry.unregister_plugin(name)
            record.plugin = None
            self._load_failed(record, "register its hooks", exc)
            return
        record.notice = ""
        record.error = record.traceback = None
        record.set_state(PluginState.INITIALIZED, f"{len(hooks)} hook(s) registered")

    def _load_failed(self, record: PluginRecord, step: str, exc: BaseException) -> None:
        record.error = f"{type(exc).__name__}: {exc}"
        record.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        record.notice = f"failed to {step}: {record.error}"
        record.set_state(PluginState.FAILED, record.notice)
        _report(f"plugin {record.name!r} could not {step}: {record.error.rstrip('.')}. {_fix(record, exc)}")
        if record.plugin_class is not None and record.plugin_class.critical and not self.inspecting:
            raise PluginLoadError(
                f"Critical plugin {record.name!r} could not {step}: {record.error.rstrip('.')}. Fix or disable it "
                f'(disabled = ["{record.name}"] in [tool.runlab.plugins]).',
                record.name,
            ) from exc

    def _unload(self, record: PluginRecord, reason: str) -> None:
        self.registry.unregister_plugin(record.name)
        plugin, record.plugin = record.plugin, None
        if plugin is not None:
            try:
                plugin.cleanup()
            except (Exception, SystemExit) as exc:
                _report(f"plugin {record.name!r} failed in cleanup: {type(exc).__name__}: {exc}")
        if record.state is not PluginState.STOPPED:
            record.set_state(PluginState.STOPPED, reason)

    def reload(self, name: str) -> PluginRecord:
        """Re-import plugin ``name``'s module and re-register its hooks, without restarting.

        Raises:
            PluginNotFoundError: no plugin of that name.
        """
        with self._lock:
            record = self.get(name)
            self._unload(record, "reloading")
            record.reported.clear()
            if record.source.kind == "added":
                raise PluginError(
                    f"Plugin {name!r} was added from code ({record.source.target}); only discovered plugins "
                    "can be reloaded. Call manager.add() again with the new class.",
                    name,
                )
            self._load(record, reload=True)
            if self._loaded and record.state is PluginState.INITIALIZED:
                record.set_state(PluginState.RUNNING, "serving hooks (reloaded)")
            return record

    # -- queries ----------------------------------------------------------------------
    def plugins(self) -> list[PluginRecord]:
        """Every known plugin's record (loading them on first use), sorted by name."""
        self._ensure_loaded()
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r.name)

    def active(self) -> list[str]:
        """The names of the plugins serving hooks."""
        with self._lock:
            return sorted(n for n, r in self._records.items() if r.state in _SERVING)

    def get(self, name: str) -> PluginRecord:
        """The record of plugin ``name``.

        Raises:
            PluginNotFoundError: no such plugin; the message lists close names.
        """
        if not self._discovered and not self._records:
            self.discover()
        with self._lock:
            record = self._records.get(name)
            if record is None:
                close = difflib.get_close_matches(name, list(self._records), n=3)
                hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                known = ", ".join(sorted(self._records)) or "none"
                raise PluginNotFoundError(
                    f"No plugin named {name!r}.{hint} Known plugins: {known}. See 'runlab plugins list'."
                )
            return record

    def hooks_of(self, name: str) -> list[str]:
        """The hook names plugin ``name`` implements (registered ones, else declared ones)."""
        record = self.get(name)
        registered = self.registry.hooks_of(name)
        if registered or record.plugin_class is None:
            return registered
        return sorted({h for h, _ in record.plugin_class.declared_hooks()})

    def help(self, name: str | None = None) -> str:
        """Help text of one plugin, or a summary line per plugin."""
        if name is not None:
            self._ensure_loaded()
            record = self.get(name)
            if record.plugin is not None:
                text = _plugin_help(record)
            elif record.plugin_class is not None:
                text = inspect.getdoc(record.plugin_class) or record.plugin_class.description or "(no help)"
            else:
                text = "(not loaded)"
            head = f"{record.name} {record.version} ({record.source.describe()}, {record.state.value})"
            hooks = self.hooks_of(name)
            tail = f"\n\nHooks: {', '.join(hooks)}" if hooks else ""
            notice = f"\nNote: {record.notice}" if record.notice else ""
            return f"{head}{notice}\n\n{text}{tail}"
        lines = []
        for record in self.plugins():
            desc = ""
            if record.plugin is not None:
                desc = record.plugin.metadata.description
            elif record.plugin_class is not None:
                desc = record.plugin_class.description or (record.plugin_class.__doc__ or "").strip().split("\n")[0]
            lines.append(f"{record.name:<16} {desc or record.notice}")
        return "\n".join(lines) + "\n\nUse 'runlab plugins help NAME' for one plugin's help."

    # -- calling hooks ----------------------------------------------------------------
    def apply(self, name: str, /, **kwargs: Any) -> Any:
        """Call hook ``name`` with keyword arguments (see :meth:`HookRegistry.apply`).

        Raises:
            PluginError: a critical plugin's implementation failed.
        """
        self._ensure_loaded()
        return self.registry.apply(name, **kwargs)

    def _hook_failed(self, impl: HookImpl, exc: BaseException, kwargs: dict[str, Any]) -> None:
        name = impl.owner
        record = self._records.get(impl.plugin or "")
        message = f"{type(exc).__name__}: {exc}"
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        run = kwargs.get("run")
        critical = record is not None and record.critical
        if record is not None:
            with self._lock:
                record.error, record.traceback = message, tb
                if record.state is not PluginState.ERROR:
                    record.set_state(PluginState.ERROR, f"{impl.hook}: {message}")
                key = (impl.hook, type(exc).__name__)
                first = key not in record.reported
                record.reported.add(key)
        else:
            first = True
        recorded = record_failure(
            run, name, {"hook": impl.hook, "error": message, "traceback": tb, "critical": critical}
        )
        if first:
            where = f" (recorded in run {getattr(run, 'id', '?')})" if recorded else ""
            _report(f"plugin {name!r} failed in hook {impl.hook!r}: {message}{where}")
        if critical:
            raise PluginError(
                f"Critical plugin {name!r} failed in hook {impl.hook!r}: {message}", name, impl.hook
            ) from exc

    def report_failure(self, plugin: str, hook: str, exc: BaseException, run: Any = None) -> None:
        """Report a failure of ``plugin``'s work for ``hook`` done outside the hook call (in the background).

        Handled as a failing hook implementation: reported once on stderr, recorded in
        ``run``'s ``run.json`` and the plugin marked ERROR. Never raises.
        """
        impl = HookImpl(hook, _nothing, plugin=plugin)
        try:
            self._hook_failed(impl, exc, {"run": run})
        except PluginError:  # a critical plugin: there is no caller left to fail
            pass

    # -- run events -------------------------------------------------------------------
    def activate(self) -> PluginManager:
        """Load plugins and let them see every run of the process (idempotent).

        A manager with a registry of its own attaches it to the process hook registry, in place
        of the plugins the process would load by itself (:func:`get_manager`), unless those
        are loaded already.
        """
        self.load_all()
        with self._lock:
            if self._subscribed is None:
                self._subscribed = self.registry.register(
                    RUN_STATE_CHANGED, self._note_active, 1_000_000, on_error=_report_note_failure
                )
                process = get_registry()
                if self.registry is not process:  # this manager stands for the process's plugins
                    process.attach(self.registry)
                    process.mark_activated()
        return self

    def _note_active(self, run: Any, new: str) -> None:
        """First of all on a new run: record the active plugins in its record (no extra write)."""
        if new != "created":
            return
        with self._lock:
            active = {
                n: {"version": r.version, "source": r.source.describe(), "state": "active"}
                for n, r in self._records.items()
                if r.state in _SERVING
            }
        note_plugins(run, active)

    def close(self) -> None:
        """Detach from the process's runs and unload every plugin (state STOPPED)."""
        with self._lock:
            if self._subscribed is not None:
                self.registry.unregister(self._subscribed)
                self._subscribed = None
                get_registry().detach(self.registry)
            loaded = [record for record in self._records.values() if record.plugin is not None]
        # outside the lock: a plugin's cleanup may wait for its background work, which may report failures
        for record in loaded:
            self._unload(record, "manager closed")


def _fix(record: PluginRecord, exc: BaseException | None = None) -> str:
    """The next step for a plugin that failed to load: the file to fix (its settings file when that is
    what failed, else the plugin), and how to switch it off."""
    source, off = record.source, f'disable it with disabled = ["{record.name}"] in [tool.runlab.plugins]'
    path = getattr(exc, "path", None) if isinstance(exc, PluginLoadError) else None
    if path:
        return f"Fix {path}, or {off}."
    if source.kind == "folder":
        return f"Fix {source.target}, or {off}."
    if source.kind == "entry-point":
        return f"Fix or reinstall {source.distribution} (entry point {record.name} = {source.target}), or {off}."
    return f"Fix its settings, or {off}."


def _plugin_help(record: PluginRecord) -> str:
    """The loaded plugin's own :meth:`Plugin.help`; when that raises, one line saying so and its docstring."""
    assert record.plugin is not None
    try:
        return str(record.plugin.help())
    except (Exception, SystemExit) as exc:  # the plugin's code: isolated like its hooks
        doc = inspect.getdoc(type(record.plugin)) or "(no help)"
        return f"(its help() failed: {type(exc).__name__}: {exc})\n\n{doc}"


def _nothing(**kwargs: Any) -> None:
    return None


def _report_note_failure(impl: HookImpl, exc: BaseException, kwargs: dict[str, Any]) -> None:
    _report(f"could not record the active plugins in run {getattr(kwargs.get('run'), 'id', '?')}: {exc}")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _report(message: str) -> None:
    print(f"runlab: {message}", file=sys.stderr)
