"""The hook registry: every hook implementation of the process, called by priority with keyword arguments.

One mechanism serves plugins, an experiment's own hooks (``@experiment.hook``, mixins,
``extend``) and the run core's events (``run_state_changed`` ...): each implementation is a
:class:`HookImpl` registered in a :class:`HookRegistry`, checked against its hook's
:class:`~runlab.hooks.HookSpec` when it registers, and called with the same rules:

- higher ``priority`` first, registration order among equal priorities;
- keyword arguments only; an implementation gets the subset its signature names (all with
  ``**kwargs``), and naming an argument the hook never passes is refused at registration
  (:class:`~runlab.HookSignatureError`);
- ``raise StopHook(value)`` ends the chain, and the call returns ``value``; otherwise the
  call returns the last return value that was not None;
- an implementation's ``on_error`` decides about its exceptions, ``SystemExit`` included
  (plugins: reported and recorded, the run goes on; run listeners: reported once); without
  one they propagate (an experiment's own hooks are part of its code). ``KeyboardInterrupt``
  always propagates: it is the user's Ctrl-C.

An experiment's own hooks are *scoped*: they carry the layer (:class:`HookScope`: the
experiment file or mixin) that registered them and fire only when their experiment applies
them (:meth:`HookRegistry.call`), never on the process-wide calls plugins receive.

Example:
    >>> from runlab.hooks import HookRegistry, StopHook
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

import itertools
import numbers
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import ValidationError
from ._signature import _ALL, _inspect, _owner_name, accepted_arguments, check_signature
from ._specs import HOOKS, HookSpec

__all__ = [
    "ErrorHandler",
    "HookImpl",
    "HookRegistry",
    "HookScope",
    "StopHook",
    "UnknownHookWarning",
    "accepted_arguments",
    "check_hook_name",
    "check_priority",
    "check_signature",
]


class StopHook(Exception):
    """Raise inside a hook implementation to end the chain; lower priorities are not called.

    Args:
        value: what the hook call returns.
    """

    def __init__(self, value: Any = None) -> None:
        super().__init__(value)
        self.value = value


class UnknownHookWarning(UserWarning):
    """A hook implementation was registered for a name that is not a known hook point."""


_order = itertools.count()

ErrorHandler = Callable[["HookImpl", BaseException, dict[str, Any]], None]
"""Called as ``on_error(impl, exception, kwargs)`` when an implementation raises; may re-raise."""


class HookScope:
    """One layer of an experiment's own hooks: an experiment file's or a mixin's.

    Its implementations live in the registry (scoped to this layer) and in this object, in
    registration order; they are dropped with it.

    Args:
        origin: the file that registers them, for display.
    """

    def __init__(self, origin: str = "<experiment>") -> None:
        self.origin = origin
        self.impls: list[HookImpl] = []

    def __repr__(self) -> str:
        return f"<HookScope {self.origin} ({len(self.impls)} hooks)>"


class HookImpl:
    """One registered implementation (a plugin's, a function's, or an experiment's own).

    Made by :meth:`HookRegistry.register`, which checks it first.

    Attributes:
        hook: the hook name.
        function: the callable.
        priority: higher runs first.
        plugin: the owning plugin's name, or None.
        accepts: the keyword arguments it takes (None: all).
        scope: the experiment layer it belongs to (None: process-wide).
        replace: experiment hooks: drops the implementations of earlier layers (and earlier in its layer).
        default: experiment hooks: runs only when the hook has no implementation that is not a default.
        on_error: what to do with its exceptions (None: they propagate).
        first: experiment hooks: the parameter that receives the experiment positionally.
        order: the registration order (process-wide).
    """

    __slots__ = (
        "__weakref__", "accepts", "default", "first", "function", "hook", "on_error", "order", "plugin", "priority",
        "replace", "scope",
    )  # fmt: skip

    def __init__(
        self,
        hook: str,
        function: Callable[..., Any],
        priority: int = 0,
        plugin: str | None = None,
        accepts: frozenset[str] | None = None,
        scope: HookScope | None = None,
        replace: bool = False,
        default: bool = False,
        on_error: ErrorHandler | None = None,
        first: str | None = None,
    ) -> None:
        self.hook = hook
        self.function = function
        self.priority = priority
        self.plugin = plugin
        self.accepts = accepts
        self.scope = scope
        self.replace = replace
        self.default = default
        self.on_error = on_error
        self.first = first
        self.order = next(_order)

    def __repr__(self) -> str:
        where = f" plugin={self.plugin!r}" if self.plugin else f" scope={self.origin!r}" if self.scope else ""
        return f"<HookImpl {self.hook!r} {self.owner} priority={self.priority}{where}>"

    @property
    def name(self) -> str:
        """The hook name (as :attr:`hook`)."""
        return self.hook

    @property
    def origin(self) -> str:
        """The experiment or mixin file of an experiment hook, else ``""``."""
        return self.scope.origin if self.scope is not None else ""

    @property
    def owner(self) -> str:
        """The plugin's name, else the function's qualified name (used in error reports)."""
        return self.plugin or _owner_name(self.function)

    def call(self, kwargs: Mapping[str, Any], experiment: Any = None) -> Any:
        """Call the function with the arguments it accepts (an experiment hook gets ``experiment`` first)."""
        accepts, first = self.accepts, self.first
        if self.scope is not None:
            passed = {k: v for k, v in kwargs.items() if k != first and (accepts is None or k in accepts)}
            return self.function(experiment, **passed)
        if accepts is _ALL:
            return self.function(**kwargs)
        return self.function(**{k: v for k, v in kwargs.items() if k in accepts})


def check_hook_name(name: Any) -> str:
    """``name`` if it can name a hook: a non-empty string.

    Raises:
        ValidationError: anything else (a function: ``@hook`` written without its name).

    Example:
        >>> check_hook_name("before_run")
        'before_run'
    """
    if isinstance(name, str) and name.strip():
        return name
    if callable(name):
        raise ValidationError(
            f"Invalid hook name: got the function {_owner_name(name)!r}. Give the hook's name: write "
            "@hook('before_run'), not @hook."
        )
    raise ValidationError(f"Invalid hook name {name!r}: expected a non-empty string such as 'before_run'.")


def check_priority(priority: Any, hook: str) -> int:
    """``priority`` as an int: an integer, or a float with an integral value; higher runs first.

    Raises:
        ValidationError: a bool, a string, None, NaN, a fractional or infinite number.

    Example:
        >>> check_priority(10, "before_run")
        10
    """
    if isinstance(priority, numbers.Integral) and not isinstance(priority, bool):
        return int(priority)
    if isinstance(priority, float) and priority.is_integer():
        return int(priority)
    raise ValidationError(
        f"Invalid priority for hook {hook!r}: {priority!r} is not an integer. Higher priorities run first; "
        "write for example priority=10 (or priority=-10 to run late)."
    )


def _sort_key(impl: HookImpl) -> tuple[int, int]:
    return (-impl.priority, impl.order)


class HookRegistry:
    """Hook implementations by name: the one place hooks live.

    :meth:`apply` calls the process-wide implementations of a hook (plugins, run listeners)
    by priority; :meth:`call` calls a given chain (an experiment's layers) with the same
    rules. Registering checks the implementation against the hook's spec. Registries can be
    attached to another (a plugin manager's to the process registry): the other's calls then
    include theirs, merged by priority. Thread-safe: registering during a call affects the next call.

    Args:
        on_error: the default ``on_error`` of implementations registered here (see
            :class:`HookImpl`); without it exceptions propagate.
        known: the hook names that do not warn when registered (default: :data:`HOOKS`).
        specs: the specs implementations are checked against (default: :data:`HOOKS`).
    """

    def __init__(
        self,
        on_error: ErrorHandler | None = None,
        known: Iterable[str] | None = None,
        specs: Mapping[str, HookSpec] | None = None,
    ) -> None:
        self._impls: dict[str, list[HookImpl]] = {}
        self._scoped: weakref.WeakSet[HookImpl] = weakref.WeakSet()
        self._attached: list[HookRegistry] = []
        self._lock = threading.RLock()
        self._on_error = on_error
        self.specs: dict[str, HookSpec] = dict(HOOKS if specs is None else specs)
        self.known: set[str] = set(self.specs if known is None else known)
        self._activator: Callable[[], None] | None = None
        self._activated = False
        self._activating = False

    # -- registering ------------------------------------------------------------------
    def register(
        self,
        name: str,
        fn: Callable[..., Any],
        priority: int = 0,
        *,
        plugin: str | None = None,
        on_error: ErrorHandler | None = None,
        scope: HookScope | None = None,
        replace: bool = False,
        default: bool = False,
    ) -> HookImpl:
        """Register ``fn`` for hook ``name``; returns the entry (pass it to :meth:`unregister`).

        With ``scope`` it is an experiment's own hook: called as ``fn(e, **kwargs)`` only when
        its experiment applies it (:meth:`call`); hook names without a spec are allowed silently.
        Otherwise a name that is not a known hook point warns (:class:`UnknownHookWarning`)
        with the close known names, and is registered anyway (a plugin may define its own).

        Raises:
            HookSignatureError: ``fn`` names an argument the hook does not pass (see
                :func:`check_signature`).
            ValidationError: ``name`` is not a non-empty string, or ``priority`` is not an
                integer (:func:`check_hook_name`, :func:`check_priority`).
            TypeError: ``fn`` is not callable.
        """
        name = check_hook_name(name)
        priority = check_priority(priority, name)
        if not callable(fn):
            raise TypeError(f"Invalid hook implementation for {name!r}: {fn!r} is not callable.")
        owner = f"{_owner_name(fn)} (plugin {plugin!r})" if plugin else None
        check_signature(name, fn, spec=self.specs.get(name), experiment=scope is not None, owner=owner)
        if scope is None and name not in self.known:
            import difflib

            close = difflib.get_close_matches(name, sorted(self.known), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            warnings.warn(
                f"Unknown hook {name!r} registered by {plugin or _owner_name(fn)!r}.{hint} "
                "Known hooks are listed in runlab.plugins.HOOKS.",
                UnknownHookWarning,
                stacklevel=2,
            )
        accepts, first = _inspect(fn)
        impl = HookImpl(
            name,
            fn,
            priority,
            plugin,
            accepts,
            scope,
            bool(replace),
            bool(default),
            on_error if on_error is not None else (None if scope is not None else self._on_error),
            first,
        )
        with self._lock:
            if scope is not None:
                scope.impls.append(impl)
                self._scoped.add(impl)
            else:
                self._impls[name] = sorted([*self._impls.get(name, []), impl], key=_sort_key)
        return impl

    def unregister(self, impl: HookImpl) -> None:
        """Remove one registered implementation (no error if it is gone already)."""
        with self._lock:
            if impl.scope is not None:
                self._scoped.discard(impl)
                impl.scope.impls[:] = [i for i in impl.scope.impls if i is not impl]
                return
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

    def attach(self, other: HookRegistry) -> None:
        """Include ``other``'s process-wide implementations in this registry's calls (idempotent)."""
        with self._lock:
            if other is not self and other not in self._attached:
                self._attached.append(other)

    def detach(self, other: HookRegistry) -> None:
        """Undo :meth:`attach` (no error if not attached)."""
        with self._lock:
            if other in self._attached:
                self._attached.remove(other)

    # -- looking up -------------------------------------------------------------------
    def implementations(self, name: str, *, scoped: bool = False) -> list[HookImpl]:
        """The process-wide implementations of ``name`` in call order (attached registries' too).

        Args:
            scoped: list the live experiment hooks of ``name`` instead (every experiment's,
                in registration order).
        """
        with self._lock:
            if scoped:
                return sorted((i for i in self._scoped if i.hook == name), key=lambda i: i.order)
            own = self._impls.get(name, ())
            if not self._attached:
                return list(own)
            merged = [*own, *(i for other in self._attached for i in other.implementations(name))]
        return sorted(merged, key=_sort_key)

    def has(self, name: str) -> bool:
        """Whether a process-wide implementation of ``name`` is registered (here or attached)."""
        with self._lock:
            return bool(self._impls.get(name)) or any(other.has(name) for other in self._attached)

    def hooks_of(self, plugin: str) -> list[str]:
        """The hook names ``plugin`` implements."""
        with self._lock:
            return sorted({i.hook for impls in self._impls.values() for i in impls if i.plugin == plugin})

    # -- calling ----------------------------------------------------------------------
    def apply(self, name: str, /, **kwargs: Any) -> Any:
        """Call every process-wide implementation of ``name`` with keyword arguments.

        The first call of the process registry activates the configured plugins (see
        :func:`runlab.hooks.activate`).

        Returns:
            The value of a :class:`StopHook` that ended the chain, else the last return value
            that was not None (None when there is none).
        """
        if self._activator is not None and not self._activated:
            self.activate()
        return self.call(self.implementations(name), kwargs)

    @staticmethod
    def call(impls: Iterable[HookImpl], kwargs: Mapping[str, Any], experiment: Any = None) -> Any:
        """Call ``impls`` in the order given with the registry's rules (StopHook, ``on_error``, results).

        ``experiment`` is what experiment hooks receive as their first argument.
        """
        result = None
        for impl in impls:
            try:
                value = impl.call(kwargs, experiment)
            except StopHook as stop:
                return stop.value
            except (Exception, SystemExit) as exc:  # sys.exit() in a plugin is its failure; Ctrl-C is not
                if impl.on_error is None:
                    raise
                impl.on_error(impl, exc, dict(kwargs))
                continue
            if value is not None:
                result = value
        return result

    # -- activation (the process registry) --------------------------------------------
    def set_activator(self, activator: Callable[[], None] | None) -> None:
        """Run ``activator`` once, before the first :meth:`apply` (or an explicit :meth:`activate`)."""
        with self._lock:
            self._activator = activator
            self._activated = False

    def activate(self) -> None:
        """Run the activator now if it has not run; other threads wait until it has.

        Its errors propagate, and it runs again next time. Hook calls the activator makes
        itself (``after_plugins_loaded``) do not recurse.
        """
        if self._activated:  # the common case, without the lock
            return
        with self._lock:
            if self._activated or self._activating or self._activator is None:
                return
            self._activating = True
            try:
                self._activator()
                self._activated = True
            finally:
                self._activating = False

    def mark_activated(self) -> None:
        """Treat the activator as run: a plugin manager activated explicitly replaces it."""
        with self._lock:
            self._activated = True

    def reset_activation(self) -> None:
        """Let the activator run again before the next call (after the plugins were closed)."""
        with self._lock:
            self._activated = False
