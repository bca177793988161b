"""Resuming crashed and cancelled runs: real processes killed, then resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import runlab
from runlab.store._files import read_json

from ..conftest import REPO

FIRST = """
import sys, time, runlab
root, how = sys.argv[1], sys.argv[2]
with runlab.start_run(root=root, name="job", params={"lr": 0.1}, capture=False, resume="auto") as run:
    run.data["first/seen"] = True
    start = run.next_step("loss")
    for step in range(start, start + 10):
        run.log_metric("loss", 1 / (step + 1))
    run.next_step("loss")  # flushes: the points are on disk
    print("attempt output", flush=True)
    sys.__stdout__.write(run.id + "\\n")
    sys.__stdout__.flush()
    if how == "finish":
        sys.exit(0)
    time.sleep(120)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src")}


def _attempt(root: Path, how: str) -> str:
    """Run FIRST in a process; with how='kill'/'term' kill it after its 10 points: the run's ID."""
    proc = subprocess.Popen([sys.executable, "-c", FIRST, str(root), how], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    while line == "attempt output":
        line = proc.stdout.readline().strip()
    run_id = line
    if how == "kill":
        proc.send_signal(signal.SIGKILL)
    elif how == "term":
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert len(run_id) == 8, (run_id, err)
    return run_id


@pytest.mark.parametrize(("how", "status"), [("kill", "crashed"), ("term", "cancelled")])
def test_a_killed_run_resumes_in_a_new_process_with_the_same_id_folder_and_steps(
    root: Path, how: str, status: str
) -> None:
    run_id = _attempt(root, how)
    before = runlab.load(run_id, root=root)
    assert before.status == status
    second = _attempt(root, "finish")  # resume="auto" finds the run called "job"
    assert second == run_id
    record = runlab.load(run_id, root=root)
    assert record.status == "completed" and record.path == before.path
    loss = record.metrics("loss")
    assert loss.steps == list(range(20))
    assert record.summaries["loss"].count == 20 and record.summaries["loss"].step == 19
    meta = record.metadata
    assert [a["status"] for a in meta["attempts"]] == [status, "completed"]
    assert all(a["host"] and a["pid"] and a["start"] and a["end"] for a in meta["attempts"])
    assert meta["attempts"][0]["pid"] != meta["attempts"][1]["pid"]
    assert meta["resumed"] == 1 and meta["error"] is None
    assert meta["started"] == meta["attempts"][0]["start"]
    assert record.data == {"first": {"seen": True}}
    assert (record.path / "out.log").read_text().count("attempt output") == 2
    assert len(runlab.runs(root=root)) == 1


def test_resume_auto_starts_a_new_run_after_a_completed_one(root: Path) -> None:
    first = _attempt(root, "finish")
    second = _attempt(root, "finish")
    assert first != second
    assert runlab.load(second, root=root).metrics("loss").steps == list(range(10))


@pytest.mark.parametrize("ending", ["completed", "failed"])
def test_a_completed_or_failed_run_is_refused_and_left_as_it_was(root: Path, ending: str) -> None:
    run = runlab.start_run(root=root, name="done", capture=False)
    run.log_metric("loss", 1.0)
    run.finish(ending, "boom" if ending == "failed" else None)
    before = (run.path / "run.json").read_bytes()
    with pytest.raises(runlab.RunNotResumableError, match=f"{ending}; a {ending} run cannot be resumed"):
        runlab.start_run(root=root, resume=run.id)
    with pytest.raises(runlab.RunNotResumableError):
        runlab.start_run(root=root, resume="done")  # by name
    assert (run.path / "run.json").read_bytes() == before
    # resume="auto" with a finished newest run: a new run
    with runlab.start_run(root=root, name="done", resume="auto", capture=False) as fresh:
        pass
    assert fresh.id != run.id


def test_a_run_still_running_is_refused(root: Path) -> None:
    with (
        runlab.start_run(root=root, capture=False) as run,
        pytest.raises(runlab.RunNotResumableError, match="still running"),
    ):
        runlab.start_run(root=root, resume=run.id)
    assert runlab.load(run.id, root=root).status == "completed"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": {"lr": 0.2}}, "it ran with lr=0.1"),
        ({"params": {"depth": 3}}, "new parameter 'depth'"),
        ({"name": "other"}, "it is called 'job'"),
        ({"namespace": "elsewhere"}, "belongs to 'default'"),
    ],
)
def test_resuming_with_other_parameters_or_names_is_refused(root: Path, kwargs: dict, message: str) -> None:
    run_id = _attempt(root, "kill")
    before = (runlab.load(run_id, root=root).path / "run.json").read_bytes()
    with pytest.raises(runlab.UsageError, match=message):
        runlab.start_run(root=root, resume=run_id, **kwargs)
    record = runlab.load(run_id, root=root)
    assert record.status == "crashed" and (record.path / "run.json").read_bytes() == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resume": "auto"}, "needs a stable run name"),
        ({"resume": ""}, "Invalid resume"),
        ({"resume": "nosuchrun"}, "No run matches"),
    ],
)
def test_bad_resume_values(root: Path, kwargs: dict, message: str) -> None:
    with runlab.start_run(root=root, capture=False):
        pass
    with pytest.raises(runlab.UsageError, match=message):
        runlab.start_run(root=root, **kwargs)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("outside", "not in the store"),
        ("not json", "cannot be read"),
        ("[1, 2]", "damaged"),
        ('{"status": "cancelled"}', "damaged"),
    ],
)
def test_resume_by_folder_reads_the_folder_and_refuses_bad_ones(root: Path, tmp_path: Path, damage: str,
                                                                  message: str) -> None:  # fmt: skip
    with pytest.raises(KeyboardInterrupt), runlab.start_run(root=root, capture=False) as run:
        raise KeyboardInterrupt
    folder = run.path
    if damage == "outside":
        folder = tmp_path / "copy"
        folder.mkdir()
        (folder / "run.json").write_bytes((run.path / "run.json").read_bytes())
    else:
        (folder / "run.json").write_text(damage)
    with pytest.raises(runlab.UsageError, match=message):
        runlab.start_run(root=root, resume=str(folder))
    assert len(list(root.glob("*/*/run.json"))) == 1  # no run was made


