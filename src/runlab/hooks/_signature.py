"""Hook implementations' signatures: which keyword arguments they take, and the check at registration.

A hook is called with keyword arguments only, and an implementation gets the subset its
signature names (all of them with ``**kwargs``). :func:`check_signature` refuses an
implementation naming an argument its hook never passes, so a misspelling fails when the
implementation registers instead of on every call.

Example:
    >>> from runlab.hooks import HOOKS
    >>> sorted(accepted_arguments(lambda run, new: None))
    ['new', 'run']
    >>> check_signature("run_state_changed", lambda run, neww: None, spec=HOOKS["run_state_changed"])
    Traceback (most recent call last):
    ...
    runlab.errors.HookSignatureError: Invalid implementation of hook 'run_state_changed' in <lambda>: ...
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from types import FunctionType
from typing import TYPE_CHECKING, Any

from ..errors import HookSignatureError

if TYPE_CHECKING:
    import inspect

    from ._specs import HookSpec

__all__ = ["accepted_arguments", "check_signature"]

_ALL = None  # marker: the function takes **kwargs
_signature_cache: weakref.WeakKeyDictionary[Callable[..., Any], tuple[frozenset[str] | None, str | None]] = (
    weakref.WeakKeyDictionary()
)
_parameters_cache: weakref.WeakKeyDictionary[Any, list[inspect.Parameter]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _cache_key(func: Callable[..., Any]) -> Any:
    """What the names and kinds of a function's parameters (all this module reads of them) depend on:
    for a plain function its code object, which the closures made from one ``def`` share (a
    listener's adapter is made anew for every run). Defaults and annotations are not part of it."""
    if type(func) is FunctionType and not hasattr(func, "__wrapped__") and not hasattr(func, "__signature__"):
        return func.__code__
    return func


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    func = getattr(fn, "__func__", fn)
    key = _cache_key(func)
    try:
        with _cache_lock:
            params = _parameters_cache[key]
    except (KeyError, TypeError):
        import inspect  # not at import: ``import runlab`` stays light

        params = list(inspect.signature(func).parameters.values())
        try:
            with _cache_lock:
                _parameters_cache[key] = params
        except TypeError:  # not weak-referenceable (some builtins)
            pass
    if func is not fn and params:  # a bound method: drop self/cls
        params = params[1:]
    return list(params)


def _inspect(fn: Callable[..., Any]) -> tuple[frozenset[str] | None, str | None]:
    """``(keyword names or None for **kwargs, name of the first positional parameter)``, cached."""
    func = getattr(fn, "__func__", fn)
    key = func if func is not fn else _cache_key(fn)
    try:
        with _cache_lock:
            return _signature_cache[key]
    except (KeyError, TypeError):
        pass
    import inspect

    params = _parameters(fn)
    names: frozenset[str] | None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        names = _ALL
    else:
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names = frozenset(p.name for p in params if p.kind in kinds)
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    first = params[0].name if params and params[0].kind in positional else None
    try:
        with _cache_lock:
            _signature_cache[key] = (names, first)
    except TypeError:  # not weak-referenceable (some builtins)
        pass
    return names, first


def accepted_arguments(fn: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments ``fn`` accepts, or None when it takes ``**kwargs`` (all of them).

    Inspected once per function (bound methods share their function's entry).

    Example:
        >>> sorted(accepted_arguments(lambda run, new: None))
        ['new', 'run']
        >>> accepted_arguments(lambda **kw: None) is None
        True
    """
    return _inspect(fn)[0]


def _owner_name(fn: Callable[..., Any]) -> str:
    return str(getattr(fn, "__qualname__", None) or repr(fn))


def _where(fn: Callable[..., Any]) -> str:
    """`` (file:line)`` of a function defined in a file, else ""."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None or code.co_filename.startswith("<"):
        return ""
    return f" ({code.co_filename}:{code.co_firstlineno})"


def check_signature(
    name: str,
    fn: Callable[..., Any],
    *,
    spec: HookSpec | None,
    experiment: bool = False,
    unbound: bool = False,
    owner: str | None = None,
) -> None:
    """Refuse ``fn`` as an implementation of hook ``name`` when it names an argument the hook never passes.

    Args:
        name: the hook's name.
        fn: the implementation (a bound method's ``self`` is not counted).
        spec: the hook's spec; None (a hook without a spec) checks only the shape.
        experiment: an experiment's own hook: the first parameter receives the experiment.
        unbound: ``fn`` is a method taken from its class: its first parameter is ``self``.
        owner: who registered it, for the message (default: the function's qualified name).

    Raises:
        HookSignatureError: an argument outside the spec, a positional-only argument, or an
            experiment hook without a parameter for the experiment.

    Example:
        >>> from runlab.hooks import HOOKS
        >>> check_signature("after_run", lambda run, reslt: None, spec=HOOKS["after_run"])
        Traceback (most recent call last):
        ...
        runlab.errors.HookSignatureError: Invalid implementation of hook 'after_run' in <lambda>: ...
    """
    import inspect

    who = (owner or _owner_name(fn)) + _where(fn)
    try:
        params = _parameters(fn)
    except (TypeError, ValueError):  # no signature to inspect (some builtins): nothing to check
        return
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if unbound and params and params[0].kind in positional:
        params = params[1:]
    if experiment:
        if not params or params[0].kind not in (*positional, inspect.Parameter.VAR_POSITIONAL):
            raise HookSignatureError(
                f"Invalid implementation of experiment hook {name!r} in {who}: it has no parameter for the experiment. "
                f"An experiment's hook is called as fn(e, **kwargs): write def "
                f"{getattr(fn, '__name__', 'hook')}(e): ...",
                name,
                "",
                who,
            )
        if params[0].kind in positional:
            params = params[1:]
    passes = spec.arguments if spec is not None else None
    for param in params:
        if param.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            problem = "is positional-only, but hooks pass keyword arguments only"
        elif passes is not None and param.name not in passes:
            problem = "is not an argument of this hook"
        else:
            continue
        import difflib

        close = difflib.get_close_matches(param.name, passes or (), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        offered = ", ".join(passes) if passes else "only keyword arguments"
        raise HookSignatureError(
            f"Invalid implementation of hook {name!r} in {who}: argument {param.name!r} {problem}.{hint} "
            f"{name!r} passes: {offered}. Accept a subset of them (or **kwargs).",
            name,
            param.name,
            who,
        )
