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


@pytest.mark.slow
def test_reproducible_run_saves_dependencies_sources_and_local_modules(tmp_path: Path) -> None:
    _, record = record_run(tmp_path)
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
    run._capture_thread.join()  # type: ignore[union-attr]
    with pytest.raises(ReproduceError, match=r"recorded without reproducible mode.*--__REPRODUCIBLE__=True"):
        build_environment(run.path, run.id, tmp_path / "env")
    assert not (tmp_path / "env").exists()