def test_resume_by_folder_continues_the_run(root: Path) -> None:
    with pytest.raises(KeyboardInterrupt), runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 1.0)
        raise KeyboardInterrupt
    with runlab.start_run(root=root, resume=str(run.path), capture=False) as again:
        again.log_metric("loss", 0.5)
    record = runlab.load(run.id, root=root)
    assert again.id == run.id and record.status == "completed" and list(record.metrics("loss").steps) == [0, 1]
    assert [a["status"] for a in record.metadata["attempts"]] == ["cancelled", "completed"]
    assert record.metadata["attempts"][0]["error"] == "KeyboardInterrupt"  # why the first attempt ended


def test_a_torn_last_metrics_line_is_dropped_before_new_points_are_appended(root: Path) -> None:
    run_id = _attempt(root, "kill")
    path = runlab.load(run_id, root=root).path
    with open(path / "metrics.jsonl", "ab") as handle:
        handle.write(b'{"name":"loss","step0":10,"val')  # the crash cut this line
    with runlab.start_run(root=root, resume=run_id, capture=False) as run:
        assert run.next_step("loss") == 10
        run.log_metric("loss", 0.01)
    record = runlab.load(run_id, root=root)
    assert record.metrics("loss").steps == list(range(11))
    assert not record.metrics_report().skipped
    assert "torn last line" in read_json(path / "run.json")["attempts"][0]["repaired"]


def test_a_never_started_run_can_be_resumed(root: Path) -> None:
    from runlab.lifecycle import Run

    run = Run.create(store=runlab.Store(root), name="queued", capture=False)
    with runlab.start_run(root=root, resume=run.id, capture=False) as again:
        again.log_metric("x", 1)
    meta = runlab.load(run.id, root=root).metadata
    assert meta["status"] == "completed" and [a["status"] for a in meta["attempts"]] == ["completed"]


def test_duration_adds_up_the_attempts(root: Path) -> None:
    run_id = _attempt(root, "term")
    first = runlab.load(run_id, root=root).duration
    assert first is not None
    with runlab.start_run(root=root, resume=run_id, capture=False):
        pass
    assert runlab.load(run_id, root=root).duration >= first


