"""Git, environment, dependency and code capture."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import runlab
from runlab.lifecycle._capture import capture_environment, capture_git, list_distributions

from ..conftest import run_python


def _git(cwd: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    env.update(HOME=str(cwd), PATH="/usr/bin:/bin")
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    return repo


def test_outside_a_repository(tmp_path: Path) -> None:
    info, patch = capture_git(tmp_path)
    assert info["repository"] is None and patch is None


def test_repository_without_commits(repo: Path) -> None:
    (repo / "exp.py").write_text("x = 1\n")
    info, patch = capture_git(repo)
    assert info["repository"] == str(repo) and info["commit"] is None and info["branch"] == "main"
    assert info["dirty"] is True and "exp.py" in (patch or "")


def test_clean_and_dirty_repository(repo: Path) -> None:
    (repo / "exp.py").write_text("x = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    _git(repo, "remote", "add", "origin", "https://user:secret@example.com/team/repo.git")
    head = _git(repo, "rev-parse", "HEAD").strip()
    info, patch = capture_git(repo)
    assert info == {"repository": str(repo), "commit": head, "branch": "main",
                    "remote": "https://example.com/team/repo.git", "dirty": False}  # fmt: skip
    assert patch is None
    (repo / "exp.py").write_text("x = 2\n")
    (repo / "new.txt").write_text("n\n")
    info, patch = capture_git(repo)
    assert info["dirty"] is True
    assert "-x = 1" in patch and "+x = 2" in patch and "new.txt" in patch


def test_run_captures_git_code_and_environment(repo: Path) -> None:
    script = repo / "train.py"
    script.write_text(f"""
import runlab
with runlab.start_run(root={str(repo / "runs")!r}) as run:
    print(run.id)
""")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    script.write_text(script.read_text() + "# edited\n")
    result = subprocess.run(["python", str(script)], capture_output=True, text=True, check=True, cwd=repo,
                            env={"PATH": f"{Path(__import__('sys').executable).parent}:/usr/bin:/bin",
                                 "MY_API_KEY": "hunter2", "DB_PASSWORD": "pw", "PLAIN_SETTING": "ok",
                                 **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})  # fmt: skip
    rec = runlab.load(result.stdout.strip(), root=repo / "runs")
    meta = rec.metadata
    assert meta["git"]["commit"] and meta["git"]["dirty"] is True
    assert "+# edited" in (rec.path / "code" / "git.patch").read_text()
    assert (rec.path / "code" / "train.py").read_text() == script.read_text()
    assert meta["source"] == str(script)
    env = meta["env"]
    assert env["variables"]["PLAIN_SETTING"] == "ok"
    assert env["variables"]["MY_API_KEY"] == env["variables"]["DB_PASSWORD"] == "<redacted>"
    assert set(env["variables_redacted"]) >= {"MY_API_KEY", "DB_PASSWORD"}
    assert "hunter2" not in (rec.path / "run.json").read_text()
    deps = json.loads((rec.path / "env" / "dependencies.json").read_text())
    assert "orjson" in deps and f"orjson=={deps['orjson']}" in (rec.path / "env" / "requirements.txt").read_text()


def test_environment_fields() -> None:
    env = capture_environment()
    assert env["python"]["version"].count(".") == 2 and env["python"]["executable"]
    assert env["cpu_count"] >= 1 and env["memory_bytes"] > 2**20
    assert env["host"] and "platform" in env and "user" in env


def test_distributions_match_importlib_metadata() -> None:
    from importlib.metadata import version

    found = dict(list_distributions())
    for name in ("orjson", "click", "pytest"):
        assert found[name] == version(name)


def test_capture_can_be_turned_off(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        pass
    meta = runlab.load(run.id, root=root).metadata
    assert meta["git"] is None and meta["env"] is None and not (run.path / "env").exists()


def test_python_dash_c_run_has_no_source(root: Path) -> None:
    out = run_python(f"import runlab\nwith runlab.start_run(root={str(root)!r}) as r: print(r.id)")
    rec = runlab.load(out.stdout.strip(), root=root)
    assert rec.metadata["source"] is None and not (rec.path / "code").exists()


def test_remote_is_origin_among_several_and_worktrees_fall_back_to_git(repo: Path, tmp_path: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    _git(repo, "remote", "add", "upstream", "https://example.com/upstream.git")
    _git(repo, "remote", "add", "origin", "git@example.com:team/repo.git")
    info, _ = capture_git(repo / ".")
    assert info["remote"] == "git@example.com:team/repo.git"
    worktree = tmp_path / "wt"
    _git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    assert (worktree / ".git").is_file()
    info, patch = capture_git(worktree)
    assert info["repository"] == str(worktree) and info["branch"] == "feature"
    assert info["remote"] == "git@example.com:team/repo.git" and info["dirty"] is False and patch is None


def test_subfolder_of_a_repository(repo: Path) -> None:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "m.py").write_text("x = 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    info, _ = capture_git(repo / "pkg")
    assert info["repository"] == str(repo) and info["commit"] and info["dirty"] is False


def test_a_capture_that_cannot_import_is_recorded_and_the_run_goes_on_being_written(tmp_path: Path) -> None:
    # the capture runs on the background thread; an import failing there used to escape it and
    # kill that thread: no traceback now, the failure is in run.json, and metrics still reach disk
    code = f"""
import sys, time
import runlab
sys.modules["runlab.lifecycle._capture"] = None  # the capture's import fails
with runlab.start_run(root={str(tmp_path / "runs")!r}) as run:
    run.log_metric("loss", 1.0)
    metrics, deadline = run.path / "metrics.jsonl", time.monotonic() + 30
    while not (metrics.exists() and "loss" in metrics.read_text()):
        assert time.monotonic() < deadline, "metrics never flushed"
        time.sleep(0.02)
print(run.id)
"""
    result = run_python(code, env={"RUNLAB_FLUSH_INTERVAL": "0.05"})
    assert "Traceback" not in result.stderr
    meta = runlab.load(result.stdout.strip(), root=tmp_path / "runs").metadata
    assert meta["status"] == "completed"
    assert "runlab.lifecycle._capture" in meta["capture_error"]
