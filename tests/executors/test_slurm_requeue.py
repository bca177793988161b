"""SLURM: a preempted job is requeued and resumes its run (same ID and folder, metrics continue);
so does a job that SLURM requeues after its node failed.

submitit's local executor runs each job as a local process under a controller that restarts it when
it exits asking to be requeued, as SLURM does. Preemption is what SLURM sends the job's processes
before it stops them: SIGUSR2 (submitit's checkpoint signal).
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runlab.executors import get_executor
from runlab.store import Store, read_metrics

from .conftest import req

pytest.importorskip("submitit")

PREEMPTIBLE = """\
import os, time
import runlab
GATE = ""

def main():
    for i in range(3):
        runlab.log_results({"loss": 1.0 / (i + 1)})  # steps 0-2, then 3-5 in the resumed attempt
    deadline = time.time() + 180
    while not os.path.exists(GATE) and time.time() < deadline:
        time.sleep(0.05)
    return 7
"""


def wait_for(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except (OSError, ValueError, KeyError):
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def record(root: Path) -> tuple[Path, dict[str, Any]]:
    (folder,) = [p.parent for p in root.glob("*/*/run.json")]
    return folder, json.loads((folder / "run.json").read_text())


def points(folder: Path) -> int:
    """Points of the metric ``loss`` the run wrote so far."""
    series, _ = read_metrics(folder / "metrics.jsonl")
    return len(series["loss"].steps) if "loss" in series else 0


def test_a_preempted_job_requeues_and_resumes_its_run(tmp_path: Path, root: Path) -> None:
    script = tmp_path / "preemptible.py"
    script.write_text(PREEMPTIBLE)
    gate = tmp_path / "gate"
    with get_executor("slurm", settings=False, workers=1, cluster="local", folder="jobs", poll=0.2) as ex:
        ex.submit(req(script, root, f"--GATE={gate}"))
        folder, meta = wait_for("the run to log 3 points", lambda: points(record(root)[0]) == 3 and record(root))
        assert meta["status"] == "running"
        first_pid = meta["heartbeat"]["pid"]
        os.kill(first_pid, signal.SIGUSR2)  # SLURM preempts the job
        wait_for("the run to be resumed", lambda: record(root)[1].get("resumed") == 1 and points(folder) == 6)
        _, meta = record(root)
        assert meta["status"] == "running" and meta["heartbeat"]["pid"] != first_pid  # the requeued job
        assert [a["status"] for a in meta["attempts"]] == ["cancelled", "running"]
        assert Store(root).load(meta["id"]).status == "running"  # readers see it live again
        gate.touch()
        (result,) = list(ex.results())
    assert str(result.status) == "completed" and result.value == 7
    store = Store(root)
    (run,) = store.runs()  # one run: the requeued job did not start another
    assert run.id == result.run_id == meta["id"] and run.status == "completed"
    assert run.metadata["resumed"] == 1
    assert [a["status"] for a in run.metadata["attempts"]] == ["cancelled", "completed"]
    assert "interrupted by SLURM" in run.metadata["attempts"][0]["error"]  # why the first attempt ended
    series = run.metrics("loss")
    assert list(series.steps) == [0, 1, 2, 3, 4, 5]  # metrics continue across the requeue
    assert run.summaries["loss"].count == 6
    assert not list((root / ".runlab" / "unindexed").iterdir())


def test_a_job_at_its_time_limit_requeues_and_resumes_its_run(tmp_path: Path, root: Path) -> None:
    """The time limit (6 s here) comes: the job is signalled 3 s before it, requeued, and resumes."""
    script = tmp_path / "preemptible.py"
    script.write_text(PREEMPTIBLE)
    gate = tmp_path / "gate"
    with get_executor("slurm", settings=False, workers=1, cluster="local", folder="jobs", poll=0.2, time=0.1,
                      signal_delay=3) as ex:  # fmt: skip
        ex.submit(req(script, root, f"--GATE={gate}"))
        folder, _ = wait_for("the run to start", lambda: record(root))
        wait_for("the time limit to requeue the job", lambda: (record(root)[1].get("resumed") or 0) >= 1
                 and points(folder) >= 6)  # fmt: skip
        gate.touch()
        (result,) = list(ex.results())
    assert str(result.status) == "completed" and result.value == 7
    (run,) = Store(root).runs()
    attempts = run.metadata["attempts"]
    assert run.id == result.run_id and run.status == "completed" and run.metadata["resumed"] == len(attempts) - 1
    assert [a["status"] for a in attempts] == ["cancelled"] * (len(attempts) - 1) + ["completed"]
    assert list(run.metrics("loss").steps) == list(range(3 * len(attempts)))  # each attempt's steps follow on


def test_a_job_requeued_after_its_node_failed_resumes_its_run(tmp_path: Path, root: Path) -> None:
    """A node fails: the job's processes die with no checkpoint (SIGKILL here) and SLURM requeues the job
    (``--requeue``), which runs the same pickled submission again in a new process. That attempt resumes
    the run; an attempt after the run ended returns its result and starts nothing."""
    from runlab.executors._slurm import _Job

    script = tmp_path / "preemptible.py"
    script.write_text(PREEMPTIBLE)
    gate = tmp_path / "gate"
    result_file = tmp_path / "job.result.json"
    env = {"RUNLAB_INDEX_WRITES": "0"}  # as the executor's jobs run: folders only
    job = _Job(req(script, root, f"--GATE={gate}").to_json(), str(result_file), str(tmp_path), env)
    submission = tmp_path / "submission.pkl"
    submission.write_bytes(pickle.dumps(job))  # what submitit keeps on the shared filesystem and runs again
    code = f"import pickle; print(pickle.loads(open({str(submission)!r}, 'rb').read())())"

    first = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        folder, meta = wait_for("the run to log 3 points", lambda: points(record(root)[0]) == 3 and record(root))
    finally:
        first.kill()  # the node fails
        first.wait()
    gate.touch()
    second = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert f"left run {meta['id']} crashed" in second.stderr and "this attempt resumes it" in second.stderr
    result = json.loads(second.stdout)
    assert result["run_id"] == meta["id"] and result["status"] == "completed"
    (run,) = Store(root).runs()  # one run: the requeued job did not start another
    assert run.id == meta["id"] and run.status == "completed" and run.path == folder
    assert run.metadata["resumed"] == 1
    assert [a["status"] for a in run.metadata["attempts"]] == ["crashed", "completed"]
    assert list(run.metrics("loss").steps) == [0, 1, 2, 3, 4, 5]  # metrics continue after the failure

    third = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and third.stdout == second.stdout  # requeued once more: the same result
    assert [r.id for r in Store(root).runs()] == [meta["id"]]


def _lost_attempt(tmp_path: Path, root: Path, status: str, host: str) -> tuple[str, Path, Path]:
    """A request, its result file and the folder of the run an earlier attempt announced, left ``status``
    with a fresh heartbeat from ``host``."""
    import runlab

    script = tmp_path / "preemptible.py"
    script.write_text(PREEMPTIBLE)
    with runlab.start_run(root=root, capture=False) as run:
        pass
    meta = json.loads((run.path / "run.json").read_text())
    meta.update(status=status, heartbeat={"pid": 1, "host": host, "time": time.time(), "every": 5})
    (run.path / "run.json").write_text(json.dumps(meta))
    result_file = tmp_path / "job.result.json"
    (tmp_path / "job.result.json.run").write_text(json.dumps({"id": run.id, "folder": str(run.path)}))
    return req(script, root).to_json(), result_file, run.path


def test_a_requeued_job_waits_for_a_run_on_another_host_to_go_stale(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On another host the earlier attempt's run reads as running until its heartbeat is stale."""
    from runlab.executors._slurm import continue_lost_attempt
    from runlab.request import RunRequest

    monkeypatch.setattr("runlab.store._index.STALE_REMOTE", 1.0)  # RUNLAB_STALE_AFTER=1
    request_json, result_file, folder = _lost_attempt(tmp_path, root, "running", "failed-node")
    start = time.monotonic()
    resumed = RunRequest.from_json(continue_lost_attempt(request_json, result_file, poll=0.1))
    assert time.monotonic() - start >= 0.9
    assert resumed.options.resume == str(folder)


