"""A killed sweep whose run uses a fork ``multiprocessing.Pool``: no pool worker outlives the run.

When the run process sent SIGTERM to its process group and then ended itself, the pool's worker-handler
thread could fork replacements for the workers that SIGTERM had just ended, in between: those were not in
the group when it was signalled, and waited for ever on the task queue's lock, held by a worker that died.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from runlab.store import Store

# The run's stdout: a flush in the run process's main thread (its last ones come after its run recorded
# itself cancelled) lasts until the pool has started a third worker (a replacement) or 1.5 s, so the pool
# refills itself while the run process ends, every time.
POOL = """\
import multiprocessing, os, sys, threading, time
X = 0

def started():
    with open(f"workers-{X}.pids", "a") as out:
        out.write(f"{os.getpid()}\\n")

def workers():
    try:
        return open(f"workers-{X}.pids").read().split()
    except FileNotFoundError:
        return []

class SlowToEnd:
    def __init__(self, stream):
        self.stream = stream
    def write(self, text):
        return self.stream.write(text)
    def flush(self):  # the pool flushes too, before it forks a worker: only the run's own flush waits
        deadline = time.monotonic() + 1.5 if threading.current_thread() is threading.main_thread() else 0
        while len(workers()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.stream.flush()
    def __getattr__(self, name):
        return getattr(self.stream, name)

pool = multiprocessing.get_context("fork").Pool(2, initializer=started)  # one worker sleeps, one waits for a task
sys.stdout = SlowToEnd(sys.stdout)
pool.map(time.sleep, [60.0])
"""


def _wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    alive = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
        except (OSError, psutil.Error):
            pass
    return alive


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_pool_worker_outlives_a_killed_sweep(sig: int, tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(POOL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "runlab", "--root", "runs", "run", str(script), "--sweep", "X=0", "-j", "1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    store = Store(tmp_path / "runs")
    pids = tmp_path / "workers-0.pids"
    group = 0
    try:
        assert _wait_for(lambda: pids.is_file() and len(pids.read_text().split()) == 2, timeout=60)
        [run] = store.runs(status="running")
        group = run.metadata["heartbeat"]["pid"]  # the run process leads its process group
        proc.send_signal(sig)
        proc.wait(timeout=30)
        ended = _wait_for(lambda: not _group(group), timeout=10)
        left = _group(group)
    finally:
        proc.kill()
        if group:
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
    assert ended, f"processes of the run's group outlived it: {left}"
    assert [str(r.status) for r in store.runs()] == ["cancelled"]
