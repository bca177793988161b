"""PyComex's plugin-manager surface, mixed into :class:`PluginManager`: ``register_hook``, ``apply_hook``,
``pm.hook(...)`` and a host ``config`` handed to every hook.

These are names for the manager's one registry (:attr:`PluginManager.registry`), not a
second one. A manager made with a PyComex-style ``config`` object (anything but a
:class:`PluginConfig`) passes it to every hook as the keyword argument ``config``, and its
hooks may name ``config`` in their signature.

Example (PyComex's own test, section 13.3)::

    >>> from runlab.plugins import PluginManager
    >>> from runlab.testing import MockConfig
    >>> config = MockConfig()
    >>> pm = PluginManager(config=config)
    >>> def hook(config, **kwargs):
    ...     config.data["hook"] = True
    >>> _ = pm.register_hook(hook_name="test_hook", function=hook)
    >>> _ = pm.apply_hook(hook_name="test_hook")
    >>> config.data["hook"]
    True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..hooks import HookImpl, HookRegistry, UnknownHookWarning

if TYPE_CHECKING:
    from ._manager import PluginRecord

__all__ = ["HookAPI"]

F = TypeVar("F", bound=Callable[..., Any])


class HookAPI:
    """``register_hook`` / ``apply_hook`` / ``hook`` over the manager's registry (see the module docstring)."""

    registry: HookRegistry
    host_config: Any

    if TYPE_CHECKING:

        def apply(self, name: str, /, **kwargs: Any) -> Any: ...
        def get(self, name: str) -> PluginRecord: ...

    def register_hook(self, hook_name: str, function: Callable[..., Any], priority: int = 0) -> HookImpl:
        """Register ``function`` for ``hook_name`` (higher priorities run first); returns the entry.

        A name that is not one of runlab's hook points is allowed (a plugin's own hook).

        Raises:
            HookSignatureError: ``function`` names an argument the hook never passes.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownHookWarning)  # PyComex registers hooks of its own names
            return self.registry.register(hook_name, function, priority)

    def apply_hook(self, hook_name: str, **kwargs: Any) -> Any:
        """Call ``hook_name``'s implementations, highest priority first, with ``kwargs`` (and ``config=``).

        Returns:
            As :meth:`HookRegistry.apply`: a :class:`~runlab.StopHook` value, else the last
            result that was not None.
        """
        if self.host_config is not None:
            kwargs.setdefault("config", self.host_config)
        return self.apply(hook_name, **kwargs)

    def hook(self, hook_name: str, priority: int = 0) -> Callable[[F], F]:
        """Decorator: ``@pm.hook("after_run", priority=5)`` registers the function it decorates."""

        def register(fn: F) -> F:
            self.register_hook(hook_name, fn, priority)
            return fn

        return register


def with_config_argument(registry_specs: dict[str, Any]) -> dict[str, Any]:
    """The hook specs with ``config`` added to every hook's arguments (for a manager with a host config)."""
    return {
        name: spec._replace(arguments=(*spec.arguments, "config")) if "config" not in spec.arguments else spec
        for name, spec in registry_specs.items()
    }
