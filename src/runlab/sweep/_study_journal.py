"""A study's journal file (``<root>/.runlab/studies/NAME.log``), opened with Optuna's JournalStorage.

Optuna's :class:`~optuna.storages.journal.JournalFileBackend` appends one JSON object per line and
replays the lines when a storage opens. A process killed while appending leaves a torn last line
(bytes without a newline): the backend skips it when reading, but the next append would continue
that line, and from then on every replay fails on it. A writer therefore cuts a torn last line off
first, under the backend's own lock. Anything else that cannot be read (a line that is not a JSON
object, bytes after the last line that cannot start one, an entry Optuna cannot replay) is a
:class:`DamagedStudyError` naming the file, the line and the way out; nothing is changed then.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import DamagedFileError, UsageError

__all__ = ["DamagedStudyError", "damaged_journal", "journal_storage"]

_BLOCK = 1 << 16


class DamagedStudyError(DamagedFileError, UsageError):
    """A file of a study (its study file ``NAME.json`` or its journal ``NAME.log``) cannot be read.

    A :class:`~runlab.DamagedFileError` (``path`` names the file) and a usage error: the CLI
    prints the message, which says what is wrong and what to do, and exits 2.

    Attributes:
        reason: what is wrong, in a few words (``study list`` shows it in the study's row).
    """

    def __init__(self, message: str, path: str = "", reason: str = "") -> None:
        super().__init__(message, path)
        self.reason = reason or message


def journal_storage(path: Path, name: str, *, write: bool) -> Any:
    """The ``JournalStorage`` of study ``name``'s journal file ``path``.

    Args:
        write: the caller appends to the journal: once the journal has been read, a torn last
            line is cut off (under Optuna's lock, so a writer that is appending right now finishes
            first). Readers leave the file as it is (Optuna skips the torn line).

    Raises:
        DamagedStudyError: the journal cannot be read; the file is left as it was.
    """
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock

    exists = path.is_file()
    if exists:
        _check_end(path, name)
    try:
        storage = JournalStorage(JournalFileBackend(str(path)))  # Optuna skips a torn last line
    except OSError:
        raise
    except Exception as exc:  # Optuna's replay: a line that is not JSON, an entry it cannot apply
        raise damaged_journal(path, name, f"cannot be replayed by Optuna ({type(exc).__name__}: {exc})") from None
    if write and exists:  # everything read: only now cut the torn line, so a damaged journal stays as it was
        lock = JournalFileSymlinkLock(str(path))  # the lock JournalFileBackend appends under
        lock.acquire()
        try:
            torn_at = _check_end(path, name)
            if torn_at is not None:
                os.truncate(path, torn_at)
        finally:
            lock.release()
    return storage


def _damaged(path: Path, name: str, what: str, line: int | None = None) -> DamagedStudyError:
    ways = ["restore it from a backup"]
    if line is not None and line > 1:
        ways.append(f"keep its first {line - 1} line(s), the trials up to the damage (head -n {line - 1} {path} > "
                    f"kept.log, then move kept.log to {path})")  # fmt: skip
    ways.append(f"move it and {path.with_suffix('.json')} away to start the study again")
    return DamagedStudyError(
        f"The journal of study {name!r} is damaged: {path} {what}. To go on, {', '.join(ways[:-1])} or {ways[-1]}.",
        str(path),
        f"journal {what}",
    )


def _check_end(path: Path, name: str) -> int | None:
    """Where a torn last line starts (None: the file ends with a newline).

    Only the end is read here: the last line must be a JSON object and the bytes after it (a torn
    line) must start one; Optuna's replay finds damage further up.

    Raises:
        DamagedStudyError: the end of the file is not a journal's.
    """
    with open(path, "rb") as handle:
        pos = handle.seek(0, os.SEEK_END)
        blocks: list[bytes] = []
        newlines = 0
        while pos > 0 and newlines < 2:  # back to the start of the last complete line
            step = min(_BLOCK, pos)
            pos -= step
            handle.seek(pos)
            blocks.append(handle.read(step))
            newlines += blocks[-1].count(b"\n")
    buf = b"".join(reversed(blocks))
    end = buf.rfind(b"\n")
    tail = buf[end + 1 :]
    last = buf[buf.rfind(b"\n", 0, end) + 1 : end + 1] if end >= 0 else None
    if _not_an_entry(tail, torn=True) is not None or (last is not None and _not_an_entry(last) is not None):
        raise damaged_journal(path, name, "does not end with Optuna journal entries")
    return pos + end + 1 if tail else None


def damaged_journal(path: Path, name: str, what: str | None = None) -> DamagedStudyError:
    """The error for study ``name``'s journal ``path``: its first line that is not an entry, else ``what``
    (by default: it holds no study ``name``, although the study file records one)."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            why = _not_an_entry(line, torn=not line.endswith(b"\n"))
            if why is not None:
                return _damaged(path, name, f"line {number} is not an Optuna journal entry ({why})", number)
    if what is None:
        empty = "is empty and " if path.stat().st_size == 0 else ""
        what = f"{empty}holds no study {name!r}, although {path.with_suffix('.json')} records it"
    return _damaged(path, name, what)


def _not_an_entry(line: bytes, torn: bool = False) -> str | None:
    """Why ``line`` is not a journal entry (None: it is a JSON object, or ``torn`` and may start one)."""
    if torn:
        return None if not line or line.startswith(b"{") else "bytes after the last newline that cannot start one"
    try:
        value = json.loads(line)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return f"not JSON: {exc}"
    return None if isinstance(value, dict) else f"a JSON {type(value).__name__}, not an object"
