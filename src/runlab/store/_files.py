"""Small file helpers: JSON encoding, atomic writes and reads, removing a folder at once.

orjson does the heavy JSON work (metric batches, user data, every read). Its import costs
about 15 ms, though, so the small documents written while a run starts and finishes
(``run.json``, index columns) go through :func:`dumps_light`, which uses the standard
library's encoder until orjson is loaded anyway or the process has written a few dozen such
documents (a second run, a long run's heartbeats), and falls back to orjson for what the standard
library cannot encode the same way.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "dumps", "dumps_light", "loads", "read_json", "remove_folder", "write_json_atomic"]


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


def dumps(obj: Any, indent: bool = True, sort_keys: bool = False) -> bytes:
    """Serialise ``obj`` to JSON bytes with orjson (paths, sets, numpy values and pydantic models allowed).

    Non-finite floats become ``null``; non-string keys become strings.
    """
    import orjson

    option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    if indent:
        option |= orjson.OPT_INDENT_2
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    return orjson.dumps(obj, default=_default, option=option)


_LIGHT_CALLS = 24  # about two runs' worth of records; then orjson's import pays for itself
_light_calls = 0


def dumps_light(obj: Any, indent: bool = True, sort_keys: bool = False) -> bytes:
    """:func:`dumps` for small documents, without importing orjson when plain JSON will do.

    Example:
        >>> dumps_light({"b": 1, "a": [1.5, "x"]}, indent=False, sort_keys=True)
        b'{"a":[1.5,"x"],"b":1}'
    """
    global _light_calls
    _light_calls += 1
    if _light_calls > _LIGHT_CALLS or "orjson" in sys.modules:  # a busy process: orjson pays off
        return dumps(obj, indent=indent, sort_keys=sort_keys)
    try:
        text = json.dumps(
            obj,
            indent=2 if indent else None,
            separators=(",", ": ") if indent else (",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            sort_keys=sort_keys,
            default=_default,
        )
    except (TypeError, ValueError):  # NaN, numpy arrays, mixed keys: orjson's rules apply
        return dumps(obj, indent=indent, sort_keys=sort_keys)
    return text.encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON with orjson."""
    import orjson

    return orjson.loads(data)


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
    atomic_write_bytes(path, dumps_light(obj) + b"\n", fsync=fsync)


def remove_folder(path: Path) -> None:
    """Remove a folder and everything in it so that readers see it whole or gone, never half-removed.

    The folder is first renamed to a hidden sibling (which store scans skip), then deleted; a
    half-removed run folder (``run.json`` gone, ``metrics.jsonl`` left) would read as a damaged run.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp()) / "run"
        >>> (folder / "sub").mkdir(parents=True)
        >>> remove_folder(folder); folder.exists(), list(folder.parent.iterdir())
        (False, [])
    """
    import shutil

    hidden = path.with_name(f".removing-{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        os.rename(path, hidden)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        hidden = path  # cannot be renamed (a mount point, a read-only parent): removed in place
    shutil.rmtree(hidden)


def read_json(path: Path) -> Any:
    """Read a JSON file with orjson."""
    return loads(path.read_bytes())
