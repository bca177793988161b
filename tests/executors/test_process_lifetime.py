"""What a run's processes do when the sweep ends abnormally: none is left running.

Real processes throughout: a ``runlab run`` sweep killed with a signal, runs that start children of
their own, a Dask ``LocalCluster`` with many threads, a port that is no Dask scheduler.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from runlab.errors import UsageError
from runlab.executors import get_executor
from runlab.store import Store

from .conftest import make_executor, req

PARENT = """\
import subprocess, time
X = 0
SLEEP = 30.0
child = subprocess.Popen(["sleep", "300"])  # in the run's process group, as a data loader's workers are
open(f"child-{X}.pid", "w").write(str(child.pid))
time.sleep(SLEEP)
"""


def _wait_for(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def parent_script(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "parent.py"
    path.write_text(PARENT)
    yield path
    for pid_file in tmp_path.glob("child-*.pid"):  # never leave a child behind, whatever the test did
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_runs_end_with_a_killed_sweep(sig: int, parent_script: Path, tmp_path: Path) -> None:
    """The fork server outlived a killed sweep (its runs held its 'alive' pipe), and so did every run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "runlab", "--root", "runs", "run", str(parent_script), "--sweep", "X=0,1", "-j", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    store = Store(tmp_path / "runs")
    try:
        _wait_for(lambda: (store.root / ".runlab").is_dir() and len(store.runs(status="running")) == 2)
        pids = [r.metadata["heartbeat"]["pid"] for r in store.runs()]
        proc.send_signal(sig)
        proc.wait(timeout=30)
        _wait_for(lambda: all(_gone(pid) for pid in pids), timeout=20)
    finally:
        proc.kill()
        for run in store.runs():
            if not _gone(pid := run.metadata["heartbeat"]["pid"]):
                os.kill(pid, signal.SIGKILL)
    assert [str(r.status) for r in store.runs()] == ["cancelled", "cancelled"]  # each recorded its end


@pytest.mark.parametrize("name", ["local", "dask"])
def test_cancel_reaches_the_processes_a_run_started(name: str, parent_script: Path, root: Path, tmp_path: Path) -> None:
    """Cancelling interrupted the run process alone: a child it started (in its process group, as Ctrl-C
    in a terminal reaches) ran on after the run ended cancelled."""
    with make_executor(name) as ex:
        ex.submit(req(parent_script, root, "--X=0"))
        _wait_for(lambda: (tmp_path / "child-0.pid").is_file() and (tmp_path / "child-0.pid").read_text() != "")
        child = int((tmp_path / "child-0.pid").read_text())
        ex.cancel()
        [result] = list(ex.results())
    assert str(result.status) == "cancelled", result.error
    _wait_for(lambda: _gone(child), timeout=10)


def test_a_local_dask_cluster_leaves_port_8787_alone() -> None:
    """Another sweep's cluster on 8787 made every sweep print "Port 8787 is already in use"."""
    with socket.socket() as taken, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            taken.bind(("", 8787))
            taken.listen(1)
        except OSError:  # someone has it already: as good
            pass
        get_executor("dask", settings=False, workers=1).close()
    assert not [w for w in caught if "8787" in str(w.message)]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers (what a web server waiting for a line does)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "message"),
    [  # the first hung for ever (Dask waits for the handshake without a limit); the second was a traceback
        ("tcp://127.0.0.1:{port}", "no Dask handshake within 1 s"),
        ("http://127.0.0.1:{port}", "unknown address scheme 'http'"),
        ("inproc://nothing", "does not answer"),
    ],
)
def test_a_scheduler_address_that_is_no_dask_scheduler_is_a_usage_error(
    address: str, message: str, silent_port: int
) -> None:
    started = time.monotonic()
    with pytest.raises(UsageError, match=message):
        get_executor("dask", settings=False, scheduler=address.format(port=silent_port), timeout=1)
    assert time.monotonic() - started < 8