def test_show_lists_the_attempts(root: Path) -> None:
    from click.testing import CliRunner

    from runlab.cli import cli
    from runlab.cli._main import _register

    _register()
    run_id = _attempt(root, "kill")
    _attempt(root, "finish")
    out = CliRunner().invoke(cli, ["--root", str(root), "show", run_id]).output
    line = next(x for x in out.splitlines() if x.startswith("attempts"))
    assert "crashed" in line and "completed" in line and line.count("pid") == 2


PLAIN = """
import time, runlab
from runlab.experiment import current_run
run = current_run()
start = run.next_step("loss")
for step in range(start, start + 5):
    runlab.log_results({"loss": 1 / (step + 1)}, step=step)
run.next_step("loss")
print("logged", start, flush=True)
if start == 0:
    time.sleep(120)
"""

FUNCTIONAL = """
import time
from runlab import Experiment

EPOCHS: int = 3
experiment = Experiment(glob=globals(), name="fx", resume="auto", root="runs")


@experiment
def main(e: Experiment) -> None:
    start = e.current_run.next_step("loss")
    for _ in range(EPOCHS):
        e.track("loss", 0.5)
    e.current_run.next_step("loss")
    print("logged", start, flush=True)
    if start == 0:
        time.sleep(120)


experiment.run_if_main()
"""


def _killed_then_finished(argv: list[str], cwd: Path) -> list[str]:
    """Run ``argv`` twice: the first attempt is killed after logging, the second completes."""
    outputs = []
    for attempt in range(2):
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line and not line.startswith("logged"):  # the experiment's own header lines
            line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=60)
            raise AssertionError(proc.stderr.read() if proc.stderr else "no output")
        if attempt == 0:
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        assert attempt == 0 or proc.returncode == 0, err
        outputs.append(line + out)
    return outputs


def test_runlab_run_resume_auto_continues_a_killed_script(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(PLAIN)
    argv = [sys.executable, "-m", "runlab", "run", "plain.py", "--root", "runs", "--name", "job", "--resume", "auto"]
    first, second = _killed_then_finished(argv, tmp_path)
    assert first.startswith("logged 0") and second.startswith("logged 5")
    [record] = runlab.runs(root=tmp_path / "runs")
    assert record.status == "completed" and record.metrics("loss").steps == list(range(10))
    assert [a["status"] for a in record.metadata["attempts"]] == ["crashed", "completed"]
    assert f"run {record.id} completed" in second


def test_experiment_resume_auto_continues_a_killed_functional_run(tmp_path: Path) -> None:
    (tmp_path / "fx.py").write_text(FUNCTIONAL)
    first, second = _killed_then_finished([sys.executable, "fx.py"], tmp_path)
    assert first.startswith("logged 0") and second.startswith("logged 3")
    [record] = runlab.runs(root=tmp_path / "runs")
    assert record.status == "completed" and record.metrics("loss").steps == list(range(6))
    assert [a["status"] for a in record.metadata["attempts"]] == ["crashed", "completed"]


def test_runlab_run_resume_refuses_a_sweep(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("X = 1\n")
    out = subprocess.run([sys.executable, "-m", "runlab", "run", "plain.py", "--sweep", "X=2,3",
                          "--resume", "auto", "--name", "x", "--root", "runs"], cwd=tmp_path, capture_output=True,
                         text=True, env=_env(), check=False)  # fmt: skip
    assert out.returncode == 2 and "--resume continues one run" in out.stderr, out.stderr
    assert not (tmp_path / "runs").exists()


def test_a_run_request_carries_resume_only_when_set() -> None:
    from runlab.experiment._request import RunOptions, RunRequest, Target

    plain = RunRequest(Target("script", Path("/tmp/x.py")), {}, RunOptions(name="a"))
    assert "resume" not in plain.to_dict()["options"]  # readable by a runlab without resume
    request = RunRequest(Target("script", Path("/tmp/x.py")), {}, RunOptions(name="a", resume="auto"))
    assert RunRequest.from_json(request.to_json()).options.resume == "auto"
