"""Run states, transitions, errors, signals, crashes and output capture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import runlab
from runlab.store import read_metrics

from ..conftest import run_python


def test_completed_run_records_times_and_duration(root: Path) -> None:
    with runlab.start_run(params={"a": 1}, root=root, capture=False) as run:
        assert run.status == "running"
        time.sleep(0.05)
    meta = json.loads((run.path / "run.json").read_text())
    assert meta["status"] == "completed"
    assert meta["started"] and meta["ended"] and meta["created"] <= meta["started"] <= meta["ended"]
    assert meta["duration"] >= 0.05
    assert meta["error"] is None
    rec = runlab.load(run.id, root=root)
    assert rec.status == "completed" and rec.duration == pytest.approx(meta["duration"])


def test_created_state_before_start(root: Path) -> None:
    from runlab.lifecycle import Run

    run = Run.create(store=runlab.Store(root), namespace="ns", capture=False)
    assert run.status == "created"
    assert runlab.load(run.id, root=root).status == "created"
    run.start()
    assert runlab.load(run.id, root=root).status == "running"
    run.complete()
    assert runlab.load(run.id, root=root).status == "completed"


def test_finishing_twice_raises_run_finished_error(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        pass
    with pytest.raises(runlab.RunFinishedError, match="already finished with status 'completed'"):
        run.finish("failed")
    with pytest.raises(runlab.RunFinishedError):
        run.log_metric("x", 1.0)
    with pytest.raises(runlab.RunFinishedError):
        run.save_text("a.txt", "late")
    assert runlab.load(run.id, root=root).status == "completed"


def test_invalid_transition_is_refused(root: Path) -> None:
    from runlab.lifecycle import Run

    run = Run.create(store=runlab.Store(root), capture=False)
    with pytest.raises(runlab.InvalidTransitionError, match="cannot go from 'created' to 'completed'"):
        run.finish("completed")


def test_exception_marks_failed_with_type_message_traceback(root: Path) -> None:
    with pytest.raises(ZeroDivisionError), runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 0.5)
        1 / 0  # noqa: B018
    meta = json.loads((run.path / "run.json").read_text())
    assert meta["status"] == "failed"
    assert meta["error"]["type"] == "ZeroDivisionError"
    assert meta["error"]["message"] == "division by zero"
    assert "1 / 0" in meta["error"]["traceback"]
    rec = runlab.load(run.id, root=root)
    assert rec.status == "failed" and rec.error == "ZeroDivisionError"
    assert rec.metrics("loss").values == [0.5], "metrics logged before the failure are kept"


def test_keyboard_interrupt_marks_cancelled_and_propagates(root: Path) -> None:
    with pytest.raises(KeyboardInterrupt), runlab.start_run(root=root, capture=False) as run:
        raise KeyboardInterrupt
    assert runlab.load(run.id, root=root).status == "cancelled"


def test_sigterm_marks_cancelled_then_process_dies_of_sigterm(root: Path) -> None:
    code = f"""
import runlab, sys, time
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    run.log_metric("x", 1.0)
    print(run.id, flush=True)  # the parent signals once it reads this line
    time.sleep(30)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == -signal.SIGTERM
    rec = runlab.load(run_id, root=root)
    assert rec.status == "cancelled"
    assert rec.metrics("x").values == [1.0]


def test_sigkill_is_reported_crashed_and_flushed_metrics_survive(root: Path) -> None:
    code = f"""
import runlab, time
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    print(run.id, flush=True)
    for i in range(10_000_000):
        run.log_metric("loss", 1.0 / (i + 1))
        if i == 5000:
            print("logged", flush=True)
            time.sleep(1.5)  # the flusher writes at least every second
            print("flushed", flush=True)
            time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert proc.stdout.readline().strip() == "logged"
    assert proc.stdout.readline().strip() == "flushed"
    assert runlab.load(run_id, root=root).status == "running"
    proc.kill()
    proc.wait(timeout=10)
    rec = runlab.load(run_id, root=root)
    assert rec.status == "crashed"
    assert [r.id for r in runlab.runs(status="crashed", root=root)] == [run_id]
    assert [r.id for r in runlab.runs(where="status == 'crashed'", root=root)] == [run_id]
    meta = json.loads((rec.path / "run.json").read_text())  # valid JSON after the kill
    assert meta["status"] == "running" and meta["heartbeat"]["pid"] == proc.pid
    series = rec.metrics("loss")
    assert len(series) == 5001
    assert series.steps == list(range(5001))
    # the index picks the crash up again after a rebuild
    runlab.Store(root).rebuild_index()
    assert runlab.load(run_id, root=root).status == "crashed"


def test_stale_heartbeat_from_another_host_is_crashed(root: Path) -> None:
    from runlab.store import effective_status

    now = time.time()
    assert effective_status("running", 12345, "elsewhere", now) == "running"
    assert effective_status("running", 12345, "elsewhere", now - 3600) == "crashed"
    assert effective_status("completed", 1, "elsewhere", now - 3600) == "completed"


def test_heartbeat_updates_run_json_and_index(root: Path) -> None:
    code = f"""
