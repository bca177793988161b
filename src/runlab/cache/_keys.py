"""Cache keys: a stable hash of a call's arguments and of the function's source.

Arguments are bound to the function's signature first, so ``f(1, b=2)`` and ``f(a=1, b=2)``
give the same key, and defaults count. Values are hashed by content: numbers, strings,
bytes, ``None``, lists, tuples, dicts (key order does not matter), sets, NumPy-like arrays
(dtype, shape and bytes), and anything else that pickles.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import CacheError

__all__ = ["args_hash", "entry_digest", "source_hash"]

_KEY_VERSION = b"runlab-cache-1"


def source_hash(fn: Callable[..., Any]) -> str:
    """A hash of ``fn``'s source text and of the plain values it closes over.

    Editing the function changes it; so does a different closure value, so functions made by
    one factory (``make(k)`` returning ``def f(x): return x * k``) do not share entries. Only
    plain values of the closure count (numbers, strings, bytes, ``None``, and lists, tuples,
    dicts and sets of them, arrays); other objects count by their type. Falls back to the
    compiled code when the source is not available (e.g. in a REPL).

    Example:
        >>> def make(k):
        ...     def f(x):
        ...         return x * k
        ...     return f
        >>> len(source_hash(make(2))), source_hash(make(2)) == source_hash(make(3))
        (16, False)
    """
    target = inspect.unwrap(fn)
    try:
        text = textwrap.dedent(inspect.getsource(target)).encode("utf-8")
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        text = b"" if code is None else code.co_code + repr(code.co_consts).encode("utf-8")
    h = hashlib.sha256(text)
    code = getattr(target, "__code__", None)
    for name, cell in zip(getattr(code, "co_freevars", ()), getattr(target, "__closure__", None) or (), strict=False):
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        h.update(f"\0closure {name}=".encode())
        if _plain(value):
            _feed(h, value, name)
        else:
            h.update(f"{type(value).__module__}.{type(value).__qualname__}".encode())
    return h.hexdigest()[:16]


def _plain(value: Any) -> bool:
    """True for the values a closure contributes to the key by content (data, not objects)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(item) for item in value)
    if isinstance(value, Mapping):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return all(hasattr(value, attr) for attr in ("dtype", "shape", "tobytes"))


def _feed(h: Any, value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        h.update(f"{type(value).__name__}:{value!r};".encode("utf-8", "surrogatepass"))
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}[{len(value)}](".encode())
        for i, item in enumerate(value):
            _feed(h, item, f"{where}[{i}]")
        h.update(b")")
    elif isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            sub = hashlib.sha256()
            _feed(sub, key, where)
            _feed(sub, item, f"{where}[{key!r}]")
            parts.append(sub.digest())
        h.update(f"dict[{len(parts)}](".encode() + b"".join(sorted(parts)) + b")")
    elif isinstance(value, (set, frozenset)):
        parts = []
        for item in value:
            sub = hashlib.sha256()
            _feed(sub, item, where)
            parts.append(sub.digest())
        h.update(f"set[{len(parts)}](".encode() + b"".join(sorted(parts)) + b")")
    elif all(hasattr(value, attr) for attr in ("dtype", "shape", "tobytes")):  # NumPy-like arrays
        h.update(f"array:{value.dtype}:{tuple(value.shape)}:".encode())
        if getattr(value.dtype, "hasobject", False):  # the bytes of an object array are addresses, not content
            _feed(h, value.tolist(), where)
        else:
            h.update(value.tobytes())
    else:
        try:
            data = pickle.dumps(value, protocol=4)
        except Exception as exc:
            raise CacheError(
                f"Cannot build a cache key: argument {where} ({type(value).__name__}) cannot be hashed "
                f"({exc}). Pass plain values, or leave the argument out of the key with "
                f"ignore=({where.split('[')[0]!r},)."
            ) from None
        h.update(f"pickle:{type(value).__module__}.{type(value).__qualname__}:".encode() + data)


def args_hash(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any],
              ignore: Iterable[str] = ()) -> str:  # fmt: skip
    """A hash of the arguments of one call of ``fn`` (names in ``ignore`` left out).

    Example:
        >>> def f(a, b=2):
        ...     return a + b
        >>> args_hash(f, (1,), {}) == args_hash(f, (), {"a": 1, "b": 2})
        True
    """
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        arguments: dict[str, Any] = dict(bound.arguments)
    except (TypeError, ValueError):  # no signature, or a call that does not fit it: hash as given
        arguments = {"*args": args, **kwargs}
    skip = set(ignore)
    h = hashlib.sha256()
    for name in sorted(arguments):
        if name not in skip:
            h.update(name.encode() + b"=")
            try:
                _feed(h, arguments[name], name)
            except RecursionError:
                raise CacheError(f"Cannot build a cache key: argument {name} is nested too deeply or contains "
                                 f"itself. Pass plain values, or leave it out of the key with "
                                 f"ignore=({name!r},).") from None  # fmt: skip
    return h.hexdigest()[:32]


def entry_digest(name: str, scope: tuple[str, ...], source: str, arguments: str) -> str:
    """The file name stem of one cache entry."""
    h = hashlib.sha256(_KEY_VERSION)
    for part in (name, *scope, "|", source, arguments):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()[:32]
