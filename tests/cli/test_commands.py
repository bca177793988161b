"""Every command of the command line: through CliRunner, and each once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import runlab
from runlab.cli import cli
from runlab.cli._main import _register

_register()
RUNLAB = [sys.executable, "-m", "runlab"]


@pytest.fixture
def runs(root: Path) -> dict[str, str]:
    """Three finished runs of a sweep (lr-0..2) and a failed one (broken); name -> id."""
    ids = {}
    for i, lr in enumerate((0.1, 0.01, 0.001)):
        with runlab.start_run(namespace="sweep", name=f"lr-{i}", params={"lr": lr, "depth": 3}, tags=["grid"],
                              root=root, capture=False) as run:  # fmt: skip
            for step in range(5):
                run.log_metric("acc", 0.5 + i / 10 + step / 100, step=step)
            print(f"line {i}-a")
            print(f"line {i}-b")
            run.save_text("notes.txt", "n" * (i + 1))
        ids[f"lr-{i}"] = run.id
    with pytest.raises(RuntimeError), runlab.start_run(namespace="other", name="broken", root=root,
                                                       capture=False) as run:  # fmt: skip
        raise RuntimeError("diverged")
    ids["broken"] = run.id
    return ids


def ok(root: Path, *args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, [*args, "--root", str(root)], input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


# -- list ---------------------------------------------------------------------------------------
def test_list_varying_columns_only(root: Path, runs: dict[str, str]) -> None:
    out = ok(root, "list", "-n", "sweep").stdout
    header = out.splitlines()[0].split()
    assert header == ["id", "name", "status", "started", "duration", "params.lr", "metrics.acc"]  # depth is constant


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "table"])
def test_list_formats(root: Path, runs: dict[str, str], fmt: str) -> None:
    out = ok(root, "list", "-f", fmt, "-c", "id,name,params.lr,metrics.acc.max").stdout
    if fmt == "json":
        rows = json.loads(out)
        assert {r["name"]: r["params.lr"] for r in rows}["lr-1"] == 0.01 and rows[-1]["metrics.acc.max"] == 0.54
    elif fmt == "csv":
        lines = out.splitlines()
        assert lines[0] == "id,name,params.lr,metrics.acc.max" and f"{runs['lr-0']},lr-0,0.1,0.54" in lines
    elif fmt == "markdown":
        assert out.splitlines()[1] == "|---|---|---|---|" and f"| {runs['lr-2']} | lr-2 | 0.001 | 0.74 |" in out
    else:
        assert out.splitlines()[0].split() == ["id", "name", "params.lr", "metrics.acc.max"]


def test_list_name_since_until_sort(root: Path, runs: dict[str, str]) -> None:
    rows = json.loads(ok(root, "list", "--name", "lr-*", "--sort", "-metrics.acc", "-f", "json").stdout)
    assert [r["name"] for r in rows] == ["lr-2", "lr-1", "lr-0"]
    assert len(json.loads(ok(root, "list", "--since", "1h", "-f", "json").stdout)) == 4
    assert json.loads(ok(root, "list", "--until", "2000-01-01", "-f", "json").stdout) == []


def test_list_json_default_is_full_records(root: Path, runs: dict[str, str]) -> None:
    rows = json.loads(ok(root, "list", "-f", "json").stdout)
    assert rows[0]["name"] == "broken" and rows[0]["archived"] is False and "summaries" in rows[1]


# -- show ---------------------------------------------------------------------------------------
def test_show_has_sparkline_and_plugin_records(root: Path, runs: dict[str, str]) -> None:
    from runlab.store._files import read_json, write_json_atomic

    path = runlab.load("lr-1", root=root).path
    meta = read_json(path / "run.json")
    meta["plugins"] = {"notify": {"state": "loaded"}}
    write_json_atomic(path / "run.json", meta)
    out = ok(root, "show", "lr-1").stdout
    assert "history" in out and "▁▃▅▆█" in out
    assert "Plugins" in out and "notify" in out


# -- compare ------------------------------------------------------------------------------------
def test_compare_side_by_side_and_diff(root: Path, runs: dict[str, str]) -> None:
    out = ok(root, "compare", "lr-0", "lr-1").stdout
    assert out.splitlines()[0].split() == ["field", runs["lr-0"], runs["lr-1"]]
    assert "params.depth" in out
    diff = ok(root, "compare", "lr-0", "lr-1", "--diff").stdout
    assert "params.depth" not in diff and "params.lr" in diff
    data = json.loads(ok(root, "compare", "--where", "namespace == 'sweep'", "-f", "json", "--diff").stdout)
    assert [d["params.lr"] for d in data] == [0.1, 0.01, 0.001]
    csv = ok(root, "compare", "lr-0", "lr-2", "-f", "csv", "--all-aggregates").stdout
    assert "metrics.acc.max,0.54,0.74" in csv


# -- logs, metrics, artifacts, open -------------------------------------------------------------
def test_logs(root: Path, runs: dict[str, str]) -> None:
    assert ok(root, "logs", "lr-1").stdout == "line 1-a\nline 1-b\n"
    assert ok(root, "logs", "lr-1", "--tail", "1").stdout == "line 1-b\n"
    assert ok(root, "logs", "lr-1", "--follow").stdout == "line 1-a\nline 1-b\n"  # finished: stops at once


def test_logs_follow_until_the_run_ends(root: Path) -> None:
    code = (
        "import runlab, time, sys\n"
        f"with runlab.start_run(name='live', root={str(root)!r}, capture=False) as run:\n"
        "    print('started', flush=True); sys.stderr.write('ready\\n'); sys.stderr.flush()\n"
        "    time.sleep(1.0); print('done', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stderr.readline() == "ready\n"
        follow = subprocess.run([*RUNLAB, "logs", "live", "-F", "--interval", "0.1", "--root", str(root)],
                                capture_output=True, text=True, timeout=30)  # fmt: skip
    finally:
        proc.wait(timeout=30)
    assert follow.returncode == 0 and "started" in follow.stdout and "done" in follow.stdout


def test_metrics(root: Path, runs: dict[str, str]) -> None:
    rows = json.loads(ok(root, "metrics", "lr-0", "-f", "json").stdout)
    assert rows == [{"name": "acc", "last": 0.54, "min": 0.5, "max": 0.54, "count": 5, "step": 4}]
    lines = ok(root, "metrics", "lr-0", "acc", "-f", "csv").stdout.splitlines()
    assert lines[0] == "step,value,time" and lines[1].startswith("0,0.5,") and len(lines) == 6


def test_artifacts_and_open(root: Path, runs: dict[str, str]) -> None:
    rows = json.loads(ok(root, "artifacts", "lr-2", "-f", "json").stdout)
    assert [(r["name"], r["bytes"]) for r in rows] == [("notes.txt", 3)]
    path = ok(root, "artifacts", "lr-2", "--paths").stdout.strip()
    assert Path(path).read_text() == "nnn"
    folder = ok(root, "open", "lr-2").stdout.strip()
    assert Path(folder) == runlab.load("lr-2", root=root).path


def test_open_launch(root: Path, runs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("click.launch", lambda url, **kw: opened.append(url) or 0)
    ok(root, "open", "lr-0", "--launch")
    assert opened == [str(runlab.load("lr-0", root=root).path)]


# -- changing runs ------------------------------------------------------------------------------
def test_tag_untag_note(root: Path, runs: dict[str, str]) -> None:
    assert "tagged" in ok(root, "tag", "best,paper", "lr-0", "lr-1").stdout
    assert ok(root, "tag", "x", "--where", "params.lr < 0.05", "--dry-run").stdout.count("would tag") == 2
    names = [r["name"] for r in json.loads(ok(root, "list", "-t", "best", "-f", "json").stdout)]
    assert sorted(names) == ["lr-0", "lr-1"]
    ok(root, "untag", "paper", "--where", "'paper' in tags")
    assert runlab.load("lr-0", root=root).tags == ("grid", "best")
    ok(root, "note", "too slow", "lr-2")
    assert runlab.load("lr-2", root=root).description == "too slow"
    assert json.loads(ok(root, "list", "-t", "x", "-f", "json").stdout) == []  # the dry run changed nothing


def test_delete_confirms_unless_yes(root: Path, runs: dict[str, str]) -> None:
    path = runlab.load("lr-0", root=root).path
    dry = ok(root, "delete", "lr-0", "--dry-run").stdout
    assert "would delete" in dry and path.is_dir()
    refused = CliRunner().invoke(cli, ["delete", "lr-0", "--root", str(root)], input="n\n")
    assert refused.exit_code == 0 and path.is_dir() and "Nothing changed." in refused.output
    ok(root, "delete", "lr-0", input="y\n")
    assert not path.exists()
    ok(root, "delete", "--where", "status == 'failed'", "--yes")
    assert [r.name for r in runlab.runs(root=root, order_by="name")] == ["lr-1", "lr-2"]


def test_archive_hides_and_unarchive_restores(root: Path, runs: dict[str, str]) -> None:
    ok(root, "archive", "lr-1", "lr-2", "--yes")
    assert (root / ".archive" / "sweep").is_dir()
    visible = [r["name"] for r in json.loads(ok(root, "list", "-f", "json").stdout)]
    assert sorted(visible) == ["broken", "lr-0"]
    everything = json.loads(ok(root, "list", "-a", "-f", "json").stdout)
    assert sorted(r["name"] for r in everything if r["archived"]) == ["lr-1", "lr-2"]
    table = ok(root, "list", "-a").stdout
    assert "archived" in table.splitlines()[0]
    assert "(archived)" in ok(root, "show", "lr-1").stdout
    ok(root, "unarchive", "--where", "name == 'lr-1'")
    ok(root, "unarchive", runs["lr-2"][:6])
    assert len(runlab.runs(root=root)) == 4
    assert "OK" in ok(root, "index", "check").stdout


def test_gc(root: Path, runs: dict[str, str]) -> None:
    from runlab.store._files import read_json, write_json_atomic

    path = runlab.load("lr-0", root=root).path
    meta = read_json(path / "run.json")
    meta.update(status="running", created="2000-01-01T00:00:00+00:00",
                heartbeat={"pid": 2**22 + 4321, "host": os.uname().nodename, "time": 946684800.0})  # fmt: skip
    write_json_atomic(path / "run.json", meta)
    ok(root, "index", "rebuild")
    dry = ok(root, "gc", "--dry-run")
    assert "would remove" in dry.stdout and "[crashed]" in dry.stdout and path.is_dir()
    assert "Removed 1 run" in ok(root, "gc", "--yes").stdout and not path.exists()
    assert "Nothing to remove" in ok(root, "gc", "--yes").stderr


# -- export ---------------------------------------------------------------------------------------
def test_export_csv_and_json(root: Path, runs: dict[str, str], tmp_path: Path) -> None:
    ok(root, "export", "--where", "namespace == 'sweep'", "-o", str(tmp_path / "r.csv"))
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert len(lines) == 4 and "params.lr" in lines[0] and "metrics.acc.max" in lines[0]
    data = json.loads(ok(root, "export", "-f", "json", "-o", "-").stdout)
    assert len(data) == 4 and data[0]["params.lr"] == 0.1 and data[0]["tags"] == ["grid"]


def test_export_parquet(root: Path, runs: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", "-o", str(tmp_path / "r.parquet"), "--root", str(root)])
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert result.exit_code == 2 and "pip install pyarrow" in result.output
    else:  # pragma: no cover - pyarrow is not a dependency
        assert result.exit_code == 0 and (tmp_path / "r.parquet").stat().st_size > 0


# -- index, template, init, completion ------------------------------------------------------------
def test_index_check_finds_stale_index(root: Path, runs: dict[str, str]) -> None:
    import shutil

    shutil.rmtree(runlab.load("lr-0", root=root).path)
    result = CliRunner().invoke(cli, ["index", "check", "--root", str(root)])
    assert result.exit_code == 1 and "folder is gone" in result.output and "index rebuild" in result.output
    ok(root, "index", "rebuild")
    assert "3 run folders" in ok(root, "index", "check").stdout


@pytest.mark.parametrize("kind", ["experiment", "analysis", "mixin"])
def test_python_templates_run_as_they_are(kind: str, tmp_path: Path, root: Path) -> None:
    result = CliRunner().invoke(cli, ["template", kind, "demo_thing", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "demo_thing.py"
    ran = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "RUNLAB_ROOT": str(root)}, timeout=60)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    if kind != "analysis":
        [record] = runlab.runs(root=root)
    if kind == "experiment":  # testing mode shrinks EPOCHS; the run's analysis.py runs on its own
        assert record.params["EPOCHS"] == 5 and record.summaries["loss"].count == 5
        quick = subprocess.run([sys.executable, str(path), "--__TESTING__=True"], capture_output=True, text=True,
                               env={**os.environ, "RUNLAB_ROOT": str(root)}, timeout=60)  # fmt: skip
        assert quick.returncode == 0, quick.stderr
        tested = next(r for r in runlab.runs(root=root) if r.id != record.id)
        assert tested.params["EPOCHS"] == 1 and "testing" in tested.tags
        analysis = subprocess.run([sys.executable, str(tested.path / "analysis.py")], capture_output=True, text=True,
                                  timeout=60)  # fmt: skip
        assert analysis.returncode == 0 and "final loss 0.9000" in analysis.stdout, analysis.stderr
    if kind == "mixin":  # the demonstration includes the mixin: its hooks recorded the time
        assert record.data["demo_thing"]["seconds"] > 0
    again = CliRunner().invoke(cli, ["template", kind, "demo_thing", "-o", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output


def test_config_template_validates(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["template", "config", "sweep", "-o", str(tmp_path)]).exit_code == 0
    result = CliRunner().invoke(cli, ["config", "validate", str(tmp_path / "sweep.yml")])
    assert result.exit_code == 0 and "3 configs" in result.output


def test_init_keeps_existing_content(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n# keep me\n')
    result = CliRunner().invoke(cli, ["init", "-p", str(pyproject), "--store", "data/runs"])
    assert result.exit_code == 0
    text = pyproject.read_text()
    assert text.startswith('[project]\nname = "x"\n# keep me\n') and '[tool.runlab]\nroot = "data/runs"\n' in text
    again = CliRunner().invoke(cli, ["init", "-p", str(pyproject)])
    assert "already has" in again.output and pyproject.read_text() == text
    fresh = tmp_path / "new" / "pyproject.toml"
    fresh.parent.mkdir()
    assert CliRunner().invoke(cli, ["init", "-p", str(fresh)]).exit_code == 0
    assert fresh.read_text() == '[tool.runlab]\nroot = "runs"\n'
    bad = tmp_path / "bad.toml"
    bad.write_text("[project\n")
    assert CliRunner().invoke(cli, ["init", "-p", str(bad)]).exit_code == 2


def test_completion_of_commands_options_and_run_ids(root: Path, runs: dict[str, str]) -> None:
    def complete(words: str) -> list[str]:
        env = {**os.environ, "_RUNLAB_COMPLETE": "bash_complete", "COMP_WORDS": f"runlab {words}",
               "COMP_CWORD": str(len(words.split(" ")))}  # fmt: skip
        out = subprocess.run(RUNLAB, capture_output=True, text=True, env=env, timeout=30).stdout
        return [line.split(",", 1)[1] for line in out.splitlines()]

    assert "compare" in complete("comp")
    assert "--format" in complete("list --fo")
    prefix = runs["lr-1"][:3]
    assert runs["lr-1"] in complete(f"--root {root} show {prefix}")
    assert "lr-2" in complete(f"--root {root} show lr-")
    script = CliRunner().invoke(cli, ["completion", "bash"]).output
    assert "_RUNLAB_COMPLETE" in script


# -- every command: help with an example, --root, and a real subprocess ----------------------------
COMMANDS = ["list", "show", "compare", "logs", "metrics", "artifacts", "open", "tag", "untag", "note", "archive",
            "unarchive", "delete", "gc", "export", "index", "index rebuild", "index check", "template", "init",
            "completion", "config"]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_every_command_as_a_real_subprocess(root: Path, runs: dict[str, str], tmp_path: Path) -> None:
    r = ["--root", str(root)]
    calls: list[tuple[list[str], str]] = [
        (["list", "-f", "csv", *r], "lr-1"),
        (["show", "lr-1", *r], runs["lr-1"]),
        (["compare", "lr-0", "lr-1", "--diff", *r], "params.lr"),
        (["logs", "lr-0", *r], "line 0-a"),
        (["metrics", "lr-0", *r], "acc"),
        (["artifacts", "lr-0", *r], "notes.txt"),
        (["open", "lr-0", *r], str(root)),
        (["tag", "t1", "lr-0", *r], "tagged"),
        (["untag", "t1", "lr-0", *r], "untagged"),
        (["note", "hi", "lr-0", *r], "noted"),
        (["archive", "lr-0", "--yes", *r], "archived"),
        (["unarchive", "lr-0", *r], "restored"),
        (["delete", "broken", "--dry-run", *r], "would delete"),
        (["gc", "--dry-run", *r], ""),
        (["export", "-o", "-", *r], "params.lr"),
        (["index", "rebuild", *r], "Indexed 4"),
        (["index", "check", *r], "OK"),
        (["template", "experiment", "exp", "--dry-run"], "run_if_main"),
        (["init", "--dry-run", "-p", str(tmp_path / "p.toml")], "[tool.runlab]"),
        (["completion", "zsh"], "compdef"),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    for args, expected in calls:
        done = subprocess.run([*RUNLAB, *args], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, (args, done.stderr)
        assert expected in done.stdout, (args, done.stdout)
        assert "\x1b[" not in done.stdout


# -- bad input: exit 2, one line, no traceback ------------------------------------------------------
BAD: list[tuple[list[str], str]] = [
    (["show", "ffffffffff"], "No run matches 'ffffffffff'"),
    (["logs", "nope"], "No run matches 'nope'"),
    (["metrics", "lr-0", "loss"], "has no metric 'loss'"),
    (["list", "--where", "params.lr <"], "Expected a value"),
    (["list", "--columns", "bogus"], "Unknown column 'bogus'"),
    (["list", "--columns", ","], "Invalid --columns"),
    (["list", "--since", "yesterday"], "Invalid time 'yesterday'"),
    (["compare"], "Give run IDs or --where"),
    (["compare", "--where", "name == 'zzz'"], "No run matches --where"),
    (["compare", "lr-0", "--where", "parms.x == 1"], "Give run IDs or --where"),
    (["tag", "bad\ttag", "lr-0"], "Invalid tag"),
    (["tag", "x"], "No runs given"),
    (["delete", "--where", "((", "--yes"], "Expected"),
    (["unarchive", "lr-0"], "No run matches 'lr-0' in the archive"),
    (["gc", "--older-than", "soon"], "Invalid age 'soon'"),
    (["export", "-o", "/nonexistent-dir/x.csv"], "does not exist"),
    (["export", "-o", "/proc/x.csv"], "Cannot write the export"),
    (["export", "-o", "-", "-f", "parquet"], "arquet"),
    (["template", "experiment", "9bad"], "Invalid name '9bad'"),
    (["list", "--format", "yaml"], "Invalid value for '-f' / '--format'"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(root: Path, runs: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--root", str(root)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    if args[0] != "list" or "--where" not in args:  # filter errors add the expression and a caret
        assert len([line for line in result.stderr.splitlines() if line.startswith("Error")]) == 1


def test_ambiguous_prefix_exits_2_for_changing_commands(root: Path) -> None:
    ids = []
    for _ in range(20):
        with runlab.start_run(root=root, capture=False) as run:
            pass
        ids.append(run.id)
    shared = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1)
    for command in (["tag", "x", shared], ["delete", shared, "--yes"], ["compare", shared]):
        result = CliRunner().invoke(cli, [*command, "--root", str(root)])
        assert result.exit_code == 2 and "Give more characters" in result.output


def test_running_run_is_refused_with_exit_2(root: Path) -> None:
    with runlab.start_run(name="live", root=root, capture=False):
        result = CliRunner().invoke(cli, ["delete", "live", "--yes", "--root", str(root)])
        assert result.exit_code == 2 and "still running" in result.output


def test_bad_inputs_as_subprocess(root: Path, runs: dict[str, str]) -> None:
    for args in (["show", "zzz"], ["list", "-c", "nope"], ["export", "-o", "/nonexistent/x.csv"]):
        done = subprocess.run([*RUNLAB, *args, "--root", str(root)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and done.stderr.startswith("Error:") and "Traceback" not in done.stderr
