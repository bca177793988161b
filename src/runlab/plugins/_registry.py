"""The hook registry: implementations by name, called by priority with keyword arguments.

Example:
    >>> from runlab.plugins import HookRegistry, StopHook
    >>> hooks = HookRegistry()
    >>> _ = hooks.register("before_run", lambda run: print("second", run), priority=0)
    >>> _ = hooks.register("before_run", lambda **kw: print("first"), priority=10)
    >>> hooks.apply("before_run", run="r1", experiment=None)
    first
    second r1
    >>> def veto():
    ...     raise StopHook("stopped")
    >>> _ = hooks.register("before_run", veto, priority=20)
    >>> hooks.apply("before_run", run="r1")
    'stopped'
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._errors import UnknownHookWarning
from ._hookspecs import HOOKS

__all__ = ["HookImpl", "HookRegistry", "StopHook", "accepted_arguments"]


class StopHook(Exception):
    """Raise inside a hook implementation to end the chain; lower priorities are not called.

    Args:
        value: what :meth:`HookRegistry.apply` returns.
    """

    def __init__(self, value: Any = None) -> None:
        super().__init__(value)
        self.value = value


_ALL = None  # marker: the function takes **kwargs
_signature_cache: weakref.WeakKeyDictionary[Callable[..., Any], frozenset[str] | None] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def accepted_arguments(fn: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments ``fn`` accepts, or None when it takes ``**kwargs`` (all of them).

    Inspected once per function (bound methods share their function's entry).

    Example:
        >>> sorted(accepted_arguments(lambda run, new: None))
        ['new', 'run']
        >>> accepted_arguments(lambda **kw: None) is None
        True
    """
    func = getattr(fn, "__func__", fn)
    try:
        with _cache_lock:
            return _signature_cache[func]
    except (KeyError, TypeError):
        pass
    params = list(inspect.signature(func).parameters.values())
    if func is not fn and params:  # a bound method: drop self/cls
        params = params[1:]
    names: frozenset[str] | None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        names = _ALL
    else:
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names = frozenset(p.name for p in params if p.kind in kinds)
    try:
        with _cache_lock:
            _signature_cache[func] = names
    except TypeError:  # not weak-referenceable (some builtins)
        pass
    return names


_order = itertools.count()


@dataclass(eq=False)
class HookImpl:
    """One registered implementation.

    Attributes:
        hook: the hook name.
        function: the callable.
        priority: higher runs first.
        plugin: the owning plugin's name, or None for a bare function.
        accepts: the keyword arguments it takes (None: all).
    """

    hook: str
    function: Callable[..., Any]
    priority: int = 0
    plugin: str | None = None
    accepts: frozenset[str] | None = None
    order: int = field(default_factory=lambda: next(_order))

    @property
    def owner(self) -> str:
        """The plugin's name, else the function's qualified name (used in error reports)."""
        return self.plugin or str(getattr(self.function, "__qualname__", repr(self.function)))

    def call(self, kwargs: dict[str, Any]) -> Any:
        if self.accepts is _ALL:
            return self.function(**kwargs)
        return self.function(**{k: v for k, v in kwargs.items() if k in self.accepts})  # type: ignore[operator]


ErrorHandler = Callable[[HookImpl, BaseException, dict[str, Any]], None]


class HookRegistry:
    """Hook implementations by name.

    :meth:`apply` calls them by priority, highest first, and in registration order among
    equal priorities, with keyword arguments only; each gets the subset of arguments its
    signature accepts. Thread-safe: registering during a call affects the next call.

    Args:
        on_error: called as ``on_error(impl, exception, kwargs)`` when an implementation
            raises; it may re-raise to end the call. Without it exceptions propagate.
        known: the hook names that do not warn when registered (default: :data:`HOOKS`).
    """

    def __init__(self, on_error: ErrorHandler | None = None, known: Iterable[str] | None = None) -> None:
        self._impls: dict[str, list[HookImpl]] = {}
        self._lock = threading.RLock()
        self._on_error = on_error
        self.known: set[str] = set(HOOKS if known is None else known)

    def register(self, name: str, fn: Callable[..., Any], priority: int = 0, *, plugin: str | None = None) -> HookImpl:
        """Register ``fn`` for hook ``name``; returns the entry (pass it to :meth:`unregister`).

        Registering a name that is not a known hook point warns (:class:`UnknownHookWarning`)
        and lists the close known names; the implementation is registered anyway, since a
        plugin may define hooks of its own.
        """
        if not callable(fn):
            raise TypeError(f"Invalid hook implementation for {name!r}: {fn!r} is not callable.")
        if name not in self.known:
            close = difflib.get_close_matches(name, sorted(self.known), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            warnings.warn(
                f"Unknown hook {name!r} registered by {plugin or getattr(fn, '__qualname__', fn)!r}.{hint} "
                "Known hooks are listed in runlab.plugins.HOOKS.",
                UnknownHookWarning,
                stacklevel=2,
            )
        impl = HookImpl(name, fn, int(priority), plugin, accepted_arguments(fn))
        with self._lock:
            impls = [*self._impls.get(name, []), impl]
            impls.sort(key=lambda i: (-i.priority, i.order))
            self._impls[name] = impls
        return impl

    def unregister(self, impl: HookImpl) -> None:
        """Remove one registered implementation (no error if it is gone already)."""
        with self._lock:
            impls = self._impls.get(impl.hook, [])
            self._impls[impl.hook] = [i for i in impls if i is not impl]

    def unregister_plugin(self, plugin: str) -> int:
        """Remove every implementation of ``plugin``; returns how many there were."""
        removed = 0
        with self._lock:
            for name, impls in self._impls.items():
                kept = [i for i in impls if i.plugin != plugin]
                removed += len(impls) - len(kept)
                self._impls[name] = kept
        return removed

    def implementations(self, name: str) -> list[HookImpl]:
        """The implementations of ``name`` in call order."""
        with self._lock:
            return list(self._impls.get(name, ()))

    def hooks_of(self, plugin: str) -> list[str]:
        """The hook names ``plugin`` implements."""
        with self._lock:
            return sorted({i.hook for impls in self._impls.values() for i in impls if i.plugin == plugin})

    def apply(self, name: str, /, **kwargs: Any) -> Any:
        """Call every implementation of ``name`` with keyword arguments.

        Returns:
            The value of a :class:`StopHook` that ended the chain, else the last return value
            that was not None (None when there is none).
        """
        result = None
        for impl in self.implementations(name):
            try:
                value = impl.call(kwargs)
            except StopHook as stop:
                return stop.value
            except Exception as exc:
                if self._on_error is None:
                    raise
                self._on_error(impl, exc, kwargs)
                continue
            if value is not None:
                result = value
        return result
