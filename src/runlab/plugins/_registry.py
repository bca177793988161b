"""The hook registry, re-exported from :mod:`runlab.hooks` (one registry for plugins, experiments and runs).

Kept so imports of ``runlab.plugins._registry`` keep working; new code imports ``runlab.hooks``.
"""

from __future__ import annotations

from ..hooks._registry import HookImpl, HookRegistry, StopHook, accepted_arguments

__all__ = ["HookImpl", "HookRegistry", "StopHook", "accepted_arguments"]
