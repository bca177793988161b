"""One background thread per process for every open run: capture, flushes and heartbeats.

Each running :class:`~runlab.Run` gets a :class:`RunWorker`, its share of the thread: first
the capture of git, code and environment, then a flush of metrics and data every
``FLUSH_INTERVAL`` seconds, a heartbeat every ``HEARTBEAT_INTERVAL``, and jobs scheduled with
:meth:`RunWorker.later` (plugins that join a run once it has run a while). The thread starts
with the first run of the process and then idles between runs, so starting a run starts no
thread (a thread start costs a run a scheduler round trip, which on a busy machine is most of
a trivial run's time). A forked child starts with no workers.

The same thread forces finished runs' final files to disk (:func:`sync_later`), so a run's
``fsync`` is not part of its time: a crashed or killed process leaves these files complete
anyway (they are written before), only a power loss within those milliseconds could lose the
last record, as SQLite's WAL index already may. Interpreter exit waits for what is queued
(:func:`wait_synced`).

Example:
    >>> import runlab, tempfile
    >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
    ...     run._worker is not None and run._worker.active
    True
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._run import Run

__all__ = ["RunWorker", "sync_later", "wait_synced"]


class RunWorker:
    """A run's jobs on the process's background thread.

    Args:
        run: the running run.
        capture: capture git, code and environment first.
        flush_every, beat_every: seconds between flushes and between heartbeats.
    """

    def __init__(self, run: Run, capture: bool, flush_every: float, beat_every: float) -> None:
        self.run = run
        self.errors: list[str] = []
        self._lock = threading.RLock()  # held while a job of this run is done (a job may schedule another)
        self._capture_pending = capture
        self._stopped = False
        self._flush_every = flush_every
        self._beat_every = beat_every
        now = time.monotonic()
        self._next_flush = now + flush_every
        self._next_beat = now + beat_every
        self._later: list[tuple[float, Callable[[], None]]] = []

    def start(self) -> RunWorker:
        _SCHEDULER.add(self)
        return self

    @property
    def active(self) -> bool:
        """Whether the background thread still serves this run."""
        return _SCHEDULER.has(self)

    def later(self, delay: float, job: Callable[[], None]) -> None:
        """Call ``job`` on the background thread in ``delay`` seconds, unless the run ended by then.

        Its exceptions are reported like a failed write (never raised into the run).
        """
        with self._lock:
            self._later.append((time.monotonic() + delay, job))
        _SCHEDULER.wake()

    def due(self) -> float:
        """When this run's next job is due (``time.monotonic()`` seconds)."""
        if self._capture_pending:
            return 0.0
        first = min(self._next_flush, self._next_beat)
        return min(first, *(when for when, _ in self._later)) if self._later else first

    def work(self) -> None:
        """Do the jobs that are due (on the background thread)."""
        with self._lock:
            if self._stopped:
                return
            if self._capture_pending:
                self._capture_pending = False
                self.run._run_capture()  # never raises: failures are recorded in the run
                return
            now = time.monotonic()
            jobs = [job for when, job in self._later if when <= now]
            if jobs:
                self._later = [(when, job) for when, job in self._later if when > now]
            for job in jobs:
                try:
                    job()
                except Exception as exc:
                    self.report(exc)
            try:
                if now >= self._next_flush:
                    self._next_flush = now + self._flush_every
                    self.run._flush()
                if now >= self._next_beat:
                    self._next_beat = now + self._beat_every
                    self.run._beat()
            except Exception as exc:  # keep the run going; report once per kind
                self.report(exc)

    def report(self, exc: Exception) -> None:
        """Record a failed write (once per kind of failure) and say so on stderr."""
        message = f"{type(exc).__name__}: {exc}"
        if message not in self.errors:
            self.errors.append(message)
            print(f"runlab: background writer of run {self.run.id}: {message}", file=sys.__stderr__)

    def stop(self) -> None:
        """Stop serving the run: a job in progress ends first; a capture not begun is done here."""
        _SCHEDULER.remove(self)
        with self._lock:
            self._stopped = True
            self._later = []
            if self._capture_pending:
                self._capture_pending = False
                self.run._run_capture()


