"""Experiment-local hooks: what ``@experiment.hook(name)`` and ``@mixin.hook(name)`` register.

These are the functional style's own extension points, separate from plugin hooks: a base
experiment calls ``e.apply_hook("load_data")`` and a sub-experiment or a mixin supplies or
replaces the implementation. Implementations are called as ``fn(e, **kwargs)`` and receive
only the keyword arguments their signature names (or all with ``**kwargs``).

An experiment's hooks come in layers, merged in this order: the base experiment's (from
``Experiment.extend``), then each mixin's in include order, then the current file's. Within
that order:

- ``replace=True`` drops every implementation registered before it (earlier layers, or
  earlier in the same layer);
- ``default=True`` marks a fallback: the default implementations of a name run only when
  no other implementation of that name exists.

Example:
    >>> hooks = HookMap()
    >>> _ = hooks.register("greet", lambda e, name: f"hello {name}", default=True)
    >>> compose([hooks.entries()])["greet"][0].default
    True
    >>> apply_hooks(compose([hooks.entries()]), "greet", None, name="Ada", unused=1)
    'hello Ada'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import ValidationError
from ..plugins._registry import accepted_arguments

__all__ = ["HookEntries", "HookImpl", "HookMap", "apply_hooks", "compose", "describe_hooks"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class HookImpl:
    """One experiment-local hook implementation.

    Attributes:
        name: the hook's name.
        function: called as ``function(e, **kwargs)``.
        replace: drops the implementations registered before it.
        default: runs only when the name has no non-default implementation.
        origin: the file (or ``"<experiment>"``) that registered it, for display.
    """

    name: str
    function: Callable[..., Any]
    replace: bool = False
    default: bool = False
    origin: str = "<experiment>"


HookEntries = dict[str, list[HookImpl]]
"""Implementations by hook name, in registration order (``replace`` already applied)."""


class HookMap:
    """The hooks one experiment file or mixin file registered, in order."""

    def __init__(self, origin: str = "<experiment>") -> None:
        self.origin = origin
        self._impls: list[HookImpl] = []

    def register(
        self, name: str, function: Callable[..., Any], *, replace: bool = False, default: bool = False
    ) -> HookImpl:
        """Add an implementation of hook ``name``.

        Raises:
            ValidationError: ``name`` is not a non-empty string or ``function`` is not callable.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"Invalid hook name {name!r}: expected a non-empty string such as 'before_run'.")
        if not callable(function):
            raise ValidationError(f"Invalid implementation for hook {name!r}: {function!r} is not callable.")
        impl = HookImpl(name, function, bool(replace), bool(default), self.origin)
        self._impls.append(impl)
        return impl

    def decorator(self, name: str, replace: bool = False, default: bool = False) -> Callable[[F], F]:
        """``@host.hook(name, replace=False, default=False)``: register the decorated function."""
        if callable(name):  # @host.hook without arguments: a mistake worth a clear message
            raise ValidationError("Give the hook's name: write @experiment.hook('before_run'), not @experiment.hook.")

        def register(fn: F) -> F:
            self.register(name, fn, replace=replace, default=default)
            return fn

        return register

    def entries(self) -> HookEntries:
        """This map's implementations by name (``replace`` applied within it)."""
        return compose([[(impl.name, impl) for impl in self._impls]])

    def __len__(self) -> int:
        return len(self._impls)


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
    """The implementations of ``name`` that run: the non-default ones, else the defaults."""
    impls = entries.get(name, [])
    regular = [impl for impl in impls if not impl.default]
    return regular or impls


def _first_parameter(fn: Callable[..., Any]) -> str | None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    return params[0].name if params and params[0].kind is not inspect.Parameter.VAR_KEYWORD else None


def _call(impl: HookImpl, experiment: Any, kwargs: Mapping[str, Any]) -> Any:
    accepts = accepted_arguments(impl.function)
    first = _first_parameter(impl.function)  # receives the experiment positionally
    passed = {k: v for k, v in kwargs.items() if k != first and (accepts is None or k in accepts)}
    return impl.function(experiment, **passed)


def apply_hooks(entries: HookEntries, name: str, experiment: Any, /, **kwargs: Any) -> Any:
    """Call the active implementations of ``name`` in order; return the last result that is not None.

    Exceptions propagate: an experiment's own hooks are part of its code.
    """
    result = None
    for impl in active(entries, name):
        value = _call(impl, experiment, kwargs)
        if value is not None:
            result = value
    return result


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
