"""How a run request's values travel: JSON when JSON holds them exactly, else pickle.

A value travels as JSON when JSON holds it exactly (``None``, ``bool``, ``int``, finite
``float``, ``str`` and lists / string-keyed dicts of those); any other value (a tuple, a
``Path``, a set, a NaN, a numpy array, an object) travels as ``{"__pickle__": "<base64>"}``,
so it arrives as the same type. Pickle stores classes and functions by reference: they must
be importable where the value is read.

Example:
    >>> encode_value([1, "a"]), decode_value(encode_value((1, 2)))
    ([1, 'a'], (1, 2))
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import ValidationError

__all__ = ["decode_map", "decode_value", "encode_map", "encode_value", "json_holds"]

_PICKLE = "__pickle__"


def json_holds(value: Any) -> bool:
    """Whether JSON holds ``value`` exactly (see the module's rule)."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if type(value) is list:
        return all(json_holds(v) for v in value)
    if type(value) is dict:
        return _PICKLE not in value and all(isinstance(k, str) and json_holds(v) for k, v in value.items())
    return False


def encode_value(value: Any, name: str = "value") -> Any:
    """``value`` as JSON holds it, or ``{"__pickle__": base64}`` (see the module's rule).

    Raises:
        ValidationError: the value can be neither JSON nor pickled (``name`` says which).
    """
    if json_holds(value):
        return value
    import base64
    import pickle

    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise ValidationError(
            f"Cannot send {name} = {value!r:.80} to another process: JSON cannot hold it and pickle failed "
            f"({type(exc).__name__}: {exc}). Use plain values, or objects of classes defined in an importable module."
        ) from None
    return {_PICKLE: base64.b64encode(data).decode("ascii")}


def decode_value(value: Any, name: str = "value") -> Any:
    """The inverse of :func:`encode_value`.

    Raises:
        ValidationError: a pickled value cannot be loaded here (a class or module missing).
    """
    if isinstance(value, dict) and set(value) == {_PICKLE} and isinstance(value[_PICKLE], str):
        import base64
        import pickle

        try:
            return pickle.loads(base64.b64decode(value[_PICKLE]))
        except Exception as exc:
            raise ValidationError(
                f"Cannot load {name} of the run request: {type(exc).__name__}: {exc}. Its class or function must be "
                "importable in this process (define it in a module on the path, not in __main__)."
            ) from None
    return value


def encode_map(values: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Each value of ``values`` encoded; ``what`` names them in errors."""
    return {str(k): encode_value(v, f"{what}[{k!r}]") for k, v in values.items()}


def decode_map(values: Any, what: str) -> dict[str, Any]:
    """The inverse of :func:`encode_map`."""
    if not isinstance(values, dict):
        raise ValidationError(f"Invalid run request: {what} must be an object, got {values!r:.60}.")
    return {k: decode_value(v, f"{what}[{k!r}]") for k, v in values.items()}
