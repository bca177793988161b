"""The command line, through click's CliRunner and as real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli, main
from runlab.cli._main import _register

_register()
RUNLAB = [sys.executable, "-m", "runlab"]


@pytest.fixture
def populated(root: Path) -> list[str]:
    ids = []
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        with runlab.start_run(namespace="sweep", name=f"lr-{i}", params={"lr": lr, "depth": i}, tags=["grid"],
                              root=root, capture=False) as run:  # fmt: skip
            run.log_metric("acc", 0.5 + i / 10)
            run.data["best/epoch"] = i
            run.save_text("notes.txt", "n")
        ids.append(run.id)
    with pytest.raises(RuntimeError), runlab.start_run(namespace="other", name="broken", root=root, capture=False):
        raise RuntimeError("diverged")
    return ids


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and runlab.__version__ in result.output


def test_list_plain_table_newest_first(root: Path, populated: list[str]) -> None:
    result = invoke("list", "--root", str(root))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    # namespaces differ, so that column is shown; then only the params and metrics that vary
    assert lines[0].split() == ["id", "name", "namespace", "status", "started", "duration", "params.depth",
                                "params.lr", "metrics.acc"]  # fmt: skip
    assert [line.split()[0] for line in lines[1:]][1:] == populated[::-1]
    assert "failed" in lines[1] and "0.01" in result.output and "0.6" in result.output


def test_list_where_limit_and_json(root: Path, populated: list[str]) -> None:
    result = invoke("--root", str(root), "list", "--where", "params.lr < 0.05 and status == 'completed'",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert sorted(r["id"] for r in rows) == sorted(populated[1:])
    assert rows[0]["summaries"]["acc"]["count"] == 1 and rows[0]["params"]["lr"] in (0.01, 0.001)
    limited = CliRunner().invoke(cli, ["list", "--root", str(root), "--limit", "2"])
    assert len(limited.stdout.splitlines()) == 3
    assert "showing 2 of 4 runs" in limited.stderr


def test_list_filters_by_status_tag_namespace(root: Path, populated: list[str]) -> None:
    out = invoke("list", "--root", str(root), "-s", "failed", "--format", "json").output
    assert [r["name"] for r in json.loads(out)] == ["broken"]
    out = invoke("list", "--root", str(root), "-t", "grid", "-n", "sweep", "--format", "json").output
    assert len(json.loads(out)) == 3


def test_list_empty_store(root: Path) -> None:
    root.mkdir()  # an existing, empty store folder (a missing one is an error: test_export_confirm.py)
    result = CliRunner().invoke(cli, ["list", "--root", str(root)])
    assert result.exit_code == 0 and "No runs" in result.stderr


def test_show(root: Path, populated: list[str]) -> None:
    result = invoke("show", populated[1][:6], "--root", str(root))
    assert result.exit_code == 0
    out = result.output
    assert f"id          {populated[1]}" in out and "lr-1" in out and "completed" in out
    assert "Parameters" in out and "depth" in out and "Metrics" in out and "acc" in out
    assert "best/epoch = 1" in out and "notes.txt" in out


def test_show_failed_run_has_error_and_traceback(root: Path, populated: list[str]) -> None:
    out = invoke("show", "broken", "--root", str(root)).output
    assert "RuntimeError: diverged" in out and "Traceback" in out


def test_show_json(root: Path, populated: list[str]) -> None:
    data = json.loads(invoke("show", populated[0], "--root", str(root), "-f", "json").output)
    assert data["id"] == populated[0] and data["data"] == {"best": {"epoch": 0}} and data["artifacts"] == ["notes.txt"]
    assert data["run"]["params"]["lr"]["value"] == 0.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "ffffffffff"], "No run matches 'ffffffffff'"),
        (["list", "--where", "params.lr <"], "Expected a value"),
        (["list", "--where", "parms.lr == 1"], "Did you mean 'params.lr'?"),
        (["list", "--sort", "bogus"], "bogus"),
        (["list", "--sort", "-metrics.los"], "No run has the metric 'los' to sort by"),  # sorted nothing, silently
        (["list", "--sort", "metrics.los.max"], "No run has the metric 'los' to sort by"),
        (["list", "--status", "finished"], "Invalid status 'finished'"),
        (["list", "--limit", "-1"], "-1"),
    ],
)
def test_bad_input_exits_2_with_a_message(root: Path, populated: list[str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--root", str(root)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_ambiguous_prefix_lists_candidates(root: Path) -> None:
    ids = []
    for _ in range(20):
        with runlab.start_run(root=root, capture=False) as run:
            pass
        ids.append(run.id)
    shared = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1)
    result = CliRunner().invoke(cli, ["show", shared, "--root", str(root)])
    assert result.exit_code == 2
    assert all(i in result.output for i in ids if i.startswith(shared))


def test_debug_shows_the_traceback(root: Path) -> None:
    result = CliRunner().invoke(cli, ["--debug", "show", "nope", "--root", str(root)])
    assert isinstance(result.exception, runlab.RunNotFoundError)


def test_index_rebuild(root: Path, populated: list[str]) -> None:
    (root / ".runlab" / "index.sqlite").unlink()
    result = invoke("index", "rebuild", "--root", str(root))
    assert result.exit_code == 0 and "Indexed 4 runs" in result.output


def test_main_entry_point_exit_codes(root: Path, populated: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["show", "nope", "--root", str(root)])
    assert info.value.code == 2


def test_real_subprocess(root: Path, populated: list[str]) -> None:
    ok = subprocess.run(["runlab", "list", "--root", str(root)], capture_output=True, text=True,
                        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"})  # fmt: skip
    assert ok.returncode == 0 and populated[0] in ok.stdout and "\x1b[" not in ok.stdout
    bad = subprocess.run([*RUNLAB, "list", "--where", "((", "--root", str(root)], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("Error:")
    shown = subprocess.run([*RUNLAB, "show", "lr-2", "--root", str(root)], capture_output=True, text=True)
    assert shown.returncode == 0 and populated[2] in shown.stdout
    env_root = subprocess.run([*RUNLAB, "list", "--format", "json"], capture_output=True, text=True,
                              env={"RUNLAB_ROOT": str(root), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert env_root.returncode == 0 and len(json.loads(env_root.stdout)) == 4


def test_list_sorts_by_a_metric_that_runs_have(root: Path, populated: list[str]) -> None:
    result = invoke("list", "--root", str(root), "--sort", "-metrics.acc", "-c", "id,metrics.acc", "-f", "json")
    values = [row["metrics.acc"] for row in json.loads(result.output)]
    logged = [v for v in values if v is not None]
    assert values == [*sorted(logged, reverse=True), None] and len(logged) == len(populated)  # the failed run last
