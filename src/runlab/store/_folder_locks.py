"""Fixed run folders (``debug``) held by the live run using them; the lock of user changes to runs.

Contract:
    * A run that takes a fixed folder holds it with an ``flock`` on
      ``<root>/.runlab/locks/<namespace>%<folder>.lock`` until its final record is saved
      (:meth:`FolderLocks.release`) or its process ends (the system drops the lock).
    * A folder whose lock another run holds, or whose ``run.json`` belongs to a run that is
      still running (another host, or a runlab without these locks), is never reused.
    * Safe for the threads of one process (a lock per open file: two runs of one process
      never hold one folder either).
    * A lock file is removed only by a process holding its ``flock`` (when it lets the folder
      go, or when the run's folder is deleted and nobody holds it); a process that took the
      ``flock`` of a file removed meanwhile opens the path again, so two never hold one folder.
      What stays in ``locks/`` is the locks of folders held now and of processes killed holding one;
      :func:`stale_locks` removes the latter (``runlab gc``).
    * A held lock file holds its holder's pid (:meth:`FolderLocks.holder`), for messages that
      name who holds a folder. ``runlab reproduce`` holds ``<root>/.runlab/envs/<id>`` the same
      way while it builds a run's environment there.
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

__all__ = ["FolderLocks", "hold_changes", "live_run_in", "stale_locks"]


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


def _lock_file(root: Path, rel: str) -> Path:
    """The lock file of the run folder ``rel`` (relative to ``root``): ``.runlab/locks/<ns>%<folder>.lock``."""
    return root / ".runlab" / "locks" / (rel.replace("/", "%") + ".lock")


def _locked_folder(lock: Path) -> str:
    """The run folder (relative to the root) whose lock file is ``lock``: :func:`_lock_file` read back."""
    return lock.name.removesuffix(".lock").replace("%", "/")


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed, nor replaced by a new one)."""
    try:
        here, held = os.stat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _take(lock: Path, create: bool) -> int | None:
    """An open ``lock`` file this process now holds the ``flock`` of, or None when another holds it
    (or, ``create`` false, it does not exist). A lock file is only ever removed by its holder, so one
    found removed or replaced after taking it was let go meanwhile: it is opened again."""
    import fcntl

    while True:
        try:
            fd = os.open(lock, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        except FileNotFoundError:
            if create:
                raise
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        if _same_file(fd, lock):
            return fd
        os.close(fd)  # removed by the holder that let it go: take the new one


def _let_go(fd: int, lock: Path) -> None:
    """Remove ``lock`` (held as ``fd``) and let it go: nobody else can hold it now, and a process that
    opened it meanwhile finds it removed once it gets the ``flock`` (:func:`_take`)."""
    try:
        if _same_file(fd, lock):
            os.unlink(lock)
    except OSError:
        pass
    finally:
        os.close(fd)


class FolderLocks:
    """The fixed run folders of one store that runs of this process hold.

    A lock file lives while its folder is held: :meth:`release` removes it, and so does
    :meth:`drop` (a run's folder deleted) when no process holds it, so ``.runlab/locks/`` keeps
    only the locks of folders in use and of runs whose process died while holding one.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._held: dict[str, int] = {}  # folder relative to the root: the open lock file
        self._lock = threading.Lock()

    def _path(self, rel: str) -> Path:
        return _lock_file(self.root, rel)

    def hold(self, folder: Path) -> bool:
        """Take ``folder`` for a run about to use it; False when a live run holds it."""
        rel = folder.relative_to(self.root).as_posix()
        lock = self._path(rel)
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = _take(lock, create=True)
        if fd is None:
            return False
        if live_run_in(folder):
            _let_go(fd, lock)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with self._lock:
            old = self._held.pop(rel, None)
            self._held[rel] = fd
        if old is not None:
            os.close(old)
        return True

    def holder(self, folder: Path) -> int | None:
        """The pid of the process that holds (or, killed, held) ``folder``; None when its lock file is gone or
        holds no pid (a runlab without pids in lock files, or a holder that has not written it yet)."""
        try:
            return int(self._path(folder.relative_to(self.root).as_posix()).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    def release(self, folder: Path) -> None:
        """Let ``folder`` go (its run's final record is written) and remove its lock file; nothing when
        not held."""
        if not self._held:
            return
        rel = folder.relative_to(self.root).as_posix()
        with self._lock:
            fd = self._held.pop(rel, None)
        if fd is not None:
            _let_go(fd, self._path(rel))

    def drop(self, folder: Path) -> None:
        """Remove the lock file of ``folder`` (a run folder just deleted) unless a process holds it."""
        try:
            lock = self._path(folder.relative_to(self.root).as_posix())
            fd = _take(lock, create=False)
        except (OSError, ValueError):  # not this store's folder, or an unreadable lock: it stays
            return
        if fd is not None:
            _let_go(fd, lock)


def stale_locks(root: Path, remove: bool = False) -> list[Path]:
    """The lock files of ``root`` that no process holds and whose folder is gone or holds no live run (left
    by processes killed while holding one); removed, as their holder would (:func:`_let_go`), when ``remove``.

    A lock another process holds is never touched, nor ``changes.lock`` (:func:`hold_changes`). Each file is
    held for a moment to know that nobody else does, as :meth:`FolderLocks.drop` does.
    """
    try:
        files = sorted(f for f in (root / ".runlab" / "locks").iterdir() if f.suffix == ".lock")
    except OSError:  # no locks folder
        return []
    found: list[Path] = []
    for lock in files:
        if lock.name == "changes.lock" or live_run_in(root / _locked_folder(lock)):
            continue
        try:
            fd = _take(lock, create=False)
        except OSError:  # unreadable: it stays
            continue
        if fd is None:  # held by a live process (or removed meanwhile)
            continue
        found.append(lock)
        if remove:
            _let_go(fd, lock)
        else:
            os.close(fd)
    return found
