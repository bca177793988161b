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
    """A hash of ``fn``'s source text: editing the function changes it.

    Falls back to the compiled code when the source is not available (e.g. in a REPL).

    Example:
        >>> def f(x):
        ...     return x + 1
        >>> len(source_hash(f))
        16
    """
    target = inspect.unwrap(fn)
    try:
        text = textwrap.dedent(inspect.getsource(target)).encode("utf-8")
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        text = b"" if code is None else code.co_code + repr(code.co_consts).encode("utf-8")
    return hashlib.sha256(text).hexdigest()[:16]


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
            _feed(h, arguments[name], name)
    return h.hexdigest()[:32]


def entry_digest(name: str, scope: tuple[str, ...], source: str, arguments: str) -> str:
    """The file name stem of one cache entry."""
    h = hashlib.sha256(_KEY_VERSION)
    for part in (name, *scope, "|", source, arguments):
        h.update(part.encode("utf-8") + b"\0")
    return h.hexdigest()[:32]
