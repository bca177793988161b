"""A trivial experiment script for sweeps."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "exp.py"
    path.write_text(SCRIPT)
    return path
