"""Dask: a worker lost mid-run. Its run is crashed (never left running, never run twice by Dask), and
runlab's ``--max-retries`` alone decides whether the config runs again.

The cluster is a real ``LocalCluster`` with worker processes; the sweep is a real ``runlab run``
process connected to it. The experiment kills its own worker (the run's parent process) on its
first attempt, as a node failure or the OOM killer would.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runlab.store import Store

distributed = pytest.importorskip("distributed")

LOSES_ITS_WORKER = """\
import os, signal, time
import runlab
X = 0
MARK = ""

def main():
    runlab.log_results({"loss": 1.0}, step=0)
    if X == 1 and not os.path.exists(MARK):  # first attempt: take the worker down mid-run
        with open(MARK, "w") as f:
            f.write(str(os.getppid()))
        time.sleep(2.0)  # mid-run: the task has told the scheduler which run it runs
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)  # the run dies with its worker long before this ends
    return X
"""


@pytest.fixture(params=[3, 0], ids=["dask-reschedules", "dask-gives-up"])
def cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Worker processes; ``allowed-failures`` 3 (Dask's default: it starts the task again on another
    worker) or 0 (it gives up at once with ``KilledWorker``). Either way one run is made per attempt."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": request.param}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.CRITICAL)  # fmt: skip
    try:
        yield cluster
    finally:
        cluster.close()


def sweep(tmp_path: Path, root: Path, scheduler: str, retries: int) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "exp.py"
    script.write_text(LOSES_ITS_WORKER)
    cmd = [sys.executable, "-m", "runlab", "--root", str(root), "run", str(script), "--sweep", "X=0,1",
           "-p", f"MARK={tmp_path / 'mark'}", "-x", "dask", "--dask-scheduler", scheduler,
           "--max-retries", str(retries)]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False)


def runs_of(root: Path) -> list[tuple[int, str]]:
    return sorted((r.params["X"], r.status) for r in Store(root).runs())


@pytest.mark.parametrize("retries", [0, 1])
def test_a_lost_worker_crashes_its_run_and_max_retries_decides(
    cluster: Any, tmp_path: Path, root: Path, retries: int
) -> None:
    with distributed.Client(cluster) as client:
        workers = set(client.run(os.getpid).values())
    done = sweep(tmp_path, root, cluster.scheduler_address, retries)
    assert int((tmp_path / "mark").read_text()) in workers  # the run took a worker process down
    store = Store(root)
    lost = [r for r in store.runs() if r.params["X"] == 1 and r.status == "crashed"]
    assert len(lost) == 1, runs_of(root)  # the first attempt: crashed, not left running, made once
    assert lost[0].metadata["status"] == "running"  # its process died: the record says what it knew
    if retries:
        assert done.returncode == 0, done.stderr
        assert runs_of(root) == [(0, "completed"), (1, "completed"), (1, "crashed")]
        assert "2 completed" in done.stderr
    else:
        assert done.returncode == 1, done.stderr
        assert runs_of(root) == [(0, "completed"), (1, "crashed")]
        assert "1 completed, 1 crashed" in done.stderr
    sweeps = subprocess.run([sys.executable, "-m", "runlab", "--root", str(root), "sweep", "list", "-f", "json"],
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    (record,) = json.loads(sweeps.stdout)
    assert record["state"] == ("completed" if retries else "failed")
