"""Reproducible mode's capture and the environment rebuilt from it (real uv, real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import runlab
from runlab.lifecycle._reproducible import find_uv
from runlab.reproduce._env import ReproduceError, build_environment, read_dependencies

pytestmark = pytest.mark.skipif(find_uv() is None, reason="uv is not installed (pip install 'runlab[reproduce]')")

EXPERIMENT = """
import sys
import runlab
from helpers.maths import double

with runlab.start_run(root=sys.argv[1], params={"x": 3}, reproducible=True) as run:
    run.log_metric("y", double(3))
print(run.id)
"""


def record_run(tmp_path: Path) -> tuple[Path, runlab.RunRecord]:
    project = tmp_path / "project"
    (project / "helpers").mkdir(parents=True)
    (project / "helpers" / "__init__.py").write_text("")
    (project / "helpers" / "maths.py").write_text("def double(x):\n    return 2 * x\n")
    (project / "unused.py").write_text("VALUE = 1\n")
    (project / "exp.py").write_text(EXPERIMENT)
    root = tmp_path / "store"
    done = subprocess.run([sys.executable, "exp.py", str(root)], cwd=project, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    return root, runlab.load(done.stdout.strip(), root=root)


def _egg_infos(project: Path) -> set[Path]:
    return set(project.glob("*.egg-info")) | set(project.glob("src/*.egg-info"))


@pytest.mark.slow
def test_reproducible_run_saves_dependencies_sources_and_local_modules(tmp_path: Path) -> None:
    project = Path(runlab.__file__).resolve().parents[2]  # the editable runlab whose source is saved
    eggs = _egg_infos(project)
    _, record = record_run(tmp_path)
    assert _egg_infos(project) == eggs  # building the source left the user's tree as it was
    meta = json.loads((record.path / "run.json").read_text())
    assert meta["reproducible"]["problems"] == []
    deps = read_dependencies(record.path, record.id)
    assert deps["python"] == ".".join(map(str, sys.version_info[:3]))
    runlab_dep = deps["distributions"]["runlab"]
    assert runlab_dep["imported"] and runlab_dep["needed"] and runlab_dep["editable"]
    assert runlab_dep["archive"].startswith("sources/runlab-")
    assert (record.path / "env" / runlab_dep["archive"]).is_file()
    assert deps["distributions"]["pydantic"]["needed"]  # required by runlab, transitively
    assert not deps["distributions"]["pytest"]["needed"]  # installed, never imported by the run
    assert sorted(p.relative_to(record.path / "code").as_posix() for p in (record.path / "code").rglob("*.py")) == [
        "exp.py", "helpers/__init__.py", "helpers/maths.py"]  # fmt: skip

    env = build_environment(record.path, record.id, tmp_path / "env")
    assert any(p.endswith(".tar.gz") for p in env.packages)
    check = subprocess.run([str(env.python), "-c", "import runlab, sys; print(runlab.__file__, sys.prefix)"],
                           capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert str(tmp_path / "env") in check.stdout  # runlab installed from the saved source, not the editable tree
    assert env.activate == f"source {tmp_path / 'env' / 'bin' / 'activate'}"


def test_a_run_recorded_without_reproducible_mode_says_what_is_missing(tmp_path: Path) -> None:
    with runlab.start_run(root=tmp_path / "s", capture=True) as run:
        pass
    with pytest.raises(ReproduceError, match=r"recorded without reproducible mode.*--__REPRODUCIBLE__=True"):
        build_environment(run.path, run.id, tmp_path / "env")
    assert not (tmp_path / "env").exists()


FUNCTIONAL = """
from runlab import Experiment
from helpers.maths import double

SEED: int = 3

experiment = Experiment(glob=globals())

@experiment
def main(e):
    e.track("y", double(e.SEED))
    return double(e.SEED)

experiment.run_if_main()
"""

SCRIPT = """
from helpers.maths import double

seed = 3

def main():
    import runlab
    runlab.log_results({"y": double(seed)}, step=0)
    return double(seed)
"""

SUBMIT_SCRIPT = """
import sys
from pathlib import Path
from runlab.request import RunOptions, RunRequest, Target, execute
result = execute(RunRequest(Target("script", Path(sys.argv[1]), "main"), {"seed": 4},
                            RunOptions(root=sys.argv[2], reproducible=True)))
