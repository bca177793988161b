"""Shutdown: background branches are awaited a bounded time at exit, then cancelled and recorded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import runlab.branch as rb
from runlab.branch import InMemoryLogger

from ..conftest import run_python

SCRIPT = """
import sys, threading, time, runlab

@runlab.branch(configs=[{{"name": "primary"}}, {{"name": "quick"}}, {{"name": "stuck"}}], strategy="shadow",
               logger=runlab.branch.StoreLogger(root=sys.argv[1]))
def work(config):
    if config["name"] == "quick":
        time.sleep(0.2)
    if config["name"] == "stuck":
        threading.Event().wait()   # never returns
    return config["name"]

print(work(), flush=True)
{extra}
"""


def _rows(root: Path) -> dict[str, dict[str, object]]:
    (session,) = rb.sessions(root=root)
    assert session.status == "completed"
    return {str(r["config"]["name"]): r for r in rb.read_branches(session)}  # type: ignore[index]


def test_exit_waits_a_bounded_time_then_records_the_rest_as_cancelled(tmp_path: Path) -> None:
    root = tmp_path / "store"
    started = time.monotonic()
    out = run_python(SCRIPT.format(extra=""), str(root), env={"RUNLAB_BRANCH_EXIT_TIMEOUT": "3"}, timeout=120)
    assert out.stdout.strip() == "primary"
    assert time.monotonic() - started < 100  # exited although a branch never returns
    rows = _rows(root)
    assert rows["primary"]["status"] == "success" and rows["quick"]["status"] == "success"  # finished in time
    stuck = rows["stuck"]
    assert stuck["status"] == "cancelled" and stuck["role"] == "background"
    assert "3 s after shutdown" in stuck["exception"]["message"]  # type: ignore[index]


def test_shutdown_called_early_closes_loggers_and_drops_late_outcomes(tmp_path: Path) -> None:
    root = tmp_path / "store"
    extra = "print(len(runlab.branch.shutdown(timeout=0.5)), flush=True)\nprint('after', flush=True)"
    out = run_python(SCRIPT.format(extra=extra), str(root), env={"RUNLAB_BRANCH_EXIT_TIMEOUT": "60"}, timeout=120)
    assert out.stdout.split() == ["primary", "1", "after"]
    assert _rows(root)["stuck"]["status"] == "cancelled"


def test_async_background_branches_cut_off_by_the_loop_end_are_recorded(tmp_path: Path) -> None:
    code = """
import asyncio, sys, runlab

@runlab.branch(configs=[{"d": 0}, {"d": 3600}], strategy="shadow", logger=runlab.branch.StoreLogger(root=sys.argv[1]))
async def nap(config):
    await asyncio.sleep(config["d"])
    return config["d"]

print(asyncio.run(nap()))
"""
    root = tmp_path / "store"
    out = run_python(code, str(root), timeout=120)
    assert out.stdout.strip() == "0"
    (session,) = rb.sessions(root=root)
    statuses = sorted(str(r["status"]) for r in rb.read_branches(session))
    assert statuses == ["cancelled", "success"] and session.status == "completed"


def test_shutdown_in_process_returns_the_cancelled_branches() -> None:
    release = threading.Event()
    log = InMemoryLogger()

    @rb.branch(configs=[{"n": 0}, {"n": 1}], strategy="shadow", logger=log)
    def f(config: dict[str, int]) -> int:
        if config["n"]:
            release.wait(30)
        return config["n"]

    try:
        assert f() == 0
        cancelled = rb.shutdown(timeout=0.05)
        assert [b.config["n"] for b in cancelled] == [1]
        assert log.closed and [r["status"] for r in log.records] == ["success", "cancelled"]
    finally:
        release.set()
    assert f.branching.join(30) == []
    assert cancelled[0].status is rb.BranchStatus.CANCELLED  # the late outcome was dropped


def test_the_background_pool_is_bounded_and_queues_the_rest() -> None:
    from runlab.branch._background import Worker, run_in_thread

    pool = Worker("test", limit=2)
    release = threading.Event()
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def job() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(30)
        with lock:
            running[0] -= 1

    events = [run_in_thread(pool, job) for _ in range(6)]
    deadline = time.monotonic() + 30
    while running[0] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert running[0] == 2  # the other four wait in the queue
    release.set()
    assert all(e.wait(30) for e in events)
    assert peak[0] == 2

    def boom() -> None:
        raise RuntimeError("a job's own error")

    assert run_in_thread(pool, boom).wait(30)
    assert run_in_thread(pool, lambda: None).wait(30)  # the pool still works


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RUNLAB_BRANCH_EXIT_TIMEOUT", "nan"),   # waited forever at exit, spinning
        ("RUNLAB_BRANCH_EXIT_TIMEOUT", "-5"),
        ("RUNLAB_BRANCH_EXIT_TIMEOUT", "ten"),   # a raw ValueError when importing runlab.branch
        ("RUNLAB_BRANCH_THREADS", "0"),          # background branches never started
        ("RUNLAB_BRANCH_THREADS", "many"),
    ],
)  # fmt: skip
def test_a_bad_environment_setting_is_refused_by_name(tmp_path: Path, variable: str, value: str) -> None:
    out = run_python(SCRIPT.format(extra=""), str(tmp_path / "store"), env={variable: value}, timeout=60, check=False)
    assert out.returncode == 1 and out.stdout == ""
    assert f"BranchSettingError: Invalid {variable}={value!r}: expected" in out.stderr
    assert "Fix or unset the environment variable." in out.stderr
    cli = subprocess.run([sys.executable, "-m", "runlab", "branch", "list", "--root", str(tmp_path / "store")],
                         capture_output=True, text=True, env={**os.environ, variable: value}, timeout=60,
                         check=False)  # fmt: skip
    assert cli.returncode == 2 and f"Invalid {variable}={value!r}" in cli.stderr and "Traceback" not in cli.stderr


@pytest.mark.parametrize("timeout", [float("nan"), -1, "5", True])
def test_a_timeout_that_cannot_be_waited_is_refused(timeout: Any) -> None:
    @rb.branch(configs=[{"n": 1}], strategy="single", logger=None)
    def f(config: dict[str, int]) -> int:
        return config["n"]

    async def drain() -> None:
        await f.branching.ajoin(timeout)  # type: ignore[attr-defined]

    for wait in (lambda: f.branching.join(timeout), lambda: asyncio.run(drain())):  # type: ignore[attr-defined]
        with pytest.raises(rb.BranchSettingError, match=r"Invalid timeout .*: expected a number of seconds >= 0"):
            wait()
    assert f.branching.join(float("inf")) == []  # type: ignore[attr-defined]  # infinity: no limit
