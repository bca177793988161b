"""One run in its own process: forked from a warm fork server, or a fresh interpreter.

Both the ``local`` executor and Dask workers start runs through :class:`RunProcess`, so a run
that kills its own process never takes its worker down, and cancelling works the same way:
SIGINT (the run records itself ``cancelled``), then SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ._ship import RunResult, crashed

__all__ = ["RunProcess", "read_result"]

_PRELOAD = ["runlab.executors._warm", "runlab.executors._child"]


def _forkserver() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


class RunProcess:
    """A started run process for a request file; :meth:`wait` gives its :class:`RunResult`.

    Args:
        request_file: the request's JSON file; the result goes next to it.
        cwd, env: the run's working folder and environment.
        quiet: send the run's terminal output to its ``out.log`` only.
        fork: fork from the warm fork server (fast); False, or where forking is not allowed
            (a daemonic worker process), start ``python -m runlab.executors._child``.
    """

    def __init__(self, request_file: Path, cwd: str, env: dict[str, str], quiet: bool = True,
                 fork: bool = True) -> None:  # fmt: skip
        self.result_file = request_file.with_name(request_file.stem + ".result.json")
        self._proc: Any = None
        self._popen: subprocess.Popen[bytes] | None = None
        if fork and not multiprocessing.current_process().daemon:
            from ._child import run_forked

            args = (str(request_file), str(self.result_file), cwd, env, quiet)
            self._proc = _forkserver().Process(target=run_forked, args=args, daemon=False)
            self._proc.start()
            self.pid: int | None = self._proc.pid
        else:
            out = subprocess.DEVNULL if quiet else None
            cmd = [sys.executable, "-m", "runlab.executors._child", str(request_file), str(self.result_file)]
            env = {**env, "RUNLAB_PARENT_PID": str(os.getpid())}  # the run dies with this process (a lost worker)
            self._popen = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=out, start_new_session=True)
            self.pid = self._popen.pid

    def poll(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: until it ends); True once the process ended."""
        if self._proc is not None:
            self._proc.join(timeout)
            return self._proc.exitcode is not None
        assert self._popen is not None
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    @property
    def exitcode(self) -> int | None:
        if self._proc is not None:
            return self._proc.exitcode  # type: ignore[no-any-return]
        assert self._popen is not None
        return self._popen.returncode

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the run process and the processes it started in its process group, as Ctrl-C
        in a terminal does (ignored once the run process ended). The run leads its own session; until
        it has made it (its first instructions), the run process alone gets ``sig``."""
        if self.pid is None or self.exitcode is not None:
            return
        try:
            os.killpg(self.pid, sig)
            return
        except (ProcessLookupError, PermissionError):  # no group of its own yet
            pass
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def interrupt(self) -> None:
        """Ask the run to cancel itself (SIGINT)."""
        self.signal(signal.SIGINT)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def wait(self) -> RunResult:
        """Wait for the end; the run's result (``crashed`` when the process died)."""
        self.poll(None)
        return read_result(self.result_file, self.exitcode)


def read_result(result_file: Path, exitcode: int | None) -> RunResult:
    """The result a run process left, or a crashed result naming the run it announced."""
    try:
        return RunResult.from_json(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, UsageError):
        pass
    announced = result_file.with_name(result_file.name + ".run")
    try:
        run = json.loads(announced.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        run = None
    if exitcode is None:
        return crashed(run, "the run's process died before the run finished")
    how = f"killed by signal {-exitcode}" if exitcode < 0 else f"exit code {exitcode}"
    return crashed(run, f"the run's process died ({how}) before the run finished")
