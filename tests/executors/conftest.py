"""Executors under test and a trivial experiment script (the sweep tests use it too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runlab.executors import Executor, RunRequest, get_executor

SCRIPT = """\
import os, signal, time
X = 0
MODE = "ok"
SLEEP = 0.0

def main():
    import runlab
    if SLEEP:
        time.sleep(SLEEP)
    if MODE == "fail":
        raise ValueError(f"boom {X}")
    if MODE == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if MODE == "flaky" and not os.path.exists(f"flaky-{X}"):
        open(f"flaky-{X}", "w").close()
        raise RuntimeError("first attempt fails")
    return X * 2
"""

EXECUTORS = ["inline", "local", "dask", "slurm"]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "exp.py"
    path.write_text(SCRIPT)
    return path


def make_executor(name: str, workers: int = 2) -> Executor:
    if name == "inline":
        return get_executor("inline", settings=False)
    if name == "dask":
        pytest.importorskip("distributed")
    if name == "slurm":  # submitit's local executor: each job a local process
        pytest.importorskip("submitit")
        return get_executor(
            name, settings=False, workers=workers, cluster="local", folder="slurm-jobs", poll=0.2, index=True
        )  # the contract's checks read the index; test_remote_index covers False
    return get_executor(name, settings=False, workers=workers)


@pytest.fixture(params=EXECUTORS)
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    ex = make_executor(request.param)
    try:
        yield ex
    finally:
        ex.cancel() if ex.cancelled else None
        ex.close()


def req(script: Path, root: Path, *argv: str, sweep: str | None = None) -> RunRequest:
    """A request for ``script`` with overrides written ``--NAME=VALUE`` (parsed as ``runlab run`` does)."""
    from runlab.experiment._script import script_params
    from runlab.params import parse_overrides
    from runlab.request import Links, RunOptions, Target

    params = parse_overrides(list(argv), script_params(script), allow_new=True)
    return RunRequest(Target("script", script), params, RunOptions(root=str(root), capture=False), Links(sweep=sweep))
