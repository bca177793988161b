"""The exceptions and warnings of the plugin system.

The error classes live in :mod:`runlab.errors` with every other runlab error; this
module re-exports them and the hook registry's warning.
"""

from __future__ import annotations

from ..errors import HookSignatureError, PluginError, PluginLoadError, PluginNotFoundError
from ..hooks._registry import UnknownHookWarning

__all__ = ["HookSignatureError", "PluginError", "PluginLoadError", "PluginNotFoundError", "UnknownHookWarning"]
