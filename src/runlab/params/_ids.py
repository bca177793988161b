"""Stable config ids: a short hash of a config's canonical JSON."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

__all__ = ["canonical", "canonical_json", "config_id"]

_MAX_EXACT = 2**53


def canonical(value: Any) -> Any:
    """The JSON-ready normal form used for config ids.

    - mappings: string keys (sorted when written); :class:`Config` → its globals, args and kwargs
      (metadata is left out); pydantic models → their JSON-mode dump;
    - numbers: a float with an integral value (``1.0``, ``1e3``) becomes the int (``1``, ``1000``)
      when it is below 2**53 in size, so ``1`` and ``1.0`` are the same; ``-0.0`` is ``0``;
      NaN and infinities become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
      booleans stay booleans (``True`` is not ``1``);
    - tuples and lists → lists; sets → sorted lists; paths → text; enums → their value;
    - anything else → ``repr`` text.

    Example:
        >>> canonical({"b": 1.0, "a": (1, 2.5)})
        {'b': 1, 'a': [1, 2.5]}
    """
    from ._config import Config

    if isinstance(value, Config):
        return {"globals": canonical(value.globals_dict), "args": canonical(value.args),
                "kwargs": canonical(value.kwargs)}  # fmt: skip
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < _MAX_EXACT:
            return int(value)
        return value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if hasattr(value, "model_dump"):
        return canonical(value.model_dump(mode="json"))
    return repr(value)


def canonical_json(value: Any) -> str:
    """Canonical JSON text: normalised values (:func:`canonical`), sorted keys, no spaces.

    Example:
        >>> canonical_json({"b": 2.0, "a": 1})
        '{"a":1,"b":2}'
    """
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def config_id(config: Any, length: int = 12) -> str:
    """A short stable id of a config: the first ``length`` hex digits of the SHA-256 of its canonical JSON.

    Equal configs have equal ids whatever their key order or number spelling (``1`` vs ``1.0``);
    a :class:`Config`'s metadata does not count. Accepts a :class:`Config`, a dict, a pydantic model
    or any JSON-like value.

    Example:
        >>> config_id({"lr": 1, "bs": 32}) == config_id({"bs": 32.0, "lr": 1.0})
        True
    """
    import hashlib  # here: loading OpenSSL costs a plain run start-up ~5 ms

    # surrogatepass: text with lone surrogates (a file name decoded with surrogateescape) still gets its id
    digest = hashlib.sha256(canonical_json(config).encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:length]
