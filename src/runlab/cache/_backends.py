"""How cached values are written to and read from files: pickle, joblib and JSON.

A backend is a small object with a file suffix and two functions. Writing goes to a
temporary file that the cache moves into place, so a reader never sees a torn entry. A
backend refuses (raises on) a value it would not give back equal: the JSON backend refuses
NaN and infinities (JSON has only null for them), tuples and sets (they come back as lists),
and any other object that is not a JSON value or a NumPy array (a date, an enum, a dataclass).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import CacheError

__all__ = ["BACKENDS", "Backend", "get_backend"]


@value_class(frozen=True)
class Backend:
    """One serialisation format.

    Attributes:
        name: what users pass as ``backend=``.
        suffix: the entry file's suffix, e.g. ``".pkl"``.
        dump: writes a value to a path (raises on values the format cannot hold).
        load: reads a value back from a path.
    """

    name: str
    suffix: str
    dump: Callable[[Any, Path], None]
    load: Callable[[Path], Any]


def _pickle_dump(value: Any, path: Path) -> None:
    with open(path, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _pickle_load(path: Path) -> Any:
    with open(path, "rb") as handle:
        return pickle.load(handle)


def _joblib() -> Any:
    try:
        import joblib
    except ImportError:
        raise CacheError(
            "The 'joblib' cache backend needs the joblib package. Install it with "
            "'pip install runlab[cache]', or use backend='pickle'."
        ) from None
    return joblib


def _joblib_dump(value: Any, path: Path) -> None:
    _joblib().dump(value, path)


def _joblib_load(path: Path) -> Any:
    return _joblib().load(path)


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_check(value: Any, where: str = "the result") -> None:
    """Refuse what JSON would not give back as it was.

    JSON holds strings, numbers, booleans, ``None``, lists and dicts with string keys (NumPy
    arrays and scalars are written as their lists and numbers). Anything else would be written
    as something else and load back changed: NaN and infinities as ``None``, tuples and sets as
    lists, and dates, UUIDs, enums and dataclasses (which orjson writes as strings, values and
    dicts) as what they were written as.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where} is {value!r}, which JSON would store as null")
    if isinstance(value, (tuple, set, frozenset)):
        raise ValueError(f"{where} is a {type(value).__name__}, which JSON would load back as a list")
    if isinstance(value, dict):
        for key, item in value.items():
            _json_check(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _json_check(item, f"{where}[{i}]")
    elif hasattr(value, "dtype"):  # NumPy arrays and scalars
        if getattr(value.dtype, "kind", "") in ("f", "c"):
            import numpy

            if not numpy.isfinite(value).all():
                raise ValueError(f"{where} holds NaN or infinite values, which JSON would store as null")
    elif type(value) not in _JSON_SCALARS:  # exact types: an IntEnum or a str subclass loads back as int or str
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise ValueError(f"{where} is a {kind}, which JSON would not give back as it was (it holds strings, "
                         "numbers, booleans, None, lists and dicts)")  # fmt: skip


def _json_dump(value: Any, path: Path) -> None:
    import orjson

    _json_check(value)
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))


def _json_load(path: Path) -> Any:
    import orjson

    return orjson.loads(path.read_bytes())


BACKENDS: dict[str, Backend] = {
    "pickle": Backend("pickle", ".pkl", _pickle_dump, _pickle_load),
    "joblib": Backend("joblib", ".joblib", _joblib_dump, _joblib_load),
    "json": Backend("json", ".json", _json_dump, _json_load),
}


def get_backend(name: str) -> Backend:
    """The backend called ``name``.

    Raises:
        CacheError: ``name`` is not one of the backends.

    Example:
        >>> get_backend("json").suffix
        '.json'
    """
    backend = BACKENDS.get(name) if isinstance(name, str) else None
    if backend is None:
        raise CacheError(f"Invalid cache backend {name!r}: expected one of {', '.join(BACKENDS)}.")
    if name == "joblib":
        _joblib()  # refuse at decoration time, not after the expensive call
    return backend
