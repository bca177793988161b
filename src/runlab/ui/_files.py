"""Files of a run that the UI serves: artifacts confined to the run's folder, the log tail.

Every artifact path a request names is checked before the file system is touched: no
absolute paths, no ``..`` or ``.`` segments, no backslashes or NUL bytes, and after
resolving symbolic links the file must still lie inside the run's own ``artifacts/`` folder
(an ``artifacts`` that is itself a link leads out: nothing in it is listed or served).
Anything else is reported exactly like a missing file (404), so a probe learns nothing.
The run's other files the UI opens (``out.log``, ``run.json``, ``data.json``) are checked by
:func:`run_file` first: a link leading out of the run folder, or a FIFO or device in a file's
place, is reported as a file that cannot be read.

Example:
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> (run / "artifacts").mkdir(); _ = (run / "artifacts" / "a.txt").write_text("hi")
    >>> confined_artifact(run, "a.txt").name
    'a.txt'
    >>> confined_artifact(run, "../run.json") is None
    True
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

__all__ = ["artifact_listing", "confined_artifact", "preview_kind", "read_log", "run_file"]

_TEXT_SUFFIXES = {".txt", ".log", ".md", ".csv", ".tsv", ".yaml", ".yml", ".toml", ".py", ".cfg", ".ini", ".rst"}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp"}  # no SVG: it can hold scripts
LOG_CHUNK = 256 * 1024


def confined_artifact(run_folder: Path, name: str) -> Path | None:
    """The file ``artifacts/<name>`` of a run, or None when ``name`` is not a safe path to a file there."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or len(name) > 4096:
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    base = run_folder.resolve() / "artifacts"  # not resolved itself: a link in its place leads out
    try:
        target = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, a link loop, a name too long
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def run_file(run_folder: Path, name: str) -> Path:
    """``run_folder/name``, checked before it is opened (a missing file is returned as it is).

    Raises:
        OSError: the file is a link leading out of the run folder (a run folder copied in from
            elsewhere could show any file of this machine), or not a regular file (a FIFO
            would block the reading request for good).

    Example:
        >>> import tempfile, pathlib
        >>> run = pathlib.Path(tempfile.mkdtemp())
        >>> (run / "out.log").symlink_to(run.parent)
        >>> run_file(run, "out.log")
        Traceback (most recent call last):
        ...
        OSError: a link leading out of the run folder
    """
    path = run_folder / name
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:  # missing, or a link to nothing: read as missing
        return path
    except RuntimeError:  # a link loop
        raise OSError("a link loop") from None
    if not target.is_relative_to(run_folder.resolve()):
        raise OSError("a link leading out of the run folder")
    if not target.is_file():
        raise OSError("not a regular file")
    return path


def preview_kind(name: str) -> str:
    """How the run page shows an artifact: ``image``, ``json``, ``text`` or ``file``.

    Example:
        >>> [preview_kind(n) for n in ("a.png", "b.json", "c.txt", "d.bin")]
        ['image', 'json', 'text', 'file']
    """
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _IMAGE_SUFFIXES:
        return "image"
    if suffix in (".json", ".jsonl"):
        return "json"
    if suffix in _TEXT_SUFFIXES:
        return "text"
    guessed = mimetypes.guess_type(name)[0] or ""
    return "text" if guessed.startswith("text/") and "html" not in guessed else "file"


def artifact_listing(run_folder: Path) -> list[dict[str, Any]]:
    """The run's artifacts: ``name`` (relative to ``artifacts/``), ``size`` in bytes and ``kind``."""
    base = run_folder / "artifacts"
    if not base.is_dir() or base.is_symlink():  # a link leads out (and walking it could walk the disk)
        return []
    out = []
    for path in sorted(base.rglob("*")):
        name = path.relative_to(base).as_posix()
        target = confined_artifact(run_folder, name)
        if target is not None:
            out.append({"name": name, "size": target.stat().st_size, "kind": preview_kind(name)})
    return out


def read_log(run_folder: Path, offset: int, limit: int = LOG_CHUNK) -> dict[str, Any]:
    """A piece of the run's ``out.log`` from byte ``offset`` (a negative offset: the last ``limit`` bytes).

    Returns:
        ``text`` (decoded, invalid bytes replaced), ``offset`` (where the next read starts),
        ``size`` (the file's size now) and ``skipped`` (bytes left out before ``text``).
    """
    try:
        with run_file(run_folder, "out.log").open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            start = max(0, size - limit) if offset < 0 else min(offset, size)
            handle.seek(start)
            data = handle.read(min(limit, size - start))
    except FileNotFoundError:
        return {"text": "", "offset": 0, "size": 0, "skipped": 0}
    except OSError as exc:  # a folder or an unreadable file in its place: say so, serve the rest of the run
        return {"text": "", "offset": 0, "size": 0, "skipped": 0, "error": f"out.log cannot be read: {exc}"}
    if start + len(data) < size:  # stop at a line end so a multi-byte character is never split
        cut = data.rfind(b"\n")
        if cut >= 0:
            data = data[: cut + 1]
    skipped = start if offset < 0 else 0
    return {"text": data.decode("utf-8", "replace"), "offset": start + len(data), "size": size, "skipped": skipped}
