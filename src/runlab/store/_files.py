"""Small file helpers: JSON encoding, atomic writes and reads, removing a folder at once.

orjson does the heavy JSON work (metric batches, user data, every read). Its import costs
about 15 ms, though, so the small documents written while a run starts and finishes
(``run.json``, index columns) go through :func:`dumps_light`, which uses the standard
library's encoder until orjson is loaded anyway or the process has written a few dozen such
documents (a second run, a long run's heartbeats), and falls back to orjson for what the standard
library cannot encode the same way.

Files that every run of a process captures alike (the code snapshot, ``env/requirements.txt``)
are hard links of the previous run's copy where the file system allows it: see
:func:`write_or_link`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write_bytes",
    "dumps",
    "dumps_light",
    "loads",
    "read_json",
    "read_json_checked",
    "remove_folder",
    "write_json_atomic",
    "write_or_link",
]


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


_MADE: dict[Hashable, tuple[str, tuple[int, int, int]]] = {}  # key -> the last file made, as it was then


def write_or_link(path: Path, key: Hashable, write: Callable[[Path], object]) -> None:
    """Make ``path`` with ``write(path)``, or as a hard link to the file made last for the same ``key``.

    ``key`` stands for the content (the text itself, or a source file's path and ``stat``), so the
    runs of a sweep share one copy of what they all capture alike: a link costs a directory
    entry where a new file costs an inode and a data block. The earlier file is linked only
    while it is unchanged (same inode, size and modification time); otherwise, or where the
    file system refuses hard links, ``write`` makes a file of its own. An existing ``path`` is
    removed first, so no write ever changes a file another run shares, and the file is made
    read-only: an editor saving one run's copy in place would change every run's.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("a.txt", "b.txt"):
        ...     write_or_link(folder / name, ("doc", "same text"), lambda p: p.write_text("same text"))
        >>> (folder / "a.txt").stat().st_nlink
        2
    """
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    made = _MADE.get(key)
    if made is not None:
        earlier, identity = made
        try:
            st = os.stat(earlier)
            if (st.st_ino, st.st_size, st.st_mtime_ns) == identity:
                os.link(earlier, path)
                return
        except OSError:  # gone, changed underneath, another file system, no hard links there
            pass
    write(path)
    try:
        st = os.stat(path)
        if st.st_mode & 0o222:
            os.chmod(path, st.st_mode & 0o7777 & ~0o222)
            st = os.stat(path)
    except OSError:
        _MADE.pop(key, None)
    else:
        if len(_MADE) >= 64:  # a long session's edited sources and changed environments
            _MADE.clear()
        _MADE[key] = (os.fspath(path), (st.st_ino, st.st_size, st.st_mtime_ns))


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


def read_json_checked(path: Path, problem: Callable[[Any], str | None]) -> tuple[Any, str | None]:
    """A record file's content and what is wrong with it (None: nothing), for readers that report a
    damaged file in one line: ``"is empty"``, ``"is not JSON (...)"``, or what ``problem(data)`` says.

    Raises:
        OSError: the file cannot be read at all.
    """
    try:
        data = read_json(path)
    except ValueError as exc:
        return None, "is empty" if not path.stat().st_size else f"is not JSON ({exc})"
    return data, problem(data)
