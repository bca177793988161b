"""What a run may store: JSON values checked (and converted) when they are given.

One rule for every value a run writes into its JSON files (``run.data`` / ``e[...]``,
parameter values):

* ``None``, ``bool``, ``str`` (valid Unicode), finite ``float`` and ``int`` within 64 bits
  are kept as they are (SQLite and the JSON readers hold integers in 64 bits; a larger
  integer is refused so that no file holds a number the index cannot take);
* NaN and the infinities become the texts ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, as
  in ``metrics.jsonl`` (JSON has no such numbers: written as numbers they would read back as
  ``null``); :func:`param_value` turns a float parameter's text back into the float;
* mappings become dicts (keys: strings; ints, floats, bools and None become their JSON
  text), lists, tuples and sets become lists;
* arrays and tensors (anything with ``tolist()``, such as NumPy arrays and scalars,
  PyTorch and JAX tensors, or with ``__array__``) become nested lists; paths become
  strings; dates and times their ISO text; enums their value; UUIDs their text;
  pydantic models and dataclasses their fields;
* anything else (functions, objects, bytes) is refused with :class:`~runlab.DataError`
  naming the key, the place inside the value and the type.

The check walks the value once, so the conversion happens where the value enters and the
stored value no longer changes when the caller mutates theirs. NumPy and friends are
duck-typed: nothing is imported to recognise them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ..errors import DataError
from ..store._metrics_file import NON_FINITE, number_text
from ..store._text import safe_repr, valid_unicode

__all__ = [
    "INT64_MAX", "INT64_MIN", "MAX_DEPTH", "NON_FINITE", "fits_int64", "param_value", "safe_repr", "to_json_value",
]  # fmt: skip

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_DEPTH = 200
_PLAIN = (str, int, float, bool, type(None))
_HINT = (
    "Store JSON values (numbers, strings, booleans, None, lists, dicts; arrays and tensors become lists): "
    "convert it first (str(value), float(value)) or save it as an artifact (run.save_bytes / run.log_artifact)."
)


def fits_int64(value: int) -> bool:
    """Whether ``value`` fits in a signed 64-bit integer.

    Example:
        >>> fits_int64(2**63 - 1), fits_int64(2**63)
        (True, False)
    """
    return INT64_MIN <= value <= INT64_MAX


def _where(key: str, inner: str) -> str:
    if len(inner) > 80:  # a structure that contains itself: [0][0][0]... 200 levels deep
        inner = f"{inner[:40]}...{inner[-20:]} ({inner.count('[') + inner.count('.') + 1} levels)"
    return f"{key!r}" if not inner else f"{key!r} at {inner}"


def _refuse(key: str, inner: str, value: Any, why: str) -> DataError:
    kind = type(value).__name__
    return DataError(f"Cannot store {_where(key, inner)}: {why} ({kind}). {_HINT}", key=key, type_name=kind)


def _json_key(key: Any, where: str, value: Any) -> str:
    if isinstance(key, str):
        return _check_str(key, where, "")
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return json.dumps(key) if key == key and abs(key) != float("inf") else repr(key)
    raise _refuse(where, "", key, f"a mapping key must be a string or a number, not {safe_repr(key)}")


def _check_str(text: str, key: str, inner: str) -> str:
    if not valid_unicode(text):
        raise _refuse(key, inner, text, "the string holds lone surrogates, which are not valid Unicode")
    return text


def to_json_value(value: Any, key: str = "value", inner: str = "", depth: int = 0) -> Any:
    """``value`` as plain JSON (dict, list, str, int, float, bool, None), converted as described above.

    Args:
        value: what the caller gave.
        key: its name, for the error message (a data key or a parameter name).
        inner: the place inside the value being checked (``"[2].a"``), for messages.
        depth: nesting level so far.

    Raises:
        DataError: the value (or something inside it) is not storable; the message names
            ``key``, the place and the type.

    Example:
        >>> to_json_value({"a": (1, 2.5), 3: {"b"}})
        {'a': [1, 2.5], '3': ['b']}
        >>> to_json_value(lambda: 1, "fn")
        Traceback (most recent call last):
        ...
        runlab.errors.DataError: Cannot store 'fn': this type is not a JSON value (function). ...
    """
    cls = value.__class__
    if cls is float:
        return value if value - value == 0.0 else number_text(value)
    if cls is bool or value is None:
        return value
    if cls is str:
        return _check_str(value, key, inner)
    if cls is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise _refuse(key, inner, value, f"{_short(value)} does not fit in 64 bits; store str(value) or float(value)")
    if depth >= MAX_DEPTH:
        raise _refuse(key, inner, value, f"it is nested more than {MAX_DEPTH} levels deep (does it contain itself?)")
    depth += 1
    if isinstance(value, Mapping):
        return {
            (k := _json_key(raw, key, value)): to_json_value(item, key, f"{inner}.{k}" if inner else k, depth)
            for raw, item in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        fast = _flat_numbers(value)
        if fast is not None:
            return fast
        return [to_json_value(item, key, f"{inner}[{i}]", depth) for i, item in enumerate(value)]
    if isinstance(value, _PLAIN):  # subclasses of str/int/float (IntEnum, numpy.float64 ...)
        return to_json_value(_plain(value), key, inner, depth)
    return to_json_value(_convert(value, key, inner), key, inner, depth)


def _flat_numbers(items: Any) -> list[Any] | None:
    """A flat list of floats, or of 64-bit ints, copied at C speed (what ``array.tolist()`` gives); else None."""
    if not items:
        return []
    first = next(iter(items)).__class__
    if first is float and all(x.__class__ is float for x in items):
        total = sum(items)  # NaN or infinite when an item is (or, rarely, when the sum overflows)
        return list(items) if total - total == 0.0 else None
    if first is int and all(x.__class__ is int for x in items) and min(items) >= INT64_MIN and max(items) <= INT64_MAX:
        return list(items)
    return None


def param_value(record: Mapping[str, Any]) -> Any:
    """A parameter's value from its ``run.json`` record, with a float's NaN or infinity given back.

    Example:
        >>> param_value({"value": "Infinity", "type": "float"}), param_value({"value": "NaN", "type": "str"})
        (inf, 'NaN')
    """
    value = record.get("value")
    if record.get("type") == "float" and isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    return value


def _plain(value: Any) -> Any:
    import enum

    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str.__str__(value)


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:10]}...{text[-6:]} ({len(text)} digits)"


def _convert(value: Any, key: str, inner: str) -> Any:
    """One conversion step for a value that is not plain JSON (the result is checked again)."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays and scalars, torch and JAX tensors
        return tolist()
    array = getattr(value, "__array__", None)
    if callable(array):
        return array().tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    import dataclasses
    import datetime
    import enum
    import uuid

    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # pydantic models
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    item = getattr(value, "item", None)
    if callable(item):  # other scalars with .item()
        return item()
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise _refuse(key, inner, value, "bytes are not JSON; decode them to text or save them as an artifact")
    raise _refuse(key, inner, value, "this type is not a JSON value")
