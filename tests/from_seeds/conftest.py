"""Running the seed examples of examples/from_seeds as users run them: real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..conftest import REPO

EXAMPLES = REPO / "examples" / "from_seeds"


def run_example(args: list[str], cwd: Path, root: Path, *, module: bool = False, timeout: float = 300,
                check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python EXAMPLE args`` (``module``: ``python -m runlab args``) in ``cwd`` with ``RUNLAB_ROOT=root``."""
    env = {**os.environ, "RUNLAB_ROOT": str(root), "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "runlab", *args] if module else [sys.executable, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)
    if check:
        assert out.returncode == 0, f"{cmd} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def example_tree() -> list[str]:
    """The example folder's files, to check that running an example leaves it as it was."""
    return sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*"))