print(result.run_id)
"""


def _project(tmp_path: Path, name: str, text: str) -> Path:
    project = tmp_path / "project"
    (project / "helpers").mkdir(parents=True, exist_ok=True)
    (project / "helpers" / "__init__.py").write_text("")
    (project / "helpers" / "maths.py").write_text("def double(x):\n    return 2 * x\n")
    (project / name).write_text(text)
    return project


def _run_id(stdout: str) -> str:
    """The id from ``runlab run``'s ``run ID STATE FOLDER`` line."""
    [line] = [line for line in stdout.splitlines() if line.startswith("run ")]
    return line.split()[1]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runlab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("style", ["functional", "config", "script", "script-cli"])
def test_reproduce_reruns_the_archived_code_in_a_new_environment(tmp_path: Path, style: str) -> None:
    root = tmp_path / "store"
    if style == "functional":
        project = _project(tmp_path, "exp.py", FUNCTIONAL)
        done = _cli("run", "exp.py", "--SEED=4", "--__REPRODUCIBLE__=True", "--root", str(root), cwd=project)
        assert done.returncode == 0, done.stderr
        original_id = _run_id(done.stdout)
    elif style == "config":
        project = _project(tmp_path, "exp.py", FUNCTIONAL)
        (project / "run.yml").write_text("extend: exp.py\nparameters:\n  SEED: 4\n  __REPRODUCIBLE__: true\n")
        done = _cli("run", "run.yml", "--root", str(root), cwd=project)
        assert done.returncode == 0, done.stderr
        original_id = _run_id(done.stdout)
    elif style == "script-cli":
        project = _project(tmp_path, "job.py", SCRIPT)
        done = _cli("run", "job.py", "-p", "seed=4", "--reproducible", "--root", str(root), cwd=project)
        assert done.returncode == 0, done.stderr
        original_id = _run_id(done.stdout)
    else:
        project = _project(tmp_path, "job.py", SCRIPT)
        done = subprocess.run([sys.executable, "-c", SUBMIT_SCRIPT, str(project / "job.py"), str(root)], cwd=project,
                              capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
        original_id = done.stdout.split()[-1]
    original = runlab.load(original_id, root=root)
    assert original.status == "completed" and original.summaries["y"].last == 8
    for file in [*project.rglob("*.py"), *project.rglob("*.yml")]:  # gone: reproduce uses the archive
        file.unlink()

    done = _cli("reproduce", original_id, "--root", str(root), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Reproduced run {original_id} as " in done.stdout
    new = runlab.load(done.stdout.split(f"Reproduced run {original_id} as ")[1].split()[0], root=root)
    assert new.id != original.id and new.status == "completed"
    assert new.metadata["rerun_of"] == original.id
    assert new.metadata["origin"]["via"] == "runlab reproduce"
    assert new.summaries["y"].last == original.summaries["y"].last == 8
    assert new.params["seed" if style.startswith("script") else "SEED"] == 4
    assert original.metadata["reproducible"]["problems"] == []
    assert (root / ".runlab" / "envs" / original.id / "bin" / "python").exists()


def test_reproduce_refuses_a_run_without_reproducible_mode(tmp_path: Path) -> None:
    root = tmp_path / "store"
    project = _project(tmp_path, "exp.py", FUNCTIONAL)
    done = _cli("run", "exp.py", "--root", str(root), cwd=project)
    assert done.returncode == 0, done.stderr
    refused = _cli("reproduce", _run_id(done.stdout), "--root", str(root), cwd=tmp_path)
    assert refused.returncode == 2
    assert "recorded without reproducible mode" in refused.stderr and "Traceback" not in refused.stderr
    env_only = _cli("reproduce", _run_id(done.stdout), "--env-only", "--root", str(root), cwd=tmp_path)
    assert env_only.returncode == 2 and not (root / ".runlab" / "envs").exists()


def test_build_metadata_left_in_a_source_tree_never_shadows_the_installed_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runlab.lifecycle._reproducible import distributions

    installed = distributions()["runlab"]
    stale = tmp_path / "runlab.egg-info"  # what a build of the editable source leaves in src/
    stale.mkdir()
    (stale / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: runlab\nVersion: 0.0.1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert distributions()["runlab"] == installed  # found first on sys.path, still not taken
