"""The strategy registry: strategies by name, the built-in ones and yours.

Example:
    >>> from runlab.branch import Plan, registry
    >>> class Newest:
    ...     def plan(self, configs):
    ...         return Plan(run=(configs[-1],))
    >>> _ = registry.register("newest", Newest)
    >>> "newest" in registry.list(), type(registry.get("newest")).__name__
    (True, 'Newest')
    >>> registry.unregister("newest")
"""

from __future__ import annotations

import builtins
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ..params import did_you_mean
from ._errors import StrategyError, UnknownStrategyError
from ._strategies import MultiBranch, RoundRobin, Shadow, SingleConfig, Strategy, check_strategy

__all__ = ["get", "list", "register", "unregister"]

F = TypeVar("F", bound=Callable[..., Any])
_lock = threading.Lock()
_factories: dict[str, Callable[[], Any]] = {}
_names: dict[str, str] = {}
_BUILTIN = ("single", "round_robin", "shadow", "multi_branch")


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread of the parent may have held it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


@overload
def register(name: str, factory: None = None, *, replace: bool = False) -> Callable[[F], F]: ...
@overload
def register(name: str, factory: F, *, replace: bool = False) -> F: ...
def register(name: str, factory: Any = None, *, replace: bool = False) -> Any:
    """Register a strategy under ``name`` (case, ``_`` and ``-`` do not matter when looking it up).

    ``factory`` is a class (or any callable) that makes a new strategy for each decorated
    function, or a strategy object shared by all of them. Without ``factory`` this returns a
    class decorator.

    Raises:
        StrategyError: the name is empty or taken (pass ``replace=True``), or ``factory`` makes
            no strategy (checked now, not at the first call).
    """
    if factory is None:
        return lambda cls: register(name, cls, replace=replace)
    if not isinstance(name, str) or not _key(name).strip():
        raise StrategyError(f"Invalid strategy name {name!r}: expected a non-empty string such as 'canary'.")
    if isinstance(factory, type) or not callable(getattr(factory, "plan", None)):
        if not callable(factory):
            raise StrategyError(f"Cannot register {factory!r} as strategy {name!r}: give a class with a method "
                                "plan(configs), or a strategy object.")  # fmt: skip
        if isinstance(factory, type) and not callable(getattr(factory, "plan", None)):
            check_strategy(factory, f"class {factory.__name__}")
        make: Callable[[], Any] = factory
    else:
        instance = factory
        make = lambda: instance  # noqa: E731
    key = _key(name)
    with _lock:
        if key in _factories and not replace:
            raise StrategyError(f"A strategy named {_names[key]!r} is already registered; pick another name or "
                                "pass replace=True.")  # fmt: skip
        _factories[key] = make
        _names[key] = name
    return factory


def unregister(name: str) -> None:
    """Remove a strategy registered by :func:`register` (the built-in ones stay).

    Raises:
        UnknownStrategyError: no strategy of that name.
        StrategyError: ``name`` is a built-in strategy.
    """
    if not isinstance(name, str):
        raise UnknownStrategyError(f"Invalid strategy name {name!r}: expected a string; " + _unknown(str(name)))
    key = _key(name)
    if key in {_key(b) for b in _BUILTIN}:
        raise StrategyError(f"{name!r} is a built-in strategy and cannot be removed.")
    with _lock:
        if key not in _factories:
            raise UnknownStrategyError(_unknown(name))
        del _factories[key]
        del _names[key]


def _unknown(name: str) -> str:
    known = builtins.list(_names.values())
    return f"Unknown strategy {name!r}.{did_you_mean(name, known)} Registered strategies: {', '.join(known)}."


def get(name: str) -> Strategy:
    """A new strategy object of the strategy registered as ``name``.

    Raises:
        UnknownStrategyError: nothing is registered under ``name`` (the message lists what is).
        StrategyError: the registered factory made something that is not a strategy.
    """
    if not isinstance(name, str):
        raise UnknownStrategyError(f"Invalid strategy name {name!r}: expected a string; " + _unknown(str(name)))
    with _lock:
        make = _factories.get(_key(name))
    if make is None:
        raise UnknownStrategyError(_unknown(name))
    return check_strategy(make(), f"what the factory of {name!r} made")


def list() -> builtins.list[str]:
    """The registered strategy names, built-in ones first."""
    with _lock:
        return builtins.list(_names.values())


for _name, _cls in zip(_BUILTIN, (SingleConfig, RoundRobin, Shadow, MultiBranch), strict=True):
    register(_name, _cls)
