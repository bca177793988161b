"""Threads for sync branches, the registry of background branches, and shutdown at exit.

Sync functions' extra branches run on daemon threads (never joined by the interpreter, so
exit is not held up by them). Background branches, sync or async, are tracked until marked;
at interpreter exit :func:`shutdown` waits for them a bounded time, records the rest as
``cancelled`` and flushes and closes every logger in use.
"""

from __future__ import annotations

import atexit
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .._settings import env_number
from ._branch import Branch, BranchStatus
from ._errors import BranchSettingError, BranchStateError
from ._fork import reset_in_child
from ._loggers import BranchSession, LoggerBackend

__all__ = ["EXIT_TIMEOUT", "Worker", "check_timeout", "ensure_exit_hook", "pending_background", "shutdown"]


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` as seconds to wait (None: no limit; infinity is no limit too); refuses NaN and negatives.

    Example:
        >>> check_timeout(2), check_timeout(float("inf"))
        (2, None)
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise BranchSettingError(f"Invalid timeout {timeout!r}: expected a number of seconds >= 0, or None to wait "
                          "without limit.")  # fmt: skip
    return None if timeout > threading.TIMEOUT_MAX else timeout


EXIT_TIMEOUT: float = env_number("RUNLAB_BRANCH_EXIT_TIMEOUT", 10.0, 0.0, BranchSettingError)
"""Seconds :func:`shutdown` waits at exit for background branches (``RUNLAB_BRANCH_EXIT_TIMEOUT``)."""

_IDLE_EXIT = 30.0


class Worker:
    """A pool of daemon threads; a new thread starts when none is idle, up to ``limit`` (None: no limit).

    Awaited branches use an unlimited pool (a branched call made inside a branch can never wait
    for a busy pool); background branches use a limited one, whose queue absorbs bursts.
    """

    def __init__(self, name: str, limit: int | None) -> None:
        self.name = name
        self.limit = limit
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        reset_in_child(self)

    def _after_fork(self) -> None:
        # a forked child has none of the parent's threads: counting them would queue jobs nobody takes
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0 and (self.limit is None or self._threads < self.limit)
            if spawn:
                self._threads += 1
            else:
                self._idle -= 1  # a waiting thread takes it
        self._queue.put(job)
        if spawn:
            threading.Thread(target=self._work, name=f"runlab-{self.name}", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=_IDLE_EXIT)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0:  # nobody reserved this idle thread: leave
                        self._idle -= 1
                        self._threads -= 1
                        return
                job = self._queue.get()
            try:
                job()
            except BaseException as exc:  # a job's own errors are recorded by the job; keep the thread
                print(f"runlab: branch thread: {type(exc).__name__}: {exc}", file=sys.__stderr__)
            with self._lock:
                self._idle += 1


AWAITED = Worker("branch", None)
BACKGROUND = Worker("branch-bg", env_number("RUNLAB_BRANCH_THREADS", 32, 1, BranchSettingError))

_lock = threading.Lock()
_background: dict[int, tuple[Branch, LoggerBackend | None, BranchSession]] = {}
_tasks: dict[int, Any] = {}  # branch id -> the asyncio task running it
_loggers: dict[int, LoggerBackend] = {}
_changed = threading.Condition(_lock)
_hook_registered = False


def _after_fork_in_child() -> None:
    """In a forked child: the parent's background branches run, and are recorded, in the parent."""
    global _lock, _changed
    _lock = threading.Lock()  # another thread of the parent may have held it
    _changed = threading.Condition(_lock)
    _background.clear()
    _tasks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def use_logger(logger: LoggerBackend) -> None:
    """Remember ``logger`` so :func:`shutdown` flushes and closes it."""
    with _lock:
        _loggers[id(logger)] = logger


def track(branch: Branch, logger: LoggerBackend | None, session: BranchSession, task: Any = None) -> None:
    """Register a background branch (until :func:`untrack`); ``task`` is its asyncio task, if any."""
    with _lock:
        _background[id(branch)] = (branch, logger, session)
        if task is not None:
            _tasks[id(branch)] = task


def untrack(branch: Branch) -> None:
    with _changed:
        _background.pop(id(branch), None)
        _tasks.pop(id(branch), None)
        _changed.notify_all()


def background_tasks(loop: Any, session: BranchSession | None = None) -> list[tuple[Branch, Any]]:
    """``(branch, asyncio task)`` of the running background branches on ``loop`` (of one session, or all)."""
    with _lock:
        return [(_background[key][0], task) for key, task in _tasks.items() if key in _background
                and task.get_loop() is loop and (session is None or _background[key][2] is session)]  # fmt: skip


def pending_background(session: BranchSession | None = None) -> list[Branch]:
    """Background branches still running (of one session, or all)."""
    with _lock:
        return [b for b, _, s in _background.values() if session is None or s is session]


def wait_background(timeout: float | None, session: BranchSession | None = None) -> list[Branch]:
    """Wait until no background branch (of ``session``) runs, at most ``timeout`` seconds; return those left."""
    timeout = check_timeout(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    with _changed:
        while True:
            left = [b for b, _, s in _background.values() if session is None or s is session]
            if not left:
                return []
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return left
            _changed.wait(remaining if remaining is not None else 1.0)


def cancel(branch: Branch, reason: str) -> bool:
    """Mark ``branch`` cancelled and record it; False when it was marked meanwhile."""
    with _lock:
        entry = _background.pop(id(branch), None)
        _tasks.pop(id(branch), None)
    try:
        branch.mark_cancelled(reason)
    except BranchStateError:
        return False
    if entry is not None and entry[1] is not None:
        entry[1].record(branch, entry[2])
    return True


def shutdown(timeout: float | None = None) -> list[Branch]:
    """Wait for running background branches, cancel the rest, then flush and close every logger in use.

    Runs at interpreter exit (with ``RUNLAB_BRANCH_EXIT_TIMEOUT`` seconds, default 10); call it
    yourself to end branching earlier. Branches still running after ``timeout`` are marked
    ``cancelled`` and recorded; if their thread finishes later, its outcome is dropped. Loggers
    passed to ``@branch`` are closed too: their session runs finish.

    Returns:
        The branches that were cancelled.

    Raises:
        BranchSettingError: ``timeout`` is NaN or negative.
    """
    timeout = EXIT_TIMEOUT if timeout is None else check_timeout(timeout)
    with _lock:
        stuck = [_background[key][0] for key, task in _tasks.items() if key in _background
                 and not task.get_loop().is_running()]  # fmt: skip
    cancelled = [b for b in stuck if cancel(b, "its event loop stopped before it finished")]
    left = wait_background(timeout)
    reason = f"still running {timeout:g} s after shutdown began" if timeout is not None else "still running"
    cancelled += [b for b in left if b.status is BranchStatus.PENDING and cancel(b, reason)]
    with _lock:
        loggers = list(_loggers.values())
        _loggers.clear()
    for logger in loggers:
        try:
            logger.close()
        except Exception as exc:  # never block interpreter exit
            print(f"runlab: could not close branch logger {logger!r}: {type(exc).__name__}: {exc}",
                  file=sys.__stderr__)  # fmt: skip
    from ._logger_specs import forget_shared

    forget_shared()
    return cancelled


def _at_exit() -> None:
    shutdown()


def ensure_exit_hook() -> None:
    """Register :func:`shutdown` with :mod:`atexit`, after any exit hook registered so far.

    Exit hooks run last-registered first, so calling this after a session run started puts the
    branch shutdown before the run's own exit hook (which finishes open runs).
    """
    global _hook_registered
    atexit.unregister(_at_exit)
    atexit.register(_at_exit)
    _hook_registered = True


def run_in_thread(pool: Worker, job: Callable[[], Any]) -> threading.Event:
    """Run ``job`` on ``pool``; the event is set when it returns."""
    done = threading.Event()

    def wrapped() -> None:
        try:
            job()
        finally:
            done.set()

    pool.submit(wrapped)
    return done
