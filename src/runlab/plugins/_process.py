"""The process's plugin manager: the one whose plugins see every run of the process.

It registers the plugins' hooks in the process hook registry (:func:`runlab.hooks.get_registry`).
It is created by the registry's activator when the first run starts and a plugin could act
(``runlab/_activation.py``), or by :func:`get_manager` on demand.
"""

from __future__ import annotations

import threading

from ..hooks import get_registry
from ._manager import PluginManager

__all__ = ["get_manager", "manager_loaded", "reset_manager"]

_manager: PluginManager | None = None
_manager_lock = threading.RLock()  # the registry's activator calls get_manager() from inside it


def get_manager() -> PluginManager:
    """The process's plugin manager, created and loaded on first use; its hooks live in the process registry.

    Every run and experiment loads it by itself when a plugin is configured (see
    ``runlab/_activation.py``); call it to load the plugins whatever the configuration.
    """
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = manager = PluginManager(registry=get_registry())
            try:
                manager.activate()
            except BaseException:
                manager.close()
                _manager = None
                raise
        return _manager


def manager_loaded() -> bool:
    """Whether the process's plugin manager exists (without creating it)."""
    return _manager is not None


def reset_manager() -> None:
    """Close the process's plugin manager; the next :func:`get_manager` starts afresh."""
    global _manager
    with _manager_lock:
        if _manager is not None:
            _manager.close()
            _manager = None
        get_registry().reset_activation()
