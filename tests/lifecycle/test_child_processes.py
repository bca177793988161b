"""Worker processes of a run's process never act on its run by accident: they raise, clearly."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import runlab

from ..conftest import forget_stores


def log_number() -> None:
    runlab.log_results({"loss": 0.5}, step=0)


def log_text() -> None:
    runlab.log_results({"note": "from a worker"})


def square(x: int) -> int:
    return x * x


@pytest.mark.parametrize(
    ("method", "worker", "error"),
    [
        ("fork", log_number, runlab.ForeignRunError),
        ("fork", log_text, runlab.ForeignRunError),
        ("spawn", log_number, runlab.ExperimentContextError),
        ("spawn", log_text, runlab.ExperimentContextError),
    ],
)
def test_logging_from_a_worker_raises_instead_of_losing_data(
    tmp_path: Path, method: str, worker: object, error: type[Exception]
) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    context = multiprocessing.get_context(method)
    with runlab.run(root=tmp_path / "s") as run, context.Pool(1) as pool:
        with pytest.raises(error, match=r"worker|process"):
            pool.apply(worker)  # type: ignore[arg-type]
        runlab.log_results({"loss": 0.25}, step=0)  # the run's own process still logs
    forget_stores()
    rec = runlab.load(run.id, root=tmp_path / "s")
    assert rec.status == "completed" and rec.metrics("loss").values == [0.25] and "results" not in rec.data


_POOL_SCRIPT = """
import multiprocessing, runlab, sys

def square(x):
    return x * x

if __name__ == "__main__":
    for attempt in range(3):
        with runlab.run(root=sys.argv[1], params={"attempt": attempt}) as run:
            with multiprocessing.get_context("fork").Pool(2) as pool:
                runlab.log_results({"total": sum(pool.map(square, range(20)))}, step=attempt)
    print("done")
"""


def test_a_fork_pool_inside_a_run_ends_quietly(tmp_path: Path) -> None:
    """Pool workers no longer inherit the run's SIGTERM handler (tracebacks, hangs at terminate)."""
    script = tmp_path / "pool.py"
    script.write_text(textwrap.dedent(_POOL_SCRIPT))
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "s")], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr
    assert "RunTerminated" not in out.stderr and "Traceback" not in out.stderr
    forget_stores()
    assert sorted(r.status for r in runlab.runs(root=tmp_path / "s")) == ["completed"] * 3


_FORK_SCRIPT = """
import os, sys, runlab

with runlab.run(root=sys.argv[1]) as run:
    pid = os.fork()
    if pid == 0:
        try:
            run.log_metric("x", 1)
        except runlab.ForeignRunError:
            print("refused", flush=True)
        sys.exit(0)   # leaves the block and exits normally: the parent's run must stay its own
    os.waitpid(pid, 0)
    run.log_metric("x", 2)
print(run.status)
"""


def test_a_forked_child_exiting_does_not_finish_the_parents_run(tmp_path: Path) -> None:
    script = tmp_path / "fork.py"
    script.write_text(textwrap.dedent(_FORK_SCRIPT))
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "s")], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["refused", "completed"]
    forget_stores()
    [rec] = runlab.runs(root=tmp_path / "s")
    assert rec.status == "completed" and rec.metrics("x").values == [2]
