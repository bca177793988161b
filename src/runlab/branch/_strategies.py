"""Strategies: which configs of the pool a call runs, which run in the background, what the caller gets.

A strategy only plans; the decorated function executes the plan the same way for sync and
async functions, so a custom strategy is a small class with one method::

    >>> from runlab.branch import Plan
    >>> class FirstTwo:
    ...     name = "first_two"
    ...     def plan(self, configs):
    ...         return Plan(run=tuple(configs[:2]), returns="all")
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from .._valueclass import value_class
from ._configs import BranchConfig
from ._errors import StrategyError
from ._fork import reset_in_child

__all__ = ["MultiBranch", "Plan", "RoundRobin", "Shadow", "SingleConfig", "Strategy", "check_strategy"]


@value_class(frozen=True)
class Plan:
    """A strategy's decision for one call.

    Attributes:
        run: configs the caller waits for; several run concurrently (threads for a sync
            function, tasks for an async one).
        background: configs started in the background and recorded; the caller never waits
            for them and never sees their failures.
        returns: ``"first"``: the caller gets the first ``run`` config's return value (or its
            exception, as without branching); ``"all"``: the caller gets a
            :class:`~runlab.branch.BranchContainer` of the ``run`` branches, failures captured.
    """

    run: tuple[BranchConfig, ...]
    background: tuple[BranchConfig, ...] = ()
    returns: Literal["first", "all"] = "first"


@runtime_checkable
class Strategy(Protocol):
    """Decides, call by call, what runs: ``plan(configs) -> Plan``.

    ``configs`` is the function's whole pool, in order, every call. ``plan`` may be called from
    several threads and tasks at once; a strategy with state guards it, with a ``threading.Lock``,
    ``RLock`` or ``Condition`` held as an attribute (in a forked child the decorated function
    reinitialises those, so a lock that another thread held at the fork does not hang the child).
    An optional ``name`` attribute names the strategy in records (default: the class name). An
    optional method ``check(configs)`` is called once when the function is decorated, to refuse
    a pool the strategy cannot serve (raise :class:`~runlab.branch.StrategyError`).
    """

    def plan(self, configs: Sequence[BranchConfig]) -> Plan: ...


def check_strategy(strategy: object, given: object = None) -> Strategy:
    """Return ``strategy`` if it satisfies :class:`Strategy`, else raise :class:`StrategyError`."""
    if isinstance(strategy, type) or not callable(getattr(strategy, "plan", None)):
        what = given if given is not None else strategy
        raise StrategyError(f"{what!r} is not a strategy: a strategy has a method plan(configs) -> Plan. Give a "
                            "registered name (see runlab.branch.registry.list()), a strategy object, or a class "
                            "whose instances have plan().")  # fmt: skip
    return strategy  # type: ignore[return-value]


def _check_index(strategy: str, name: str, index: int, configs: Sequence[BranchConfig]) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or not -len(configs) <= index < len(configs):
        raise StrategyError(f"{strategy}({name}={index!r}) needs a config at that position, but the pool has "
                            f"{len(configs)} config(s): give {name} from 0 to {len(configs) - 1}.")  # fmt: skip


class SingleConfig:
    """Always the same config (the first, or the one at ``index``): branching switched off, still recorded.

    Example:
        >>> from runlab.branch import resolve_configs
        >>> pool = resolve_configs([{"a": 1}, {"a": 2}])
        >>> SingleConfig(index=1).plan(pool).run[0].value
        {'a': 2}
    """

    name = "single"

    def __init__(self, index: int = 0) -> None:
        self.index = index

    def check(self, configs: Sequence[BranchConfig]) -> None:
        _check_index("SingleConfig", "index", self.index, configs)

    def plan(self, configs: Sequence[BranchConfig]) -> Plan:
        return Plan(run=(configs[self.index],))


class RoundRobin:
    """The next config of the pool on every call, in turn; safe under threads and asyncio.

    Example:
        >>> from runlab.branch import resolve_configs
        >>> pool, rr = resolve_configs([{"a": 1}, {"a": 2}]), RoundRobin()
        >>> [rr.plan(pool).run[0].value["a"] for _ in range(3)]
        [1, 2, 1]
    """

    name = "round_robin"

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._lock = threading.Lock()
        reset_in_child(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # another thread of the parent may have held it: the child's would hang

    def plan(self, configs: Sequence[BranchConfig]) -> Plan:
        with self._lock:
            turn = next(self._counter)
        return Plan(run=(configs[turn % len(configs)],))


class Shadow:
    """The caller gets the primary config's result; every other config runs in the background.

    Background branches are recorded by the logger; their failures never reach the caller.

    Example:
        >>> from runlab.branch import resolve_configs
        >>> plan = Shadow().plan(resolve_configs([{"a": 1}, {"a": 2}, {"a": 3}]))
        >>> plan.run[0].value, [c.value["a"] for c in plan.background]
        ({'a': 1}, [2, 3])
    """

    name = "shadow"

    def __init__(self, primary: int = 0) -> None:
        self.primary = primary

    def check(self, configs: Sequence[BranchConfig]) -> None:
        _check_index("Shadow", "primary", self.primary, configs)

    def plan(self, configs: Sequence[BranchConfig]) -> Plan:
        primary = configs[self.primary]
        return Plan(run=(primary,), background=tuple(c for c in configs if c is not primary))


class MultiBranch:
    """Every config at once; the caller gets a :class:`~runlab.branch.BranchContainer`.

    Example:
        >>> from runlab.branch import resolve_configs
        >>> plan = MultiBranch().plan(resolve_configs([{"a": 1}, {"a": 2}]))
        >>> len(plan.run), plan.returns
        (2, 'all')
    """

    name = "multi_branch"

    def plan(self, configs: Sequence[BranchConfig]) -> Plan:
        return Plan(run=tuple(configs), returns="all")
