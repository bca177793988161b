"""The sweep and workflow examples run as documented and leave the repository untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runlab.store import Store

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def runlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "runlab", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300, check=False)  # fmt: skip


def test_simple_workflow_script(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, str(EXAMPLES / "workflows" / "simple_workflow.py")], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "completed with 3 runs" in result.stdout and "fitted y = 1.99" in result.stdout


def test_pipeline_file_and_sweep_examples(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    flow = runlab("--root", str(root), "workflow", "run", str(EXAMPLES / "workflows" / "pipeline.yml"), cwd=tmp_path)
    assert flow.returncode == 0, flow.stderr
    sweep = runlab("--root", str(root), "run", str(EXAMPLES / "sweeps" / "train.py"), "-c",
                   str(EXAMPLES / "sweeps" / "sweep.yml"), "-j", "2", cwd=tmp_path)  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    runs = Store(root).runs()
    assert len(runs) == 3 + 6
    assert not any(p.name == "runs" for p in (EXAMPLES / "sweeps").iterdir())
    assert not any(p.name == "runs" for p in (EXAMPLES / "workflows").iterdir())