class _Scheduler:
    """The process's background thread and the workers it serves, earliest due first."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start empty (also in a forked child, whose parent's thread and lock are not its own)."""
        self._cond = threading.Condition()
        self._workers: set[RunWorker] = set()
        self._thread: threading.Thread | None = None
        self._syncs: list[Path] = []  # files to force to disk, first come first
        self._syncing = 0  # batches the thread is forcing to disk now

    def _ensure_thread(self) -> None:  # with self._cond held
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="runlab-background", daemon=True)
            self._thread.start()

    def add(self, worker: RunWorker) -> None:
        with self._cond:
            self._workers.add(worker)
            self._ensure_thread()
            self._cond.notify_all()

    def wake(self) -> None:
        """Look again at what is due (a job was added)."""
        with self._cond:
            self._cond.notify_all()

    def sync_later(self, paths: Iterable[Path]) -> None:
        with self._cond:
            self._syncs.extend(paths)
            self._ensure_thread()
            self._cond.notify_all()

    def wait_synced(self) -> None:
        with self._cond:
            paths, self._syncs = self._syncs, []
        _force_to_disk(paths)  # in this thread: the background one may be busy with a capture
        with self._cond:
            while self._syncing:
                self._cond.wait()

    def has(self, worker: RunWorker) -> bool:
        with self._cond:
            return worker in self._workers

    def remove(self, worker: RunWorker) -> None:
        with self._cond:
            self._workers.discard(worker)

    def _loop(self) -> None:
        while True:
            worker: RunWorker | None = None
            delay: float | None = None
            with self._cond:
                if self._workers:
                    first = min(self._workers, key=RunWorker.due)
                    delay = first.due() - time.monotonic()
                    worker = first if delay <= 0 else None
                if worker is None:  # no run's job is due: force finished runs' files to disk, or wait
                    paths, self._syncs = self._syncs, []
                    if not paths:
                        self._cond.wait(delay)
                        continue
                    self._syncing += 1
            if worker is None:
                try:
                    _force_to_disk(paths)
                finally:
                    with self._cond:
                        self._syncing -= 1
                        self._cond.notify_all()
                continue
            try:
                worker.work()
            except Exception as exc:  # one run's failure never stops the thread that serves every run
                worker.report(exc)


def _force_to_disk(paths: list[Path]) -> None:
    """``fsync`` each file; a file removed since needs nothing, a failing disk is reported once."""
    failures: set[str] = set()
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO put in a file's place never blocks the thread
        except FileNotFoundError:
            continue
        except OSError as exc:
            failures.add(f"{type(exc).__name__}: {exc}")
            continue
        try:
            os.fsync(fd)
        except OSError as exc:
            failures.add(f"{type(exc).__name__}: {exc}")
        finally:
            os.close(fd)
    for message in sorted(failures):
        print(f"runlab: could not force a finished run's files to disk: {message}", file=sys.__stderr__)


def sync_later(paths: Iterable[Path]) -> None:
    """Force ``paths`` to disk (``fsync``) on the background thread, soon and in order.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "run.json"
        >>> _ = path.write_text("{}")
        >>> sync_later([path]); wait_synced()
    """
    _SCHEDULER.sync_later(paths)


def wait_synced() -> None:
    """Return once every file given to :func:`sync_later` is on disk (called at interpreter exit)."""
    _SCHEDULER.wait_synced()


_SCHEDULER = _Scheduler()
atexit.register(wait_synced)  # registered first, so it runs after the exit hooks that finish open runs
if hasattr(os, "register_at_fork"):  # a forked child serves none of its parent's runs
    os.register_at_fork(after_in_child=_SCHEDULER.reset)
