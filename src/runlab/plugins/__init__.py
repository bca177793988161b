"""Hooks and plugins.

A plugin is a :class:`Plugin` subclass whose :func:`hook` methods run at the hook points
listed in :data:`HOOKS`. Their implementations live in the process's one hook registry
(:func:`get_registry`, from :mod:`runlab.hooks`) with every other hook implementation.
Plugins come from installed distributions (entry-point group ``runlab.plugins``), from plugin
folders and from runlab itself; see ``docs/plugins.md``. Nothing here is imported by
``import runlab``: plugins load once per process when the first run is created (where a
plugin is configured) or on first use of the manager.

Example:
    >>> from runlab.plugins import Plugin, PluginManager, hook
    >>> class Shout(Plugin):
    ...     name = "shout"
    ...     @hook("after_run", priority=10)
    ...     def done(self, run, result):
    ...         print(f"{run} returned {result!r}")
    >>> pm = PluginManager(builtin=False)
    >>> _ = pm.add(Shout)
    >>> pm.apply("after_run", run="r1", result=42, experiment=None)
    r1 returned 42
"""

from .._activation import register_plugin_commands
from ..hooks import HookImpl, HookRegistry, HookScope, StopHook, accepted_arguments, check_signature, get_registry
from ..hooks._specs import (
    AFTER_EXPERIMENT_FINALIZE,
    AFTER_EXPERIMENT_INITIALIZE,
    AFTER_PLUGINS_LOADED,
    AFTER_RUN,
    ARTIFACT_SAVED,
    BEFORE_EXPERIMENT_ERROR,
    BEFORE_EXPERIMENT_INITIALIZE,
    BEFORE_EXPERIMENT_PARAMETERS,
    BEFORE_RUN,
    BEFORE_TESTING,
    CLI_REGISTER_COMMANDS,
    EXPERIMENT_COMMIT_FIG,
    EXPERIMENT_COMMIT_JSON,
    EXPERIMENT_COMMIT_RAW,
    EXPERIMENT_CONSTRUCTED,
    EXPERIMENT_TRACK,
    HOOKS,
    METRICS_LOGGED,
    RUN_STATE_CHANGED,
    SWEEP_FINISHED,
    SWEEP_STARTED,
    HookSpec,
)
from ._commands import PluginCommands
from ._config import PluginConfig, load_plugin_config
from ._discovery import ENTRY_POINT_GROUP, PluginSource, discover, plugin_folders
from ._errors import HookSignatureError, PluginError, PluginLoadError, PluginNotFoundError, UnknownHookWarning
from ._manager import PluginManager, PluginRecord
from ._plugin import (
    BasePlugin,
    Plugin,
    PluginContext,
    PluginMetadata,
    PluginResult,
    PluginState,
    PluginStatus,
    StateChange,
    hook,
)
from ._process import get_manager, reset_manager
from ._record import record_failure

__all__ = [
    "AFTER_EXPERIMENT_FINALIZE",
    "AFTER_EXPERIMENT_INITIALIZE",
    "AFTER_PLUGINS_LOADED",
    "AFTER_RUN",
    "ARTIFACT_SAVED",
    "BEFORE_EXPERIMENT_ERROR",
    "BEFORE_EXPERIMENT_INITIALIZE",
    "BEFORE_EXPERIMENT_PARAMETERS",
    "BEFORE_RUN",
    "BEFORE_TESTING",
    "CLI_REGISTER_COMMANDS",
    "EXPERIMENT_COMMIT_FIG",
    "EXPERIMENT_COMMIT_JSON",
    "EXPERIMENT_COMMIT_RAW",
    "EXPERIMENT_CONSTRUCTED",
    "EXPERIMENT_TRACK",
    "METRICS_LOGGED",
    "RUN_STATE_CHANGED",
    "SWEEP_FINISHED",
    "SWEEP_STARTED",
    "ENTRY_POINT_GROUP",
    "BasePlugin",
    "HOOKS",
    "HookImpl",
    "HookRegistry",
    "HookScope",
    "HookSignatureError",
    "HookSpec",
    "Plugin",
    "PluginCommands",
    "PluginConfig",
    "PluginContext",
    "PluginError",
    "PluginLoadError",
    "PluginManager",
    "PluginMetadata",
    "PluginNotFoundError",
    "PluginRecord",
    "PluginResult",
    "PluginSource",
    "PluginState",
    "PluginStatus",
    "StateChange",
    "StopHook",
    "UnknownHookWarning",
    "accepted_arguments",
    "check_signature",
    "discover",
    "get_manager",
    "get_registry",
    "hook",
    "load_plugin_config",
    "plugin_folders",
    "record_failure",
    "register_plugin_commands",
    "reset_manager",
]
