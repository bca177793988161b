"""Hooks: the hook points, the registry where every implementation lives, and the process registry.

This package sits below every layer that fires or implements hooks: the run core
(``lifecycle/``) publishes its events through :func:`get_registry`, the plugin manager
registers plugins' implementations in it, and an experiment's own hooks (``@experiment.hook``,
mixins, ``extend``) are scoped entries of it. ``runlab.plugins`` re-exports the names users
need; see ``docs/plugins.md``.

The process registry activates plugins once, before its first hook call (or when a run is
created). Its activator is :func:`runlab._activation.activate_plugins`, imported when it
runs: the one place this layer reaches up, by design, so every run of every style loads
plugins through the same path. It loads the plugin manager only when a plugin could act
(:func:`runlab._activation.plugins_configured`), so a process without plugins never imports
the plugin machinery; ``import runlab`` does not import this package at all.

Example:
    >>> from runlab.hooks import get_registry
    >>> seen = []
    >>> impl = get_registry().register("artifact_saved", lambda name: seen.append(name))
    >>> get_registry().apply("artifact_saved", run=None, name="a.txt", path=None)
    >>> get_registry().unregister(impl)
    >>> seen
    ['a.txt']
"""

from __future__ import annotations

from ._registry import (
    ErrorHandler,
    HookImpl,
    HookRegistry,
    HookScope,
    StopHook,
    UnknownHookWarning,
    accepted_arguments,
    check_hook_name,
    check_priority,
    check_signature,
)
from ._specs import HOOKS, HookSpec

__all__ = [
    "HOOKS",
    "ErrorHandler",
    "HookImpl",
    "HookRegistry",
    "HookScope",
    "HookSpec",
    "StopHook",
    "UnknownHookWarning",
    "accepted_arguments",
    "activate",
    "check_hook_name",
    "check_priority",
    "check_signature",
    "get_registry",
]

_registry = HookRegistry()


def _activate_plugins() -> None:
    from .._activation import activate_plugins  # the package's top level: it may import runlab.plugins

    activate_plugins()


_registry.set_activator(_activate_plugins)


def get_registry() -> HookRegistry:
    """The process's hook registry: plugins, run listeners and experiment hooks all live here."""
    return _registry


def activate() -> None:
    """Activate the configured plugins now, if that has not happened yet (errors propagate).

    Every run calls it when it is created (``runlab.start_run`` and every experiment style),
    so plugins see every run of the process.
    """
    _registry.activate()
