"""The exceptions and warnings of the plugin system.

The error classes live in :mod:`runlab.errors` with every other runlab error; this
module re-exports them and holds the plugin system's warning.
"""

from __future__ import annotations

from ..errors import PluginError, PluginLoadError, PluginNotFoundError

__all__ = ["PluginError", "PluginLoadError", "PluginNotFoundError", "UnknownHookWarning"]


class UnknownHookWarning(UserWarning):
    """A hook implementation was registered for a name that is not a known hook point."""
