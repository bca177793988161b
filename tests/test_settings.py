"""Numeric settings from environment variables: a bad value is refused by name, before any run exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

VARIABLES = ["RUNLAB_FLUSH_INTERVAL", "RUNLAB_HEARTBEAT_INTERVAL", "RUNLAB_STALE_AFTER"]
# each of these gave a raw ValueError traceback (text), or was taken as it was (nan, negative, zero, infinite)
BAD = ["abc", "nan", "-1", "0", "1e400"]


def _run(tmp_path: Path, variable: str, value: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "trivial.py").write_text("X = 1\n\n\ndef main():\n    return X\n")
    env = {**os.environ, variable: value}
    return subprocess.run([sys.executable, "-m", "runlab", "run", "trivial.py", "--root", "runs"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("variable", VARIABLES)
def test_a_bad_setting_exits_2_naming_it_and_makes_no_run(tmp_path: Path, variable: str, value: str) -> None:
    out = _run(tmp_path, variable, value)
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and f"Invalid {variable}={value!r}" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert not list((tmp_path / "runs").glob("*/*/run.json"))


@pytest.mark.parametrize("variable", VARIABLES)
def test_a_good_setting_is_used(tmp_path: Path, variable: str) -> None:
    out = _run(tmp_path, variable, " 2.5 ")
    assert out.returncode == 0 and "completed" in out.stdout, out.stderr
