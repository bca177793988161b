"""Fixed run folders (``debug``) held by the live run using them; the lock of user changes to runs.

Contract:
    * A run that takes a fixed folder holds it with an ``flock`` on
      ``<root>/.runlab/locks/<namespace>%<folder>.lock`` until its final record is saved
      (:meth:`FolderLocks.release`) or its process ends (the system drops the lock).
    * A folder whose lock another run holds, or whose ``run.json`` belongs to a run that is
      still running (another host, or a runlab without these locks), is never reused.
    * Safe for the threads of one process (a lock per open file: two runs of one process
      never hold one folder either).
    * :func:`hold_changes`: user commands that change finished runs' records take turns.

Example:
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> locks, other = FolderLocks(root), FolderLocks(root)
    >>> locks.hold(root / "default" / "debug"), other.hold(root / "default" / "debug")
    (True, False)
    >>> locks.release(root / "default" / "debug")
    >>> other.hold(root / "default" / "debug")
    True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["FolderLocks", "hold_changes", "live_run_in"]


def live_run_in(folder: Path) -> bool:
    """True when ``folder`` holds the record of a run whose process is still running."""
    from ._index import effective_status
    from ._runfile import meta_fields, read_run_file

    try:
        fields, problems = meta_fields(read_run_file(folder).meta)
    except OSError:
        return False
    if problems or fields["status"] != "running":
        return False
    return effective_status("running", fields["pid"], fields["host"], fields["heartbeat"]) == "running"


@contextmanager
def hold_changes(root: Path) -> Iterator[None]:
    """Hold the lock that user commands changing runs' records (tag, note, archive, delete) take, so
    that two of them never read and rewrite one record at once (a tag added by one would be lost,
    a run archived by one would be gone under the other): ``<root>/.runlab/locks/changes.lock``,
    one ``flock`` for the store and its archive, held for the few milliseconds of one change.
    """
    import fcntl

    lock = root / ".runlab" / "locks" / "changes.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class FolderLocks:
    """The fixed run folders of one store that runs of this process hold."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._held: dict[str, int] = {}  # folder relative to the root: the open lock file
        self._lock = threading.Lock()

    def hold(self, folder: Path) -> bool:
        """Take ``folder`` for a run about to use it; False when a live run holds it."""
        import fcntl

        rel = folder.relative_to(self.root).as_posix()
        lock = self.root / ".runlab" / "locks" / (rel.replace("/", "%") + ".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        if live_run_in(folder):
            os.close(fd)
            return False
        with self._lock:
            old = self._held.pop(rel, None)
            self._held[rel] = fd
        if old is not None:
            os.close(old)
        return True

    def release(self, folder: Path) -> None:
        """Let ``folder`` go (its run's final record is written); nothing when not held."""
        if not self._held:
            return
        with self._lock:
            fd = self._held.pop(folder.relative_to(self.root).as_posix(), None)
        if fd is not None:
            os.close(fd)
