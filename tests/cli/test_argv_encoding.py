"""Command-line arguments that are not UTF-8 (bytes Python keeps as lone surrogates) are refused up front."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import runlab

BAD = os.fsdecode(b"bad\xff")  # what Python makes of the argument bytes b"bad\xff"


@pytest.mark.parametrize(
    "args",
    [["tag", BAD, "{id}"], ["note", "{id}", BAD], ["list", "--where", f"name == '{BAD}'"], ["show", BAD],
     ["run", "exp.py", "-p", f"X={BAD}"], ["run", "exp.py", "--name", BAD]],
    ids=["tag", "note", "where", "show", "param", "name"],
)  # fmt: skip
def test_an_argument_that_is_not_utf8_exits_2_in_one_line(tmp_path: Path, args: list[str]) -> None:
    """`runlab tag` and `runlab note` with such an argument crashed with a traceback (TypeError from the
    JSON writer, UnicodeEncodeError from SQLite)."""
    (tmp_path / "exp.py").write_text("X = 'a'\n\n\ndef main():\n    return X\n")
    with runlab.start_run(root=tmp_path / "runs", capture=False, name="first") as run:
        pass
    before = (run.path / "run.json").read_bytes()
    argv = [a.replace("{id}", run.id) for a in args]
    out = subprocess.run([sys.executable, "-m", "runlab", *argv, "--root", "runs"], cwd=tmp_path,
                         capture_output=True, timeout=120)  # fmt: skip
    err = out.stderr.decode(errors="replace")
    assert out.returncode == 2 and err.count("\n") == 1 and "not valid UTF-8" in err, err
    assert (run.path / "run.json").read_bytes() == before
    assert len(list((tmp_path / "runs").glob("*/*/run.json"))) == 1  # no run was made
