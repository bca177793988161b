"""The issue's acceptance tests, as real processes: SVC on digits with -j 2, and kill/restart of optimize."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import runlab
from runlab.store import Store
from runlab.sweep._study import load_study_file

REPO = Path(__file__).resolve().parents[2]
SVC = REPO / "examples" / "optimize" / "svc_digits.py"

SLOW = """\
import time
import runlab

XV = 0.0
SLEEP = 0.4
experiment = runlab.Experiment(namespace="slow", glob=globals())


@experiment
def main(e):
    time.sleep(SLEEP)
    return (e.XV - 1) ** 2


experiment.run_if_main()
"""


def _optimize(root: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "runlab", "--root", str(root), "optimize", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)  # type: ignore[call-overload, no-any-return]


def _wait_for(check: Callable[[], bool], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_svc_on_digits_with_two_workers_reaches_097(root: Path) -> None:
    proc = _optimize(root, str(SVC), "-n", "20", "-j", "2", "--objective", "metrics.val_acc", "--direction",
                     "maximize", "--search", "C=float(1e-2,1e3,log)", "--search", "GAMMA=float(1e-5,1e-1,log)",
                     "--seed", "0")  # fmt: skip
    out, err = proc.communicate(timeout=850)
    assert proc.returncode == 0, err
    study, runs = runlab.study("svc_digits", root=root)
    assert len(study.trials) == 20 and all(t.state.name == "COMPLETE" for t in study.trials)
    assert study.best_value >= 0.97
    assert len(runs) == 20 and sorted(r.metadata["trial"] for r in runs) == list(range(20))
    assert {r.metadata["study"] for r in runs} == {"svc_digits"} and {str(r.status) for r in runs} == {"completed"}
    best_run = next(r for r in runs if r.metadata["trial"] == study.best_trial.number)
    assert best_run.summaries["val_acc"].last == study.best_value
    assert f"best trial {study.best_trial.number}" in out


@pytest.mark.slow
def test_killing_optimize_and_starting_again_continues_the_study(tmp_path: Path, root: Path) -> None:
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    args = (str(path), "-n", "10", "-j", "2", "--search", "XV=float(-3,3)", "--seed", "0")
    store = Store(root)
    first = _optimize(root, *args)
    try:
        _wait_for(lambda: (root / ".runlab").is_dir() and len(store.runs(status="completed")) >= 2)
    finally:
        first.kill()
        first.communicate(timeout=30)
    _wait_for(lambda: len(store.runs(status="running")) == 0, timeout=60)  # the runs die with it
    before = runlab.study("slow", root=root).study.trials
    assert any(t.state.name == "RUNNING" for t in before)  # left behind by the killed process
    again = _optimize(root, str(path), "-n", "3", "-j", "2", "--search", "XV=float(-3,3)", "--seed", "0")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "left running by an optimize process that stopped" in err
    study, runs = runlab.study("slow", root=root)
    numbers = [t.number for t in study.trials]
    assert numbers == list(range(len(before) + 3))  # no duplicate trial numbers
    assert not [t for t in study.trials if t.state.name == "RUNNING"]
    # the three new trials completed (a run that finished just before the kill may not have been told)
    assert [t.state.name for t in study.trials[len(before) :]] == ["COMPLETE"] * 3
    linked = {r.metadata["trial"] for r in runs if str(r.status) == "completed"}
    assert {t.number for t in study.trials if t.state.name == "COMPLETE"} <= linked


def _interrupted_study(tmp_path: Path, root: Path, running: int, *args: str) -> tuple[Store, str]:
    """``runlab optimize`` of SLOW (60 s trials) with ``args``, Ctrl-C once ``running`` runs run; exit 130."""
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    proc = _optimize(root, str(path), "--SLEEP=60", *args, "--search", "XV=float(-3,3)", start_new_session=True,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))  # fmt: skip
    store = Store(root)
    _wait_for(lambda: (root / ".runlab").is_dir() and len(store.runs(status="running")) == running)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    return store, err


@pytest.mark.slow
def test_ctrl_c_cancels_the_running_trials_and_exits_130(tmp_path: Path, root: Path) -> None:
    store, err = _interrupted_study(tmp_path, root, 2, "-n", "6", "-j", "2")
    assert "Interrupted" in err and "Traceback" not in err
    assert "study slow in " in err and ": 2 fail; best -" in err  # the summary said 'no trials'
    assert sorted(str(r.status) for r in store.runs()) == ["cancelled", "cancelled"]
    study = runlab.study("slow", root=root).study
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"]  # none left RUNNING


def test_ctrl_c_in_an_inline_study_links_the_cancelled_run_to_its_trial(tmp_path: Path, root: Path) -> None:
    """Ctrl-C came out of the inline executor's submit(): the trial failed with no run of its own."""
    store, err = _interrupted_study(tmp_path, root, 1, "-n", "3", "-x", "inline")
    [run] = store.runs()
    assert str(run.status) == "cancelled"
    assert [t.state.name for t in runlab.study("slow", root=root).study.trials] == ["FAIL"]
    assert load_study_file(root, "slow").runs == {"0": [run.id]}, err


def test_timeout_stops_asking_for_trials(tmp_path: Path, root: Path) -> None:
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    proc = _optimize(root, str(path), "--SLEEP=0.3", "-n", "200", "--timeout", "2", "-x", "inline", "--search",
                     "XV=float(-3,3)")  # fmt: skip
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    study = runlab.study("slow", root=root).study
    assert 1 <= len(study.trials) < 200 and all(t.state.name == "COMPLETE" for t in study.trials)


@pytest.mark.slow
def test_two_optimize_processes_share_one_study(tmp_path: Path, root: Path) -> None:
    path = tmp_path / "slow.py"
    path.write_text(SLOW)
    args = (str(path), "--SLEEP=0.2", "-n", "4", "-x", "inline", "--search", "XV=float(-3,3)", "--study", "shared")
    first = _optimize(root, *args)
    _wait_for(lambda: (root / ".runlab" / "studies" / "shared.json").is_file())  # the first one created it
    second = _optimize(root, *args)
    for proc in (first, second):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    study, runs = runlab.study("shared", root=root)
    assert sorted(t.number for t in study.trials) == list(range(8))
    assert all(t.state.name == "COMPLETE" for t in study.trials) and len(runs) == 8
    record = json.loads((root / ".runlab" / "studies" / "shared.json").read_text())
    assert sorted(map(int, record["runs"])) == list(range(8))  # neither process lost the other's runs
