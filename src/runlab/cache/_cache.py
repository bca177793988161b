"""The cache: results of expensive calls kept on disk under ``<root>/.runlab/cache/``.

Layout: ``<cache>/<scope...>/<name>/<digest><suffix>`` plus ``<digest>.meta.json`` describing
the entry. The digest combines the name, the scope, a hash of the function's source and a
hash of the call's arguments, so editing the function or calling it with other arguments
misses the old entries (``runlab cache clear`` removes them).

Thread and process safety: an entry is written to a temporary file in its folder and moved
into place with :func:`os.replace`, so readers see a whole entry or none. Two processes
computing the same entry at once both write it; the last move wins and either is valid.
An unreadable entry (torn by a crash of an older version, edited by hand) is reported with
a warning and computed again.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

from .._valueclass import value_class
from ..errors import CacheError
from ..store import RunlabWarning, resolve_root
from ..store._files import read_json, write_json_atomic
from ._backends import Backend, get_backend
from ._keys import args_hash, entry_digest, source_hash

__all__ = ["Cache", "CacheEntry", "cached", "caching", "default_cache"]

F = TypeVar("F", bound=Callable[..., Any])
CACHE_DIR = Path(".runlab") / "cache"
_META = ".meta.json"
_LOADING: contextvars.ContextVar[bool] = contextvars.ContextVar("runlab_cache_loading", default=True)


@contextlib.contextmanager
def caching(enabled: bool) -> Iterator[None]:
    """Turn loading of cached results on or off inside the block (results are saved either way).

    An experiment run with ``__CACHING__=False`` runs inside ``caching(False)``; the environment
    variable ``RUNLAB_CACHING=0`` does the same for a whole process.

    Example:
        >>> with caching(False):
        ...     pass  # every @cached function computes, and saves its fresh result
    """
    token = _LOADING.set(bool(enabled))
    try:
        yield
    finally:
        _LOADING.reset(token)


def _loading_enabled(cache_flag: bool) -> bool:
    env = os.environ.get("RUNLAB_CACHING", "").strip().lower()
    return cache_flag and _LOADING.get() and env not in {"0", "false", "no", "off"}


def _check_part(kind: str, part: object) -> str:
    if (
        not isinstance(part, str) or not part or part in {".", ".."} or part.startswith(".")
        or len(part) > 100 or any(c in part for c in "/\\\0") or not part.isprintable()
    ):  # fmt: skip
        raise CacheError(
            f"Invalid cache {kind} {part!r}: expected a short name without slashes or control characters, "
            "such as 'preprocessing' or 'v1'."
        )
    return part


def _scope_parts(scope: Iterable[str] | str) -> tuple[str, ...]:
    """``scope=`` as checked folder names: one string is one folder."""
    if isinstance(scope, str):
        return (_check_part("scope", scope),)
    try:
        parts = tuple(scope)
    except TypeError:
        raise CacheError(f"Invalid cache scope {scope!r}: expected a folder name or a tuple of them, such as "
                         "('data', 'v1').") from None  # fmt: skip
    return tuple(_check_part("scope", part) for part in parts)


def _ignored(fn: Callable[..., Any], ignore: Iterable[str] | str) -> tuple[str, ...]:
    """``ignore=`` as argument names of ``fn``: one string is one name; a name ``fn`` lacks is refused."""
    try:
        names = (ignore,) if isinstance(ignore, str) else tuple(ignore)
    except TypeError:
        raise CacheError(f"Invalid ignore= {ignore!r}: expected an argument name or a tuple of them, such as "
                         "('logger',).") from None  # fmt: skip
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # no signature to check against
        return names
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return names
    unknown = [n for n in names if n not in params]
    if unknown:
        raise CacheError(f"Invalid ignore= name {unknown[0]!r}: {getattr(fn, '__name__', fn)}() has no such "
                         f"argument. Expected some of: {', '.join(params) or '(no arguments)'}.")  # fmt: skip
    return names


@value_class(frozen=True)
class CacheEntry:
    """One stored result, as :meth:`Cache.entries` lists it."""

    path: Path
    name: str
    scope: tuple[str, ...]
    backend: str
    size: int
    created: float
    function: str | None


class Cache:
    """A folder of cached function results, shared by every run of a store.

    Args:
        path: the cache folder; default ``<root>/.runlab/cache``.
        root: the store whose cache to use (see :func:`runlab.store.resolve_root`).
        load: load existing entries (``False`` computes every call and saves the result, as
            ``__CACHING__=False`` does).

    Example:
        >>> import tempfile
        >>> cache = Cache(root=tempfile.mkdtemp())
        >>> @cache.cached("square", scope=("demo",))
        ... def square(x):
        ...     print("computing")
        ...     return x * x
        >>> square(4)
        computing
        16
        >>> square(4)
        16
        >>> cache.stats
        {'hits': 1, 'misses': 1}
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, root: str | os.PathLike[str] | None = None,
                 load: bool = True) -> None:  # fmt: skip
        self.path = Path(path) if path is not None else resolve_root(root) / CACHE_DIR
        self.load = load
        self._lock = threading.Lock()
        self.stats = {"hits": 0, "misses": 0}

    def __repr__(self) -> str:
        return f"Cache({str(self.path)!r})"

    def cached(self, name: str | None = None, scope: Iterable[str] = (), backend: str = "pickle",
               ignore: Iterable[str] = ()) -> Callable[[F], F]:  # fmt: skip
        """Decorate a function so that its results are stored and reused.

        Args:
            name: the entry's name (default: the function's name).
            scope: folders grouping entries, e.g. ``("data", "v1")``; ``runlab cache clear
                --scope data`` removes a whole scope.
            backend: ``"pickle"`` (any picklable value), ``"joblib"`` (NumPy arrays,
                scikit-learn models) or ``"json"`` (readable files, JSON values only).
            ignore: argument names left out of the key (e.g. a logger or the experiment); one
                string is one name.

        Raises:
            CacheError: an invalid name, scope part or backend, or an ``ignore`` name the
                function has no argument for (at decoration time).
        """
        scope_parts = _scope_parts(scope)
        chosen = get_backend(backend)

        def decorate(fn: F) -> F:
            entry_name = _check_part("name", name if name is not None else getattr(fn, "__name__", None))
            ignored = _ignored(fn, ignore)
            source = source_hash(fn)

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                digest = entry_digest(entry_name, scope_parts, source, args_hash(fn, args, kwargs, ignored))
                return self._call(fn, args, kwargs, entry_name, scope_parts, chosen, digest, source)

            wrapper.cache = self  # type: ignore[attr-defined]
            return wrapper  # type: ignore[return-value]

        return decorate

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str,
              scope: tuple[str, ...], backend: Backend, digest: str, source: str) -> Any:  # fmt: skip
        folder = self.path.joinpath(*scope, name)
        target = folder / f"{digest}{backend.suffix}"
        if _loading_enabled(self.load) and target.is_file():
            try:
                value = backend.load(target)
            except Exception as exc:  # a damaged entry is recomputed, never fatal
                warnings.warn(f"Cache entry {target} is unreadable ({type(exc).__name__}: {exc}); computing it again.",
                              RunlabWarning, stacklevel=3)  # fmt: skip
            else:
                with self._lock:
                    self.stats["hits"] += 1
                return value
        with self._lock:
            self.stats["misses"] += 1
        value = fn(*args, **kwargs)
        self._store(value, folder, target, backend, name, scope, fn, source)
        return value

    def _store(self, value: Any, folder: Path, target: Path, backend: Backend, name: str, scope: tuple[str, ...],
               fn: Callable[..., Any], source: str) -> None:  # fmt: skip
        tmp = folder / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            backend.dump(value, tmp)
            os.replace(tmp, target)
        except BaseException as exc:  # the result is returned either way; only the saving failed
            with contextlib.suppress(OSError):
                tmp.unlink()  # also on Ctrl-C: a half-written hidden file would stay, unlisted and never cleared
            if not isinstance(exc, Exception):
                raise
            hint = (f"Check that {folder} can be written." if isinstance(exc, OSError)
                    else "Choose another backend (pickle holds most values).")  # fmt: skip
            warnings.warn(f"Could not cache the result of {name!r} with the {backend.name!r} backend "
                          f"({type(exc).__name__}: {exc}). {hint}", RunlabWarning, stacklevel=4)  # fmt: skip
            return
        meta = {"name": name, "scope": list(scope), "backend": backend.name, "created": time.time(),
                "function": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}",
                "source_hash": source}  # fmt: skip
        with contextlib.suppress(OSError):
            write_json_atomic(folder / f"{target.name[: -len(backend.suffix)]}{_META}", meta, fsync=False)

    def entries(self, scope: Iterable[str] = (), name: str | None = None) -> list[CacheEntry]:
        """The stored entries, optionally only those under ``scope`` or called ``name``.

        Raises:
            CacheError: a scope part or name that no entry can have (``""``, ``".."``, a slash).
        """
        scope_parts = _scope_parts(scope)
        if name is not None:
            _check_part("name", name)
        base = self.path.joinpath(*scope_parts)
        if not base.is_dir():
            return []
        suffixes = {".pkl": "pickle", ".joblib": "joblib", ".json": "json"}
        found = []
        for file in sorted(base.rglob("*")):
            if file.name.startswith(".") or file.name.endswith(_META) or file.suffix not in suffixes:
                continue
            parts = file.relative_to(self.path).parts
            # an entry is a file in <scope...>/<name>/: not a folder whose name ends like one (a scope
            # "v1.json"), and not an entry named like the scope's first folder ("features" beside scope
            # "features/..."), which lies in the scope's folder but has a shorter scope
            if len(parts) < 2 + len(scope_parts) or (name is not None and parts[-2] != name) or not file.is_file():
                continue
            meta_file = file.with_name(file.name[: -len(file.suffix)] + _META)
            try:
                meta = read_json(meta_file)
                function = meta.get("function") if isinstance(meta, dict) else None
            except (OSError, ValueError):
                function = None
            try:
                stat = file.stat()
            except OSError:
                continue
            found.append(CacheEntry(file, parts[-2], tuple(parts[:-2]), suffixes[file.suffix], stat.st_size,
                                    stat.st_mtime, function))  # fmt: skip
        return found

    def clear(self, scope: Iterable[str] = (), name: str | None = None) -> int:
        """Delete entries (all, those under ``scope``, or those called ``name``); return how many."""
        removed = 0
        for entry in self.entries(scope, name):
            with contextlib.suppress(FileNotFoundError):
                entry.path.unlink()
                removed += 1
            with contextlib.suppress(FileNotFoundError):
                entry.path.with_name(entry.path.name[: -len(entry.path.suffix)] + _META).unlink()
        return removed


