"""Plugin commands and the plugin system's (seed 003) manager surface, mixed into :class:`PluginManager`.

A plugin command is :meth:`Plugin.execute`: run by name with a :class:`PluginContext`,
isolated (an exception becomes a failed :class:`PluginResult`), timed, and kept in the
plugin's execution history. The seed's names (``discover_plugins``, ``initialize_plugin``,
``execute_plugin``, ``cleanup_plugin``, ``get_plugin_help``, ``get_plugin_status``) are thin
names for the manager's own lifecycle, not a second one.

Example:
    >>> from runlab.plugins import Plugin, PluginContext, PluginManager
    >>> class Greet(Plugin):
    ...     name = "greet"
    ...     def execute(self, context):
    ...         return f"hello {context.args[0]}"
    >>> pm = PluginManager(builtin=False)
    >>> _ = pm.add(Greet)
    >>> pm.execute_plugin("greet", PluginContext(name="greet", args=["you"])).output
    'hello you'
    >>> pm.get_plugin_metrics("greet")["executions"], str(pm.get_plugin_status("greet"))
    (1, 'initialized')
"""

from __future__ import annotations

import threading
import time
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._plugin import PluginContext, PluginMetadata, PluginResult, PluginState, _elapsed_ms

if TYPE_CHECKING:
    from ._manager import PluginRecord

__all__ = ["PluginCommands"]


class PluginCommands:
    """The command side of :class:`PluginManager` (see the module docstring)."""

    _records: dict[str, PluginRecord]
    _lock: threading.RLock

    if TYPE_CHECKING:

        def get(self, name: str) -> PluginRecord: ...
        def _ensure_loaded(self) -> None: ...
        def discover(self) -> list[PluginRecord]: ...
        def help(self, name: str | None = None) -> str: ...

    # -- running a command ---------------------------------------------------------------
    def execute(self, name: str, context: PluginContext | None = None) -> PluginResult:
        """Run plugin ``name``'s command (:meth:`Plugin.execute`), isolated, timed and kept in its history.

        The command's return value becomes :attr:`PluginResult.output`; a :class:`PluginResult`
        it returns is used as it is (its ``duration_ms`` filled in when 0).

        Raises:
            PluginNotFoundError: no plugin of that name.
        """
        self._ensure_loaded()
        record = self.get(name)
        start = time.perf_counter()
        if record.plugin is None or record.state is PluginState.STOPPED:
            why = record.notice or record.history[-1].reason or record.state.value
            result = PluginResult(False, error=f"Plugin {name!r} is not active: {why}.")
            return self._remember(record, result)
        context = context or PluginContext(name=name)
        context.manager = context.manager or self  # type: ignore[assignment]
        context.config = context.config or dict(record.plugin.settings)
        try:
            output = record.plugin.execute(context)
        except (Exception, SystemExit) as exc:
            result = PluginResult(
                False,
                error=f"{type(exc).__name__}: {exc}",
                traceback="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
                duration_ms=_elapsed_ms(start),
            )
            return self._remember(record, result)
        if isinstance(output, PluginResult):  # the plugin's own result: not wrapped again
            if not output.duration_ms:
                output.duration_ms = _elapsed_ms(start)
            return self._remember(record, output)
        return self._remember(record, PluginResult(True, output=output, duration_ms=_elapsed_ms(start)))

    execute_plugin = execute

    def _remember(self, record: PluginRecord, result: PluginResult) -> PluginResult:
        entry = {
            "time": datetime.now().astimezone().isoformat(),
            "success": result.success,
            "duration_ms": result.duration_ms,
            "error": result.error,
        }
        with self._lock:
            record.executions.append(entry)
        return result

    def get_execution_history(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every command execution (``plugin``, ``time``, ``success``, ``duration_ms``, ``error``), oldest first.

        Raises:
            PluginNotFoundError: ``name`` is given and no plugin has it.
        """
        records = [self.get(name)] if name is not None else list(self._records.values())
        with self._lock:
            rows = [{"plugin": r.name, **e} for r in records for e in r.executions]
        return sorted(rows, key=lambda e: e["time"])

    def get_plugin_metrics(self, name: str) -> dict[str, Any]:
        """Counts and timing of plugin ``name``'s executions: ``executions``, ``successes``,
        ``failures``, ``total_ms``, ``mean_ms``, ``max_ms``, ``last`` (the latest entry or None)."""
        with self._lock:
            runs = list(self.get(name).executions)
        times = [e["duration_ms"] for e in runs]
        ok = sum(1 for e in runs if e["success"])
        return {
            "executions": len(runs),
            "successes": ok,
            "failures": len(runs) - ok,
            "total_ms": round(sum(times), 3),
            "mean_ms": round(sum(times) / len(times), 3) if times else 0.0,
            "max_ms": max(times, default=0.0),
            "last": runs[-1] if runs else None,
        }

    # -- the seed's lifecycle names ------------------------------------------------------
    def discover_plugins(self) -> list[str]:
        """Find plugins without importing them; the names of every known plugin."""
        self.discover()
        with self._lock:
            return sorted(self._records)

    def initialize_plugin(self, name: str, context: PluginContext | None = None) -> bool:
        """Run plugin ``name``'s :meth:`Plugin.initialize` again, with ``context``.

        Loading already initialised it (with the manager's context); this hands it the
        caller's. A failure is isolated: the plugin is marked FAILED and False is returned.
        """
        self._ensure_loaded()
        record = self.get(name)
        if record.plugin is None:
            return False
        context = context or PluginContext(name=name)
        context.manager = context.manager or self  # type: ignore[assignment]
        context.config = context.config or dict(record.plugin.settings)
        try:
            record.plugin.initialize(context)
        except (Exception, SystemExit) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            record.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            record.set_state(PluginState.FAILED, f"initialize: {record.error}")
            return False
        record.set_state(PluginState.INITIALIZED if record.state is not PluginState.RUNNING else record.state,
                         "initialized with a context")  # fmt: skip
        return True

    def cleanup_plugin(self, name: str) -> None:
        """Run plugin ``name``'s :meth:`Plugin.cleanup` (its state kept for a later look) and stop it (STOPPED)."""
        record = self.get(name)
        plugin = record.plugin
        if plugin is None:
            return
        self._unload(record, "cleaned up")  # type: ignore[attr-defined]
        record.plugin = plugin  # the instance stays readable (get_state) but serves no hooks

    def get_plugin_help(self, name: str) -> str:
        """Help of plugin ``name`` (:meth:`Plugin.get_help`, else its docstring)."""
        return self.help(name)

    def get_plugin_status(self, name: str | None = None) -> PluginState | dict[str, PluginState]:
        """The :class:`PluginState` of plugin ``name``; of every plugin (name -> state) without a name."""
        if name is not None:
            return self.get(name).state
        with self._lock:
            return {n: r.state for n, r in sorted(self._records.items())}

    def get_plugin_metadata(self, name: str) -> PluginMetadata:
        """Plugin ``name``'s :class:`PluginMetadata` (what ``load_all(metadata_map)`` gave, else its own)."""
        return self.get(name).metadata
