"""The ``local`` executor: each run in its own process, ``workers`` at a time.

Run processes fork from a warm fork server that has runlab imported, so starting one costs
milliseconds rather than an interpreter start. Each runs in its own session: Ctrl-C in the
terminal reaches the sweep, which cancels the runs (one SIGINT each, then SIGKILL after a grace
period). A run whose process dies gives a ``crashed`` result.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import tempfile
import threading
from pathlib import Path

from ._base import Executor
from ._process import RunProcess
from ._ship import RunRequest, RunResult, environment, not_started

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Runs each request in its own process on this machine, ``workers`` at a time.

    Args:
        workers: how many runs execute at once (``-j N``; default 1).
        quiet: send the runs' terminal output to their ``out.log`` only (default True).
        grace: seconds a cancelled run gets to record itself before it is killed.
        fork: fork run processes from a warm fork server (fast); False starts a fresh
            interpreter per run (``python -m runlab.executors._child``), for full isolation.

    Example:
        >>> LocalExecutor(workers=2).workers
        2
    """

    name = "local"

    def __init__(self, workers: int = 1, quiet: bool = True, grace: float = 10.0, fork: bool = True) -> None:
        super().__init__(workers=workers)
        self._pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runlab-local")
        self._tmp = Path(tempfile.mkdtemp(prefix="runlab-local-"))
        self._procs: dict[int, RunProcess] = {}
        self._quiet = quiet
        self._grace = grace
        self._count = 0
        self._env = environment()
        self._cwd = os.getcwd()
        self._fork = fork

    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        self._count += 1
        request_file = self._tmp / f"{self._count}.json"
        request_file.write_text(request.to_json(), encoding="utf-8")
        return self._pool.submit(self._run, self._count, request_file)

    def _run(self, number: int, request_file: Path) -> RunResult:
        with self._lock:
            if self.cancelled:
                return not_started()
            proc = RunProcess(request_file, self._cwd, self._env, self._quiet, self._fork)
            self._procs[number] = proc
            self._running += 1
        try:
            return proc.wait()
        finally:
            with self._lock:
                self._procs.pop(number, None)
                self._running -= 1

    def _cancel_running(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            proc.interrupt()
        if procs:
            timer = threading.Timer(self._grace, _kill_all, args=(procs,))
            timer.daemon = True
            timer.start()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
        shutil.rmtree(self._tmp, ignore_errors=True)


def _kill_all(procs: list[RunProcess]) -> None:
    for proc in procs:
        proc.kill()
