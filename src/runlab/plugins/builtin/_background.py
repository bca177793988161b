"""What mirror plugins share: a background sender, and keeping a library's logs off the console.

A mirror (MLflow, W&B) must not hold a run up: its hooks put the work in a queue, and one
thread per plugin sends it in order (so a run's "create" always precedes its "finish").
A job that raises is reported to the plugin manager like a failing hook (once on stderr,
recorded in the run's ``run.json``). At interpreter exit, runs still open are finished
first and the queue is then drained, so nothing is lost when the program ends.
"""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ["BackgroundSender", "quiet_loggers"]

_SLOW_EXIT_NOTICE = 2.0  # seconds of draining at exit before saying why the program waits


class BackgroundSender:
    """A queue of jobs sent in order by one daemon thread.

    Args:
        name: the plugin's name (thread name, messages).
        on_error: ``on_error(hook, exc, run)`` for a job that raised.

    Example:
        >>> sender = BackgroundSender("demo", on_error=lambda hook, exc, run: None)
        >>> done = []
        >>> sender.submit("run_finishing", None, lambda: done.append(1))
        >>> sender.flush(timeout=10), done
        (True, [1])
    """

    def __init__(self, name: str, on_error: Callable[[str, BaseException, Any], None]) -> None:
        self.name = name
        self._on_error = on_error
        self._queue: queue.Queue[tuple[str, Any, Callable[[], Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._exit_hook = False

    def submit(self, hook: str, run: Any, job: Callable[[], Any]) -> None:
        """Queue ``job`` (for ``hook`` of ``run``, named in error reports)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=f"runlab-{self.name}-sender", daemon=True)
                self._thread.start()
            if not self._exit_hook:
                self._exit_hook = True
                atexit.register(self._at_exit)
        self._queue.put((hook, run, job))

    def exit_last(self) -> None:
        """Register the exit drain again, so it runs before exit hooks registered until now.

        ``atexit`` runs the hook registered last first: a library that registers its own
        teardown on first use (wandb's service) is drained for before it is torn down.
        """
        with self._lock:
            atexit.unregister(self._at_exit)
            atexit.register(self._at_exit)
            self._exit_hook = True

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                hook, run, job = item
                try:
                    job()
                except BaseException as exc:
                    try:
                        self._on_error(hook, exc, run)
                    except Exception as error:  # reporting must not stop the sender
                        print(f"runlab: {self.name}: {type(error).__name__}: {error}", file=sys.__stderr__)
            finally:
                self._queue.task_done()

    @property
    def pending(self) -> int:
        """Jobs queued or being sent."""
        return self._queue.unfinished_tasks

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued job was sent; False when ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            thread = self._thread
            if thread is None or not thread.is_alive():
                return False
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def _at_exit(self) -> None:
        from ...lifecycle import finish_open_runs

        finish_open_runs()  # runs left open: their final mirror jobs are queued now
        if not self.flush(timeout=_SLOW_EXIT_NOTICE) and self.pending:
            notice = f"runlab: {self.name}: sending {self.pending} queued mirror job(s) before exit..."
            print(notice, file=sys.__stderr__)
            self.flush()

    def close(self) -> None:
        """Send what is queued and stop the thread."""
        self.flush()
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._queue.put(None)
                self._thread.join(timeout=30)
            self._thread = None
            if self._exit_hook:
                atexit.unregister(self._at_exit)
                self._exit_hook = False


_quieted: dict[str, Path] = {}
_quiet_lock = threading.Lock()


def quiet_loggers(names: Iterable[str], log_file: Path) -> Path:
    """Send the records of loggers ``names`` to ``log_file`` instead of the console (once per logger).

    Their handlers are replaced by one appending to ``log_file`` and they stop propagating
    to the root logger, so a library's INFO lines ("Creating a new experiment", database
    migrations) do not clutter the run's output. Returns the file the loggers write to.
    """
    with _quiet_lock:
        handler: logging.Handler | None = None
        target = log_file
        for name in names:
            if name in _quieted:
                target = _quieted[name]
                continue
            if handler is None:
                log_file.parent.mkdir(parents=True, exist_ok=True)
                handler = logging.FileHandler(log_file, encoding="utf-8", delay=True)
                handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger = logging.getLogger(name)
            for old in list(logger.handlers):
                logger.removeHandler(old)
            logger.addHandler(handler)
            logger.propagate = False
            _quieted[name] = log_file
        return target
