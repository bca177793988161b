"""Small file helpers: atomic JSON writes and tolerant reads."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import orjson

__all__ = ["atomic_write_bytes", "dumps", "read_json", "write_json_atomic"]

_OPTS = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "model_dump"):  # pydantic models
        return obj.model_dump(mode="json")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(obj: Any, indent: bool = True) -> bytes:
    """Serialise ``obj`` to JSON bytes (paths, sets, numpy scalars and pydantic models allowed)."""
    return orjson.dumps(
        obj, default=_default, option=_OPTS if indent else orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see either the old or the new file, never a torn one.

    A temporary file in the same folder is written, fsynced and moved over ``path``.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json_atomic(path: Path, obj: Any, fsync: bool = True) -> None:
    """Serialise ``obj`` and write it to ``path`` atomically."""
    atomic_write_bytes(path, dumps(obj) + b"\n", fsync=fsync)


def read_json(path: Path) -> Any:
    """Read a JSON file with orjson."""
    return orjson.loads(path.read_bytes())
