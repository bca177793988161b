"""``runlab rerun`` gives a script its recorded values back: globals as globals, block keys to the block.

A script whose ``with runlab.run()`` block joins the run of ``runlab run`` is recorded as context
style; its rerun injected nothing, so its globals fell back to their defaults while the record
showed the recorded values. Every script here prints what it saw; the test reads ``out.log``.
Also: ``experiment-info`` of an :class:`~runlab.cli.ExperimentCLI` shows a script's parameters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import ExperimentCLI
from runlab.cli._main import _register, cli

from ..conftest import forget_stores

_register()

SCRIPTS = {
    "globals": """
        steps = 3
        lr = 0.1
        print(f"seen steps={steps} lr={lr}")
        """,
    "globals and block": """
        import runlab
        steps = 3
        with runlab.run(params={"lr": 0.1}) as run:
            print(f"seen steps={steps} lr={run.params['lr']}")
        """,
    "block": """
        import runlab
        with runlab.run(params={"steps": 3, "lr": 0.1}) as run:
            print(f"seen steps={runlab.get_param('steps')} lr={run.params['lr']}")
        """,
}

RERUNS = {  # rerun arguments -> what the script sees and the record holds
    "same values": ([], "seen steps=5 lr=0.5", {"steps": 5, "lr": 0.5}),
    "an override": (["--steps=7"], "seen steps=7 lr=0.5", {"steps": 7, "lr": 0.5}),
}


def _write(folder: Path, source: str) -> Path:
    path = folder / "s.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def _records(root: Path) -> list[runlab.RunRecord]:
    forget_stores()
    return sorted(runlab.runs(root=root), key=lambda r: str(r.metadata.get("created") or r.path.name))


def _seen(record: runlab.RunRecord) -> list[str]:
    return [line for line in (record.path / "out.log").read_text().splitlines() if line.startswith("seen ")]


@pytest.mark.parametrize("rerun", list(RERUNS))
@pytest.mark.parametrize("kind", list(SCRIPTS))
def test_a_rerun_runs_the_script_with_the_recorded_values(tmp_path: Path, root: Path, kind: str, rerun: str) -> None:
    script = _write(tmp_path, SCRIPTS[kind])
    first = subprocess.run(
        [sys.executable, "-m", "runlab", "--root", str(root), "run", str(script), "--steps=5", "--lr=0.5"],
        capture_output=True, text=True, env={**os.environ, "RUNLAB_QUIET": "1"}, timeout=120,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "seen steps=5 lr=0.5" in first.stdout
    [original] = _records(root)
    argv, expected, params = RERUNS[rerun]
    result = CliRunner().invoke(cli, ["--root", str(root), "rerun", original.id, *argv], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [again] = [r for r in _records(root) if r.id != original.id]
    assert again.metadata["rerun_of"] == original.id
    assert {k: again.params[k] for k in params} == params
    assert _seen(again) == [expected]  # the old code: "seen steps=3 ..." for a script with globals and a block


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("globals and block", ["  steps (int) = 3", "  lr (float) = 0.1"]),
        ("block", ["  steps (int) = 3", "  lr (float) = 0.1"]),
    ],
)
def test_experiment_info_shows_a_scripts_parameters(tmp_path: Path, kind: str, expected: list[str]) -> None:
    folder = tmp_path / "experiments"
    folder.mkdir()
    (folder / "s.py").write_text(textwrap.dedent(SCRIPTS[kind]).lstrip("\n"), encoding="utf-8")
    (folder / "fn.py").write_text(
        "from runlab import Experiment\nLR = 0.1\nsteps = 3\nexperiment = Experiment(glob=globals())\n",
        encoding="utf-8",
    )
    group = ExperimentCLI("x", folder, tmp_path / "store")
    info = CliRunner().invoke(group, ["experiment-info", "s"], catch_exceptions=False)
    assert info.exit_code == 0, info.output
    assert info.output.split("Parameters:\n")[1].splitlines() == expected
    functional = CliRunner().invoke(group, ["experiment-info", "fn"], catch_exceptions=False)
    assert functional.output.split("Parameters:\n")[1].splitlines() == ["  LR (float) = 0.1"]  # UPPERCASE only