_DEFAULT: dict[Path, Cache] = {}


def default_cache(root: str | os.PathLike[str] | None = None) -> Cache:
    """The shared :class:`Cache` of the store at ``root`` (resolved as the store's root is)."""
    path = resolve_root(root) / CACHE_DIR
    cache = _DEFAULT.get(path)
    if cache is None:
        cache = _DEFAULT[path] = Cache(path)
    return cache


@overload
def cached(fn: F, /) -> F: ...
@overload
def cached(name: str | None = None, /, *, scope: Iterable[str] = (), backend: str = "pickle",
           ignore: Iterable[str] = (), root: str | os.PathLike[str] | None = None) -> Callable[[F], F]: ...  # fmt: skip
def cached(fn_or_name: Any = None, /, *, scope: Iterable[str] = (), backend: str = "pickle",
           ignore: Iterable[str] = (), root: str | os.PathLike[str] | None = None) -> Any:  # fmt: skip
    """Cache any function's results in the store's cache (``<root>/.runlab/cache``).

    Use it bare (``@runlab.cached``) or with a name and options (``@runlab.cached("prep",
    scope=("data", "v1"), backend="joblib")``). The store is resolved when the function is
    decorated, as :func:`runlab.runs` resolves it.

    Example:
        >>> import runlab, tempfile
        >>> @runlab.cached(root=tempfile.mkdtemp())
        ... def slow_square(x):
        ...     return x * x
        >>> slow_square(3), slow_square(3)
        (9, 9)
    """
    if callable(fn_or_name):
        return default_cache(root).cached()(fn_or_name)
    if fn_or_name is not None and not isinstance(fn_or_name, str):
        raise CacheError(f"Invalid cache name {fn_or_name!r}: expected a string, or use @runlab.cached bare.")
    return default_cache(root).cached(fn_or_name, scope=scope, backend=backend, ignore=ignore)