@pytest.mark.parametrize(
    "case",
    ["no earlier attempt", "resume already set", "the run completed", "run.json damaged", "announcement damaged"],
)
def test_a_job_runs_its_request_as_submitted_when_no_lost_run_can_be_resumed(
    tmp_path: Path, root: Path, case: str
) -> None:
    from runlab.executors._slurm import continue_lost_attempt
    from runlab.request import RunRequest

    request_json, result_file, folder = _lost_attempt(tmp_path, root, "completed" if "completed" in case else
                                                      "running", "failed-node")  # fmt: skip
    announced = tmp_path / "job.result.json.run"
    if case == "no earlier attempt":
        announced.unlink()
    elif case == "resume already set":
        request_json = RunRequest.from_json(request_json).with_options(resume="elsewhere").to_json()
    elif case == "run.json damaged":
        (folder / "run.json").write_text("{not json")
    elif case == "announcement damaged":
        announced.write_text("[]")
    assert continue_lost_attempt(request_json, result_file, poll=0.01) == request_json


@pytest.mark.parametrize("value", [-1])
def test_a_negative_signal_delay_is_refused(value: int) -> None:
    from runlab.errors import UsageError

    with pytest.raises(UsageError, match="signal_delay"):
        get_executor("slurm", settings=False, cluster="local", folder="jobs", signal_delay=value)
