"""The process a run executes in: read a request file, execute it, write the result file.

``python -m runlab.executors._child REQUEST_FILE RESULT_FILE`` (a fresh interpreter, used on
Dask workers; with ``RUNLAB_PARENT_PID`` set it is killed when that parent dies) and
:func:`run_forked` (a process forked from a warm fork server, used by the ``local`` executor) do
the same. As soon as the run exists, ``RESULT_FILE.run`` names it, so a
process that dies mid-run still leaves its run id behind (the run then shows as crashed).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["PARENT_PID", "main", "run_forked", "run_request_file"]

#: The environment variable that tells ``python -m runlab.executors._child`` its parent's pid: the run
#: process then dies with its parent (a Dask worker that is lost takes its runs with it).
PARENT_PID = "RUNLAB_PARENT_PID"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_request_file(request_file: Path, result_file: Path) -> BaseException | None:
    """Execute the request in ``request_file``; write its :class:`RunResult` JSON to ``result_file``.

    Returns the exception that ended the run (None when it returned), as :func:`execute_catching` does.
    """
    from ..lifecycle import add_listener
    from ..request import RunRequest
    from ._ship import execute_catching

    announced = result_file.with_name(result_file.name + ".run")

    def announce(event: str, run: Any, **data: Any) -> None:
        if event == "run_state_changed" and data.get("old") is None and not announced.exists():
            _write(announced, json.dumps({"id": run.id, "folder": str(run.path)}))

    remove = add_listener(announce)
    try:
        result, ended_by = execute_catching(RunRequest.read(request_file))
    finally:
        remove()
    _write(result_file, result.to_json())
    return ended_by


def _die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> None:
    """Linux: get ``sig`` when the parent dies (SIGTERM: the run records itself cancelled; SIGKILL:
    it just ends, and shows as crashed). ``parent``: the pid the parent had, if known."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, sig)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() == 1 or (parent is not None and os.getppid() != parent):  # it died already
        os.kill(os.getpid(), sig)


def _release_fork_server() -> None:
    """Let go of the fork server's "alive" pipe, which a forked process inherits: while any run held
    it, the server outlived a killed sweep, and so did its runs (their parent, the server, never died).
    Without it the server ends with the sweep, and each run gets SIGTERM (:func:`_die_with_parent`)."""
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        os.close(fd)
        server._forkserver_alive_fd = None  # a run's own forkserver processes start a server of their own


def run_forked(request_file: str, result_file: str, cwd: str, env: dict[str, str], quiet: bool) -> None:
    """The body of a forked run process: own session, the caller's cwd and environment, SIGINT cancels.

    The run ends with the sweep's process: the fork server ends when that process dies, and the run
    then gets SIGTERM and records itself ``cancelled``; then the processes it started in its process
    group get SIGTERM, as a cancelled run's do (:func:`_terminate_group`).
    """
    os.setsid()  # Ctrl-C in the terminal reaches the sweep only; it forwards one SIGINT per run
    _release_fork_server()
    signal.signal(signal.SIGTERM, _terminate_group)  # before _die_with_parent: its SIGTERM may come at once
    os.register_at_fork(after_in_child=_default_sigterm)
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    run_request_file(Path(request_file), Path(result_file))


def _default_sigterm() -> None:
    """In a process the run forks (a ``multiprocessing`` pool's worker): SIGTERM ends that process alone, as by
    default (``Pool.terminate()`` sends it), not the run's whole process group."""
    if signal.getsignal(signal.SIGTERM) is _terminate_group:  # runlab's fork hook has put it back by now
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        except ValueError:  # forked from another thread: _terminate_group acts as the default there
            pass


def _terminate_group(signum: int, frame: Any) -> None:
    """A run process's SIGTERM, after its run recorded itself cancelled (runlab's own handler calls this
    one then, as the handler it replaced): the run process ends by SIGTERM as by default, and so do the
    processes the run started in its process group (they ran on after a killed sweep).

    One signal reaches the whole group, the run process included: signalling the others first left a
    moment in which a thread of the run (a ``multiprocessing.Pool`` replacing the workers the signal had
    just ended) forked processes that nothing signalled; they waited for ever on the pool's task queue.
    """
    from ..lifecycle._run import _deliver_sigterm

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # the run process leads its group; a child forked with this handler ends alone
    _deliver_sigterm(signal.SIG_DFL, frame, group=os.getpid() == os.getpgrp())


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``REQUEST_FILE RESULT_FILE``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m runlab.executors._child REQUEST_FILE RESULT_FILE", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parent = os.environ.pop(PARENT_PID, None)
    if parent is not None and parent.isdigit():  # a worker's run: lost with its worker, it ends (crashed)
        _die_with_parent(signal.SIGKILL, int(parent))
    run_request_file(Path(args[0]), Path(args[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
