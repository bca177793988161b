"""A finished run's record goes to disk on the background thread; exit waits for it.

The ``fsync`` itself cannot be observed without cutting the power, so these tests hold what can be:
the files are complete when ``finish`` returns, the queue drains (also at exit and on SIGTERM), and a
file that cannot be synced neither blocks nor stops the thread that serves every run.
"""

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
from runlab.lifecycle import _background
from runlab.lifecycle._background import sync_later, wait_synced

from ..conftest import run_python


def _pending() -> tuple[int, int]:
    scheduler = _background._SCHEDULER
    with scheduler._cond:
        return len(scheduler._syncs), scheduler._syncing


def test_finish_leaves_complete_files_and_the_queue_drains(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.data["x"] = 1
        run.log_metric("m", 2.0)
    meta = json.loads((run.path / "run.json").read_text())
    assert meta["status"] == "completed" and json.loads((run.path / "data.json").read_text()) == {"x": 1}
    wait_synced()
    assert _pending() == (0, 0)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: None, id="missing"),
        pytest.param(lambda p: os.mkfifo(p), id="fifo"),
        pytest.param(lambda p: p.mkdir(), id="folder"),
    ],
)
def test_an_odd_file_neither_blocks_nor_stops_the_thread(
    tmp_path: Path, root: Path, make: Callable[[Path], object]
) -> None:
    odd = tmp_path / "odd"
    make(odd)
    sync_later([odd, odd])
    done = time.monotonic() + 10
    while _pending() != (0, 0) and time.monotonic() < done:
        time.sleep(0.01)
    assert _pending() == (0, 0), "the background thread is stuck on the odd file"
    with runlab.start_run(root=root, capture=False) as run:  # the thread still serves runs
        run.log_metric("m", 1.0)
    wait_synced()
    assert json.loads((run.path / "run.json").read_text())["status"] == "completed"


def test_a_file_that_cannot_be_synced_is_reported_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # fsync of a FIFO fails with EINVAL
    result = run_python(
        "import sys; from pathlib import Path; from runlab.lifecycle._background import sync_later, wait_synced;"
        "sync_later([Path(sys.argv[1])] * 3); wait_synced()",
        str(fifo),
    )
    lines = [line for line in result.stderr.splitlines() if "could not force" in line]
    assert len(lines) == 1 and "Invalid argument" in lines[0], result.stderr


@pytest.mark.parametrize("ending", ["exit", "sigterm"])
def test_the_process_ends_only_after_the_queue_is_drained(root: Path, ending: str) -> None:
    """Exit hooks (and runlab's SIGTERM path, which ends the process without them) wait for the syncs."""
    code = f"""
import os, signal, sys, time, runlab
from runlab.lifecycle import _background
drained = []
original = _background._force_to_disk
def spy(paths):  # a slow disk: without the wait the process would end first
    time.sleep(0.3)
    original(paths)
    drained.extend(str(p) for p in paths)
    if any(p.name == "run.json" for p in paths):
        sys.__stdout__.write("synced " + " ".join(sorted({{os.path.basename(p) for p in drained}})) + "\\n")
        sys.__stdout__.flush()
_background._force_to_disk = spy
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    run.data["x"] = 1
    if {ending!r} == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    expected = -signal.SIGTERM if ending == "sigterm" else 0
    assert result.returncode == expected, result.stderr
    assert "synced data.json run.json" in result.stdout, (result.stdout, result.stderr)
    [folder] = [p for p in root.glob("default/*") if p.is_dir()]
    status = json.loads((folder / "run.json").read_text())["status"]
    assert status == ("cancelled" if ending == "sigterm" else "completed")


def test_a_forked_child_does_not_sync_its_parents_files(tmp_path: Path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    path = tmp_path / "f"
    path.write_text("x")
    scheduler = _background._SCHEDULER
    with scheduler._cond:  # hold the thread off, so the path is still queued when the child forks
        scheduler._syncs.append(path)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if not _background._SCHEDULER._syncs else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    wait_synced()
    assert _pending() == (0, 0)
