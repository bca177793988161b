"""examples/branching: Spearmint's usage runs as a user runs it and records every branch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import runlab.branch as rb

from ..conftest import REPO

EXAMPLE = REPO / "examples" / "branching" / "spearmint_usage.py"


def test_spearmint_usage_example_runs_and_records_every_branch(tmp_path: Path) -> None:
    root = tmp_path / "store"
    before = sorted(p.name for p in EXAMPLE.parent.rglob("*"))
    env = {**os.environ, "RUNLAB_ROOT": str(root)}
    out = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[1:5] == [
        "   [terse/small@0.0] answer to 'q1?'",
        "   [concise/small@0.2] answer to 'q2?'",
        "   [detailed/large@0.2] answer to 'q3?'",
        "   [detailed/large@0.8] answer to 'q4?'",
    ]
    assert "pending" in next(line for line in lines if "right after the call" in line)
    assert "pending" not in next(line for line in lines if "after drain()" in line)
    assert any("failed" in line and "ValueError" in line for line in lines)
    found = {s.experiment: s for s in rb.sessions(root=root)}
    assert set(found) == {f"__main__.{n}" for n in ("answer_round_robin", "answer_shadow", "answer_all",
                                                    "answer_canary")}  # fmt: skip
    assert all(s.status == "completed" for s in found.values())
    shadow = rb.read_branches(found["__main__.answer_shadow"])
    assert sorted((r["role"], r["status"]) for r in shadow) == [
        ("background", "failed"),
        ("background", "success"),
        ("background", "success"),
        ("primary", "success"),
    ]
    assert found["__main__.answer_canary"].params["strategy"] == "canary"
    rows = rb.read_branches(found["__main__.answer_all"])
    assert all(isinstance(r["config"]["temperature"], (int, float)) for r in rows)
    assert sorted(p.name for p in EXAMPLE.parent.rglob("*")) == before  # running it leaves the example folder as it was


def test_runlab_branch_is_the_decorator_and_the_package_in_a_fresh_process() -> None:
    from ..conftest import run_python

    out = run_python("""
import sys, runlab
assert "runlab.branch" not in sys.modules          # import runlab stays light
deco = runlab.branch(configs=[{"n": 2}], strategy="single", logger=None)
f = deco(lambda x, config: x * config["n"])
import runlab.branch
g = runlab.branch(configs=[{"n": 3}], logger=None)(lambda x, config: x * config["n"])
from runlab.branch import branch, StoreLogger
print(f(5), g(5), runlab.branch.StoreLogger is StoreLogger, callable(branch))
""")
    assert out.stdout.split() == ["10", "15", "True", "True"]