import runlab, time
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    run.log_metric("m", 2.0)
    print(run.id, flush=True)
    time.sleep(2.0)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "RUNLAB_HEARTBEAT_INTERVAL": "0.5"})  # fmt: skip
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    time.sleep(1.2)
    rec = runlab.load(run_id, root=root)
    beat = rec.metadata["heartbeat"]
    assert beat["pid"] == proc.pid and beat["host"] == os.uname().nodename
    assert time.time() - beat["time"] < 1.5
    assert rec.summaries["m"].last == 2.0, "heartbeats carry metric summaries into the index"
    assert proc.wait(timeout=20) == 0


def test_out_log_receives_output_while_terminal_still_shows_it(root: Path) -> None:
    code = f"""
import runlab, sys, time
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    print("hello stdout", flush=True)
    print("hello stderr", file=sys.stderr, flush=True)
    print(run.path, flush=True)
    time.sleep(1.0)
print("after the run")
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "hello stdout\n"
    path = Path(proc.stdout.readline().strip())
    log = (path / "out.log").read_text()  # while the run is still going
    assert "hello stdout\n" in log and "hello stderr\n" in log
    out, err = proc.communicate(timeout=20)
    assert "after the run" in out and "hello stderr" in err
    assert "after the run" not in (path / "out.log").read_text()


def test_many_runs_in_one_process_restore_streams(root: Path) -> None:
    before = sys.stdout
    for i in range(3):
        with runlab.start_run(root=root, capture=False) as run:
            print(f"run {i}")
        assert f"run {i}" in (run.path / "out.log").read_text()
    assert sys.stdout is before


def test_nested_runs_finish_inner_first(root: Path) -> None:
    with runlab.start_run(name="outer", root=root, capture=False) as outer:
        with runlab.start_run(name="inner", root=root, capture=False) as inner:
            inner.log_metric("a", 1)
        assert inner.status == "completed" and outer.status == "running"
    assert outer.status == "completed"


def test_run_json_is_replaced_atomically_never_torn(root: Path) -> None:
    """Readers polling run.json during many rewrites never see a partial file."""
    code = f"""
import runlab
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    print(run.path, flush=True)
    for i in range(300):
        run.log_params({{"i": i, "blob": "x" * 5000}})
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().strip()) / "run.json"
    reads = 0
    while proc.poll() is None:
        json.loads(path.read_text())
        reads += 1
    assert proc.returncode == 0 and reads > 0
    assert json.loads(path.read_text())["params"]["i"]["value"] == 299


def test_metrics_flushed_at_least_every_second_while_running(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 0.1)
        time.sleep(1.1)
        series, _ = read_metrics(run.path / "metrics.jsonl")
        assert series["loss"].values == [0.1]


def test_trivial_run_in_a_fresh_process(root: Path) -> None:
    run_python(f"""
import runlab
with runlab.start_run(params={{"a": 1, "b": 2.0, "c": "x"}}, root={str(root)!r}) as run:
    run.log_metric("m", 1.0)
""")
    (rec,) = runlab.runs(root=root)
    assert rec.params == {"a": 1, "b": 2.0, "c": "x"} and rec.summaries["m"].count == 1


@pytest.mark.parametrize(
    ("tail", "status", "code"),
    [("", "completed", 0), ("raise ValueError('late')", "failed", 1), ("raise KeyboardInterrupt", "cancelled", 1)],
)
def test_run_left_open_is_finished_at_exit(root: Path, tail: str, status: str, code: int) -> None:
    result = run_python(
        f"""
import runlab
run = runlab.start_run(root={str(root)!r}, capture=False)
print(run.id, flush=True)
for i in range(1000):
    run.log_metric("x", i)
{tail}
""",
        check=False,
    )
    assert result.returncode in (code, 130 if status == "cancelled" else code)
    rec = runlab.load(result.stdout.split()[0], root=root)
    assert rec.status == status
    assert rec.summaries["x"].count == 1000, "buffered metrics are flushed at exit"
