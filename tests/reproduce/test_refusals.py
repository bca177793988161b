"""``runlab reproduce`` on runs it cannot run again, and on a reproduced run whose process dies (real subprocesses)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import runlab
from runlab.lifecycle._reproducible import find_uv

pytestmark = pytest.mark.skipif(find_uv() is None, reason="uv is not installed (pip install 'runlab[reproduce]')")

EXPERIMENT = """
import os
from runlab import Experiment

SEED: int = 3

experiment = Experiment(glob=globals())

@experiment
def main(e):
    if os.sep + os.path.join(".runlab", "envs") in os.environ.get("VIRTUAL_ENV", ""):
        os._exit(3)  # the reproduced run's process dies (killed, out of memory) without a result
    e.track("y", 2 * e.SEED)

experiment.run_if_main()
"""

CONTEXT = """
import sys
import runlab

with runlab.start_run(root=sys.argv[1], params={"x": 3}, reproducible=True) as run:
    pass
print(run.id)
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runlab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A store with a reproducible functional run and a reproducible start_run run (recorded once: seconds)."""
    project = tmp_path_factory.mktemp("recorded")
    root = project / "store"
    (project / "exp.py").write_text(EXPERIMENT)
    (project / "ctx.py").write_text(CONTEXT)
    done = _cli("run", "exp.py", "--__REPRODUCIBLE__=True", "--root", str(root), cwd=project)
    assert done.returncode == 0, done.stderr
    [functional] = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("run ")]
    done = subprocess.run([sys.executable, "ctx.py", str(root)], cwd=project, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    return root, functional, done.stdout.split()[-1]


def _folder(root: Path, run_id: str) -> Path:
    [folder] = root.glob(f"*/*_{run_id}")
    return folder


def _forge_id(root: Path, run_id: str) -> str:
    """Edit the run's id in run.json to a path (a run folder copied in from elsewhere), and index it."""
    file = _folder(root, run_id) / "run.json"
    meta = json.loads(file.read_text())
    meta["id"] = "../../../victim"
    file.write_text(json.dumps(meta))
    runlab.Store(root).rebuild_index()
    return "../../../victim"


def _drop_experiment_file(root: Path, run_id: str) -> str:
    (_folder(root, run_id) / "code" / "exp.py").unlink()
    return run_id


@pytest.mark.parametrize(
    ("which", "damage", "args", "code", "message"),
    [
        # the environment folder is cleared first: an id that is a path cleared a virtual environment outside
        # the store (here <tmp>/victim), then built the run's environment there; the index now refuses such an id
        # (the run is indexed under its folder's ID) and reproduce refuses one that reaches it anyway
        ("functional", _forge_id, ["--env-only"], 2, "No run matches '../../../victim'"),
        ("functional", _forge_id, [], 2, "No run matches '../../../victim'"),
        # was: "...code/exp.py, which no longer exists. Restore the file (the run's code/ folder holds a snapshot)"
        ("functional", _drop_experiment_file, [], 2, "archived experiment file "),
        # was: "cannot be rerun ... Start it again from your code", with no word of --env-only
        ("context", None, [], 2, "records no experiment file to run again. 'runlab reproduce "),
        # was exit 2 (bad input) for a run that died: "did not report a result"
        ("functional", None, [], 1, "The reproduced run's process ended with exit status 3 without reporting"),
    ],
)  # fmt: skip
def test_reproduce_refuses_or_reports_in_one_line(
    which: str,
    damage: Callable[[Path, str], str] | None,
    args: list[str],
    code: int,
    message: str,
    recorded: tuple[Path, str, str],
    tmp_path: Path,
) -> None:
    root = tmp_path / "a" / "b" / "store"
    shutil.copytree(recorded[0], root)
    run_id = recorded[1] if which == "functional" else recorded[2]
    ref = damage(root, run_id) if damage is not None else run_id
    victim = tmp_path / "a" / "victim"  # <root>/.runlab/envs/../../../victim
    subprocess.run([str(find_uv()), "venv", "--quiet", str(victim)], check=True, timeout=120)
    (victim / "precious.txt").write_text("keep me")

    done = _cli("reproduce", ref, *args, "--root", str(root), cwd=tmp_path)
    assert done.returncode == code, done.stdout + done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert message in error and "Traceback" not in done.stderr
    assert (victim / "precious.txt").read_text() == "keep me"
    if code == 2:  # refused before an environment or a new run was made
        assert not (root / ".runlab" / "envs").exists()
        assert len(runlab.Store(root).runs()) == 2
