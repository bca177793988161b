"""The ``local`` executor: each run in its own process, ``workers`` at a time.

Run processes fork from a warm fork server that has runlab imported, so starting one costs
milliseconds rather than an interpreter start. Each runs in its own session: Ctrl-C in the
terminal reaches the sweep, which cancels the runs (one SIGINT each, then SIGKILL after a grace
period). A run whose process dies gives a ``crashed`` result.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from ._base import Executor
from ._ship import RunRequest, RunResult, crashed, environment

__all__ = ["LocalExecutor"]

_PRELOAD = ["runlab.executors._child", "runlab.experiment", "runlab.lifecycle", "runlab.store", "runlab.params"]


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def read_result(result_file: Path, exitcode: int | None) -> RunResult:
    """The result a run process left, or a crashed result naming the run it announced."""
    try:
        return RunResult.from_json(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        pass
    announced = result_file.with_name(result_file.name + ".run")
    try:
        run = json.loads(announced.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run = None
    how = f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    return crashed(run, f"the run's process died ({how}) before the run finished")


class LocalExecutor(Executor):
    """Runs each request in its own process on this machine, ``workers`` at a time.

    Args:
        workers: how many runs execute at once (``-j N``; default 1).
        quiet: send the runs' terminal output to their ``out.log`` only (default True).
        grace: seconds a cancelled run gets to record itself before it is killed.

    Example:
        >>> LocalExecutor(workers=2).workers
        2
    """

    name = "local"

    def __init__(self, workers: int = 1, quiet: bool = True, grace: float = 10.0) -> None:
        super().__init__(workers=workers)
        self._pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runlab-local")
        self._tmp = Path(tempfile.mkdtemp(prefix="runlab-local-"))
        self._procs: dict[int, Any] = {}
        self._quiet = quiet
        self._grace = grace
        self._ctx = _context()
        self._count = 0
        self._env = environment()
        self._cwd = os.getcwd()

    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        self._count += 1
        return self._pool.submit(self._run, self._count, request)

    def _run(self, number: int, request: RunRequest) -> RunResult:
        if self.cancelled:
            return RunResult(None, "cancelled", error="the sweep was cancelled before this run started")
        request_file = self._tmp / f"{number}.json"
        result_file = self._tmp / f"{number}.result.json"
        request_file.write_text(request.to_json(), encoding="utf-8")
        args = (str(request_file), str(result_file), self._cwd, self._env, self._quiet)
        with self._lock:
            if self.cancelled:
                return RunResult(None, "cancelled", error="the sweep was cancelled before this run started")
            from ._child import run_forked

            proc = self._ctx.Process(target=run_forked, args=args, daemon=False)
            proc.start()
            self._procs[number] = proc
            self._running += 1
        try:
            proc.join()
        finally:
            with self._lock:
                self._procs.pop(number, None)
                self._running -= 1
        return read_result(result_file, proc.exitcode)

    def _cancel_running(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            _signal(proc.pid, signal.SIGINT)
        if procs:
            timer = threading.Timer(self._grace, self._kill, args=(procs,))
            timer.daemon = True
            timer.start()

    @staticmethod
    def _kill(procs: list[Any]) -> None:
        for proc in procs:
            if proc.is_alive():
                _signal(proc.pid, signal.SIGKILL)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
        shutil.rmtree(self._tmp, ignore_errors=True)


def _signal(pid: int | None, sig: int) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
