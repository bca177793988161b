"""One sweep runs in one process at a time: the same command started twice would run every config twice."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from runlab.store import Store

SLOW = """\
import os, time
X = 0
GATE = ""

def main():
    deadline = time.time() + 120
    while not os.path.exists(GATE) and time.time() < deadline:
        time.sleep(0.05)
    return X
"""


def test_the_same_sweep_started_again_while_it_runs_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text(SLOW)
    gate, root = tmp_path / "gate", tmp_path / "runs"
    cmd = [sys.executable, "-m", "runlab", "--root", str(root), "run", str(script), "--sweep", "X=1,2", "-x", "inline",
           "-p", f"GATE={gate}"]  # fmt: skip
    first = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not list(root.glob("slow/*/run.json")):  # the first sweep's first run has started
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        second = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2, second.stderr
        assert "is running in another process" in second.stderr and second.stderr.count("\n") == 1
    finally:
        gate.touch()
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    runs = Store(root).runs()
    assert sorted(r.params["X"] for r in runs) == [1, 2] and all(r.status == "completed" for r in runs)
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)  # after it: resumes
    assert again.returncode == 0 and "2 skipped" in again.stderr, again.stderr
