"""``runlab branch list`` and ``runlab branch show``: through CliRunner and as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import runlab
import runlab.branch as rb
from runlab.cli import cli
from runlab.cli._main import _register

_register()


@pytest.fixture
def session_id(root: Path) -> str:
    logger = rb.StoreLogger(root=root)

    @rb.branch(configs=[{"model": "a"}, {"model": "b"}], strategy="multi_branch", logger=logger)
    def generate(prompt: str, config: dict[str, str]) -> str:
        if config["model"] == "b":
            raise TimeoutError("b timed out")
        return f"{config['model']}:{prompt}"

    for prompt in ("x", "y", "z"):
        generate(prompt)
    logger.close()
    return rb.sessions(root=root)[0].id


def invoke(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--root", str(root)])


def test_branch_list_shows_sessions_with_counts(root: Path, session_id: str) -> None:
    result = invoke(root, "branch", "list")
    assert result.exit_code == 0, result.output
    line = next(li for li in result.output.splitlines() if li.startswith(session_id))
    assert "generate" in line and "multi_branch" in line and "completed" in line
    data = json.loads(invoke(root, "branch", "list", "--format", "json").output)
    assert [(d["id"], d["configs"], d["success"], d["failed"]) for d in data] == [(session_id, 2, 3, 3)]
    assert json.loads(invoke(root, "branch", "list", "--function", "nothing.*", "-f", "json").output) == []


def test_branch_list_in_an_empty_store(root: Path) -> None:
    result = invoke(root, "branch", "list")
    assert result.exit_code == 0 and "No branch sessions" in result.output


def test_branch_show_filters(root: Path, session_id: str) -> None:
    result = invoke(root, "branch", "show", session_id)
    assert result.exit_code == 0, result.output
    assert result.output.count("success") == 3 and "TimeoutError: b timed out" in result.output
    failed = json.loads(invoke(root, "branch", "show", session_id, "-s", "failed", "-f", "json").output)
    assert len(failed) == 3 and {r["config"]["model"] for r in failed} == {"b"}
    assert all(r["exception"]["type"] == "TimeoutError" for r in failed)
    cid = failed[0]["config_id"]
    one = json.loads(invoke(root, "branch", "show", session_id, "--config", cid[:4], "-l", "1", "-f", "json").output)
    assert [(r["config_id"], r["call_id"]) for r in one] == [(cid, "3")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["branch", "show", "ffffffff"], "No run matches 'ffffffff'"),
        (["branch", "show", "plain"], "not a branch session run"),
        (["branch", "show", "plain", "-s", "ok"], "Invalid value for '-s'"),
    ],
)
def test_bad_input_exits_2_with_one_line(root: Path, args: list[str], message: str) -> None:
    with runlab.start_run(name="plain", root=root, capture=False):
        pass
    result = invoke(root, *args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_branch_commands_as_a_subprocess(root: Path, session_id: str) -> None:
    env = {**os.environ, "RUNLAB_ROOT": str(root)}
    out = subprocess.run([sys.executable, "-m", "runlab", "branch", "show", session_id, "-s", "failed"],
                         capture_output=True, text=True, env=env, timeout=120, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("TimeoutError") == 3
    bad = subprocess.run([sys.executable, "-m", "runlab", "branch", "show", "zzzz"], capture_output=True, text=True,
                         env=env, timeout=120, check=False)  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_branch_list_counts_no_configs_in_a_pool_kept_as_text(root: Path, session_id: str) -> None:
    from runlab.store._files import read_json, write_json_atomic

    (record,) = rb.sessions(root=root)
    meta = read_json(Path(record.path) / "run.json")
    meta["params"]["configs"]["value"] = "{'2bfd14f43d17': {'n': 1}}"  # what a pool JSON could not hold became
    write_json_atomic(Path(record.path) / "run.json", meta)
    assert invoke(root, "index", "rebuild").exit_code == 0
    data = json.loads(invoke(root, "branch", "list", "--format", "json").output)
    assert [(d["id"], d["configs"]) for d in data] == [(session_id, None)]  # before: the text's length, 26
