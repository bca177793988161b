"""Sweeps: the record, resume, retries, fail-fast, hooks, crashes and Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runlab.executors import get_executor
from runlab.params import sweep_argv
from runlab.request import RunOptions
from runlab.store import Store
from runlab.sweep import SweepRecord, build_requests, list_sweeps, load_sweep, plan_sweep, run_sweep


def sweep(script: Path, root: Path, argv: list[str], sweeps: list[str], executor: str = "local",
          **kw: Any) -> SweepRecord:  # fmt: skip
    hooks: list[tuple[str, dict[str, Any]]] = kw.pop("hooks", [])
    sweep_id, configs = plan(script, root, sweep_argv(argv, sweeps))
    options = {} if executor == "inline" else {"workers": 2}
    with get_executor(executor, settings=False, **options) as ex:
        return run_sweep(configs, sweep_id, root, ex, on_hook=lambda name, **a: hooks.append((name, a)), **kw)


def plan(script: Path, root: Path, argvs: list[list[str]]) -> tuple[str, list[Any]]:
    return plan_sweep(build_requests(script, argvs, options=RunOptions(root=str(root), capture=False)))


def statuses(record: SweepRecord) -> list[str]:
    return [e.status for e in record.entries]


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_a_sweep_links_its_runs_and_is_recorded(executor: str, script: Path, root: Path) -> None:
    hooks: list[tuple[str, dict[str, Any]]] = []
    record = sweep(script, root, ["-p", "X=range(3)"], ["MODE=ok,fail"], executor, hooks=hooks)
    assert record.state == "failed"
    assert statuses(record) == ["completed", "failed"] * 3
    store = Store(root)
    runs = {r.id: r for r in store.runs()}
    assert set(runs) == set(record.run_ids) and len(runs) == 6
    assert {r.sweep for r in runs.values()} == {record.id}
    assert sorted((r.params["X"], r.params["MODE"]) for r in runs.values()) == sorted(
        (x, m) for x in range(3) for m in ("ok", "fail")
    )
    assert [name for name, _ in hooks] == ["sweep_started", "sweep_finished"]
    assert len(hooks[0][1]["configs"]) == 6 and len(hooks[1][1]["runs"]) == 6
    again = load_sweep(root, record.id[:4])
    assert again.run_ids == record.run_ids and again.state == "failed"
    assert [r.id for r in list_sweeps(root)] == [record.id]


def test_starting_the_same_sweep_again_skips_completed_configs(script: Path, root: Path) -> None:
    first = sweep(script, root, ["-p", "X=range(4)"], ["MODE=ok,fail"])
    second = sweep(script, root, ["-p", "X=range(4)"], ["MODE=ok,fail"])
    assert second.id == first.id and second.run_ids == first.run_ids
    assert len(Store(root).runs()) == 8
    third = sweep(script, root, ["-p", "X=range(4)"], ["MODE=ok,fail"], retry_failed=True)
    assert [e.attempts for e in third.entries] == [1, 2] * 4
    completed_ids = [e.run_id for e in first.entries if e.status == "completed"]
    assert [e.run_id for e in third.entries if e.status == "completed"] == completed_ids
    assert len(Store(root).runs()) == 12


def test_max_retries_runs_a_failed_config_again(script: Path, root: Path) -> None:
    record = sweep(script, root, ["--MODE=flaky"], ["X=1,2"], max_retries=1)
    assert record.state == "completed"
    assert [e.attempts for e in record.entries] == [2, 2]
    assert sorted(r.status for r in Store(root).runs()) == ["completed", "completed", "failed", "failed"]


def test_fail_fast_cancels_the_rest(script: Path, root: Path) -> None:
    argvs = [["--MODE=fail"]] + [[f"--X={i}", "--SLEEP=20"] for i in range(1, 6)]
    sweep_id, configs = plan(script, root, argvs)
    with get_executor("local", settings=False, workers=2) as ex:
        start = time.monotonic()
        record = run_sweep(configs, sweep_id, root, ex, fail_fast=True, on_hook=lambda *a, **k: None)
    assert record.state == "cancelled"
    assert record.entries[0].status == "failed"
    assert "completed" not in statuses(record)
    assert time.monotonic() - start < 19  # the 20 s runs were interrupted, not waited for
    assert len(Store(root).runs(status="running")) == 0


def test_a_run_killing_its_process_is_crashed_and_the_sweep_goes_on(script: Path, root: Path) -> None:
    crashed = sweep(script, root, ["--X=3"], ["MODE=ok,die,fail"])
    assert statuses(crashed) == ["completed", "crashed", "failed"]
    assert crashed.state == "failed"
    run_id = crashed.entries[1].run_id
    assert run_id is not None and Store(root).load(run_id).status == "crashed"


def _driver(script: Path, sleep: float, n: int, executor: tuple[str, ...] = ("-j", "2")) -> subprocess.Popen[str]:
    """``runlab run exp.py --SLEEP=S --sweep X=0,1,... -j 2`` as a real process with Ctrl-C enabled."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    xs = ",".join(map(str, range(n)))
    cmd = [sys.executable, "-m", "runlab", "--root", "runs", "run", str(script), f"--SLEEP={sleep}", "--sweep",
           f"X={xs}", *executor]  # fmt: skip
    return subprocess.Popen(cmd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))  # fmt: skip


def _wait_for(predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_ctrl_c_cancels_the_sweep_and_exits_130(script: Path, tmp_path: Path) -> None:
    proc = _driver(script, 30, 6)
    store = Store(tmp_path / "runs")
    _wait_for(lambda: (store.root / ".runlab").is_dir() and len(store.runs(status="running")) == 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted" in err, err
    assert sorted(r.status for r in store.runs()) == ["cancelled", "cancelled"], err
    [record] = list_sweeps(store.root)
    assert record.state == "cancelled" and statuses(record).count("pending") == 4, (statuses(record), err)


def test_ctrl_c_in_an_inline_sweep_keeps_the_cancelled_run_in_the_record(script: Path, tmp_path: Path) -> None:
    """Ctrl-C came out of the inline executor's submit(): the cancelled run was left out of the sweep's record."""
    proc = _driver(script, 30, 3, ("-x", "inline"))
    store = Store(tmp_path / "runs")
    _wait_for(lambda: (store.root / ".runlab").is_dir() and len(store.runs(status="running")) == 1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    [run] = store.runs()
    assert run.status == "cancelled"
    [record] = list_sweeps(store.root)
    assert statuses(record) == ["cancelled", "pending", "pending"] and record.entries[0].run_id == run.id, err
    assert "1 cancelled" in err


def test_killing_the_sweep_and_starting_it_again_resumes(script: Path, tmp_path: Path) -> None:
    proc = _driver(script, 0.3, 8)
    store = Store(tmp_path / "runs")
    _wait_for(lambda: (store.root / ".runlab").is_dir() and len(store.runs(status="completed")) >= 3)
    proc.kill()
    proc.communicate(timeout=30)
    _wait_for(lambda: len(store.runs(status="running")) == 0, timeout=30)  # the runs die with their sweep
    [record] = list_sweeps(store.root)
    assert record.effective_state == "interrupted"
    done_before = {e.config: e.run_id for e in record.entries if e.status == "completed"}
    again = _driver(script, 0.3, 8)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    [record] = list_sweeps(store.root)
    assert record.state == "completed"
    for entry in record.entries:
        if entry.config in done_before:
            assert entry.run_id == done_before[entry.config] and entry.attempts == 1
    completed = store.runs(status="completed")
    assert sorted(r.params["X"] for r in completed) == list(range(8))  # no config completed twice
    assert len(store.runs(status="running")) == 0
