"""Experiment-local hooks: what ``@experiment.hook(name)`` and ``@mixin.hook(name)`` register.

These are the functional style's own extension points: a base experiment calls
``e.apply_hook("load_data")`` and a sub-experiment or a mixin supplies or replaces the
implementation. They are entries of the one hook registry (:mod:`runlab.hooks`), scoped to
the file that registered them (a :class:`HookMap` is that file's
:class:`~runlab.hooks.HookScope`): the same :class:`~runlab.hooks.HookImpl`, the same
argument check at registration, priorities and ``StopHook``; they fire only when their
experiment applies them, never on the process-wide calls plugins receive. Implementations
are called as ``fn(e, **kwargs)`` and receive only the keyword arguments their signature
names (or all with ``**kwargs``). For a hook runlab defines (``before_run``, ``after_run``,
see :data:`runlab.plugins.HOOKS`) an implementation naming an argument the hook never
passes is refused when it registers (:class:`~runlab.HookSignatureError`).

An experiment's hooks come in layers, merged in this order: the base experiment's (from
``Experiment.extend``), then each mixin's in include order, then the current file's. Within
that order:

- ``replace=True`` drops every implementation registered before it (earlier layers, or
  earlier in the same layer);
- ``default=True`` marks a fallback: the default implementations of a name run only when
  no other implementation of that name exists;
- a higher ``priority`` runs first; equal priorities keep the layer order. An
  implementation may ``raise StopHook(value)`` to end the chain with that result.

Example:
    >>> hooks = HookMap()
    >>> _ = hooks.register("greet", lambda e, name: f"hello {name}", default=True)
    >>> compose([hooks.entries()])["greet"][0].default
    True
    >>> apply_hooks(compose([hooks.entries()]), "greet", None, name="Ada", unused=1)
    'hello Ada'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ..errors import ValidationError
from ..hooks import HOOKS, HookImpl, HookRegistry, HookScope, get_registry

__all__ = ["HookEntries", "HookImpl", "HookMap", "apply_hooks", "compose", "describe_hooks"]

F = TypeVar("F", bound=Callable[..., Any])

HookEntries = dict[str, list[HookImpl]]
"""Implementations by hook name, in layer and registration order (``replace`` already applied)."""


class HookMap(HookScope):
    """The hooks one experiment file or mixin file registered, in order (one layer, one scope of the registry)."""

    def register(
        self,
        name: str,
        function: Callable[..., Any],
        *,
        replace: bool = False,
        default: bool = False,
        priority: int = 0,
    ) -> HookImpl:
        """Add an implementation of hook ``name`` (registered in the process hook registry, scoped to this map).

        Raises:
            ValidationError: ``name`` is not a non-empty string or ``function`` is not callable.
            HookSignatureError: ``function`` names an argument hook ``name`` never passes, or
                has no parameter for the experiment.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"Invalid hook name {name!r}: expected a non-empty string such as 'before_run'.")
        if not callable(function):
            raise ValidationError(f"Invalid implementation for hook {name!r}: {function!r} is not callable.")
        return get_registry().register(
            name, function, priority, scope=self, replace=bool(replace), default=bool(default)
        )

    def decorator(self, name: str, replace: bool = False, default: bool = False, priority: int = 0) -> Callable[[F], F]:
        """``@host.hook(name, replace=False, default=False, priority=0)``: register the decorated function."""
        if callable(name):  # @host.hook without arguments: a mistake worth a clear message
            raise ValidationError("Give the hook's name: write @experiment.hook('before_run'), not @experiment.hook.")

        def register(fn: F) -> F:
            self.register(name, fn, replace=replace, default=default, priority=priority)
            return fn

        return register

    def entries(self) -> HookEntries:
        """This map's implementations by name (``replace`` applied within it)."""
        return compose([[(impl.name, impl) for impl in self.impls]])

    def __len__(self) -> int:
        return len(self.impls)


def compose(layers: Iterable[HookEntries | Iterable[tuple[str, HookImpl]]]) -> HookEntries:
    """Merge layers in order (base first); a ``replace`` implementation drops what came before it."""
    merged: HookEntries = {}
    for layer in layers:
        pairs = (
            [(name, impl) for name, impls in layer.items() for impl in impls] if isinstance(layer, Mapping) else layer
        )
        for name, impl in pairs:
            if impl.replace:
                merged[name] = [impl]
            else:
                merged.setdefault(name, []).append(impl)
    return merged


def active(entries: HookEntries, name: str) -> list[HookImpl]:
    """The implementations of ``name`` that run, in call order: the non-default ones (else the
    defaults), higher priority first, layer order among equals."""
    impls = entries.get(name, [])
    regular = [impl for impl in impls if not impl.default]
    return sorted(regular or impls, key=lambda impl: -impl.priority)


def apply_hooks(entries: HookEntries, name: str, experiment: Any, /, **kwargs: Any) -> Any:
    """Call the active implementations of ``name`` as ``fn(experiment, **kwargs)``, by the registry's rules.

    Returns:
        The value of a ``StopHook`` that ended the chain, else the last result that is not None.

    Exceptions propagate: an experiment's own hooks are part of its code.
    """
    spec = HOOKS.get(name)
    if spec is not None and "experiment" in spec.arguments:
        kwargs.setdefault("experiment", experiment)
    return HookRegistry.call(active(entries, name), kwargs, experiment)


def describe_hooks(entries: HookEntries) -> dict[str, dict[str, Any]]:
    """What ``run.json``-style metadata shows per hook: name, number of active implementations, description."""
    out: dict[str, dict[str, Any]] = {}
    for name in entries:
        impls = active(entries, name)
        doc = next((impl.function.__doc__ for impl in reversed(impls) if impl.function.__doc__), "") or ""
        out[name] = {
            "name": name,
            "num": len(impls),
            "description": doc.strip().split("\n")[0],
            "origins": [impl.origin for impl in impls],
        }
    return out
