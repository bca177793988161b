"""``runlab workflow list`` and ``show``; reading workflow records: ids checked where they enter,
damaged records named with the way out, and the id printed when the workflow starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from runlab import Pipeline, Script, Sequential
from runlab.cli._main import _register, cli
from runlab.errors import AmbiguousRunError, DamagedFileError, UsageError
from runlab.workflow import DamagedWorkflowError, WorkflowNotFoundError, list_workflows, load_workflow

_register()


def invoke(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "workflow", *args])


def folder(root: Path) -> Path:
    return root / ".runlab" / "workflows"


@pytest.fixture
def flows(tmp_path: Path, root: Path) -> dict[str, Any]:
    """Two workflows of two trivial steps on the inline executor: a pipeline whose first step fails
    (the second is skipped), then a sequential one that completes."""
    (tmp_path / "ok.py").write_text("def main():\n    return 1\n")
    (tmp_path / "fail.py").write_text("def main():\n    raise RuntimeError('broke')\n")
    failed = Pipeline({"prep": tmp_path / "fail.py", "train": (tmp_path / "ok.py", ["prep"])}, root=root, name="fit")
    failed.run()
    done = Sequential([tmp_path / "ok.py", tmp_path / "ok.py"], root=root)
    done.run()
    assert failed.record is not None and done.record is not None
    return {"failed": failed.record, "done": done.record}


def copy_record(root: Path, source: str, new_id: str) -> None:
    """A copy of record ``source`` under ``new_id`` (a record's id is its file's name)."""
    data = json.loads((folder(root) / f"{source}.json").read_text())
    (folder(root) / f"{new_id}.json").write_text(json.dumps({**data, "id": new_id}))


def test_list_shows_every_workflow_newest_first(flows: dict[str, Any], root: Path) -> None:
    result = invoke(root, "list", "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [flows["done"].id, flows["failed"].id]
    done, failed = rows
    assert (done["name"], done["kind"], done["state"], done["completed"], done["steps"]) == (
        None, "sequential", "completed", 2, 2)  # fmt: skip
    assert (failed["name"], failed["kind"], failed["state"], failed["completed"], failed["steps"]) == (
        "fit", "pipeline", "failed", 0, 2)  # fmt: skip
    assert all(r["created"] and r["ended"] and r["problem"] is None for r in rows)

    table = invoke(root, "list")
    assert table.exit_code == 0 and table.stderr == ""
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "kind", "state", "completed", "steps", "created", "ended"]
    assert [line.split()[0] for line in lines[1:]] == [flows["done"].id, flows["failed"].id]


def test_list_of_a_store_without_workflows(root: Path) -> None:
    root.mkdir()
    result = invoke(root, "list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "No workflows in" in result.stderr and "runlab workflow run FILE" in result.stderr
    assert json.loads(invoke(root, "list", "-f", "json").stdout) == []


@pytest.mark.parametrize("command", [["list"], ["show", "abc"]])
def test_a_root_that_does_not_exist_is_an_error(command: list[str], tmp_path: Path) -> None:
    result = invoke(tmp_path / "nowhere", *command)
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_show_gives_each_steps_state_dependencies_and_runs_with_their_status(flows: dict[str, Any],
                                                                              root: Path) -> None:  # fmt: skip
    record = flows["failed"]
    result = invoke(root, "show", record.id, "-f", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["id"], shown["name"], shown["kind"], shown["state"]) == (record.id, "fit", "pipeline", "failed")
    prep, train = shown["steps"]
    assert (prep["step"], prep["state"], prep["after"]) == ("prep", "failed", [])
    assert prep["runs"] == [{"id": record.steps["prep"].runs[0], "status": "failed"}]
    assert "broke" in prep["error"]
    assert (train["step"], train["state"], train["after"], train["runs"]) == ("train", "skipped", ["prep"], [])
    assert train["error"] == "skipped: step 'prep' did not complete"

    table = invoke(root, "show", record.id)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["workflow", record.id, "fit", "failed", "(pipeline,", "0", "of", "2", "step(s)",
                                "completed)"]  # fmt: skip
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["step", "state"])
    assert lines[header].split() == ["step", "state", "after", "runs", "error"]
    assert lines[header + 1].split()[:4] == ["prep", "failed", record.steps["prep"].runs[0], "failed"]
    assert lines[header + 2].split()[:3] == ["train", "skipped", "prep"]


def test_show_finds_a_workflow_by_a_unique_prefix(flows: dict[str, Any], root: Path) -> None:
    done = flows["done"]
    prefix = next(done.id[:n] for n in range(1, 9) if not flows["failed"].id.startswith(done.id[:n]))
    result = invoke(root, "show", prefix, "-f", "json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["id"] == done.id and shown["state"] == "completed"
    assert [[r["status"] for r in s["runs"]] for s in shown["steps"]] == [["completed"], ["completed"]]
    assert load_workflow(root, prefix).id == done.id


def test_show_reads_a_killed_drivers_workflow_as_crashed(flows: dict[str, Any], root: Path) -> None:
    path = folder(root) / f"{flows['done'].id}.json"
    data = json.loads(path.read_text())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    data["state"], data["ended"], data["heartbeat"]["pid"] = "running", None, proc.pid  # a driver that is gone
    data["steps"]["ok-2"]["state"] = "running"
    path.write_text(json.dumps(data))
    shown = json.loads(invoke(root, "show", flows["done"].id, "-f", "json").stdout)
    assert (shown["state"], [s["state"] for s in shown["steps"]]) == ("crashed", ["completed", "crashed"])
    listed = json.loads(invoke(root, "list", "-f", "json").stdout)
    assert {r["id"]: r["state"] for r in listed}[flows["done"].id] == "crashed"


#: (the ID given, the error's class, what the one-line message says)
BAD_IDS = {
    "unknown id": ("0000ffff", WorkflowNotFoundError, "No workflow '0000ffff' in {root}. List the workflows with "
                   "'runlab workflow list'."),
    "ambiguous prefix": ("ab", AmbiguousRunError, "Workflow 'ab' is ambiguous: it matches ab000001, ab000002. Give "
                         "more of the id."),
    "a path out of the folder": ("../x", UsageError, "Invalid workflow id '../x': an id is letters, digits, '_' and "
                                 "'-' (the name of a file in {root}/.runlab/workflows without .json). List them with "
                                 "'runlab workflow list'."),
    "an absolute path": ("{root}/.runlab/x", UsageError, "Invalid workflow id '{root}/.runlab/x'"),
    "a sub-folder": ("sub/x", UsageError, "Invalid workflow id 'sub/x'"),
    "empty": ("", UsageError, "Invalid workflow id ''"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_IDS))
def test_a_bad_id_is_one_line_naming_it_exit_2(case: str, flows: dict[str, Any], root: Path) -> None:
    ref, error, message = (text.format(root=root) if isinstance(text, str) else text for text in BAD_IDS[case])
    for new_id in ("ab000001", "ab000002"):  # two ids with one prefix
        copy_record(root, flows["done"].id, new_id)
    (folder(root) / "sub").mkdir()
    for outside in (root / ".runlab" / "x.json", folder(root) / "sub" / "x.json"):  # records where an id must not reach
        outside.write_text((folder(root) / f"{flows['done'].id}.json").read_text())
    with pytest.raises(error) as caught:
        load_workflow(root, ref)
    assert str(caught.value).startswith(message)
    result = invoke(root, "show", ref)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Error: {caught.value}\n" and result.stderr.startswith(f"Error: {message}")


def record_with(**changes: Any) -> str:
    data = {"id": "bad00001", "kind": "pipeline", "state": "completed", "created": 1.0, "ended": 2.0,
            "steps": {"a": {"after": [], "runs": ["r1"], "state": "completed", "error": None},
                      "b": {"after": ["a"], "runs": [], "state": "completed", "error": None}}}  # fmt: skip
    for key, value in changes.items():
        if key.startswith("step_"):
            data["steps"]["b"][key.removeprefix("step_")] = value  # type: ignore[index]
        elif value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


#: (the damaged record file's content, the reason it is listed with)
DAMAGED = {
    "empty": ("", "is empty"),
    "not JSON": ('{"id": "bad00001", "kind": ', "is not JSON"),
    "not an object": ("[1, 2]", "holds list, not an object"),
    "steps not an object": (record_with(steps=["a"]), "has a field of the wrong type: steps is ['a'], not dict"),
    "created a text": (record_with(created="today"), "created is 'today', not int or float"),
    "a field missing": (record_with(kind=None), "has no field 'kind'"),
    "a step not an object": (record_with(steps={"a": 3}), "has a field of the wrong type: steps['a'] is 3, not dict"),
    "a run id not a text": (record_with(step_runs=[7]), "steps['b'].runs holds 7, not str"),
    "after a text": (record_with(step_after="a"), "steps['b'].after is 'a', not list"),
    "after an unknown step": (record_with(step_after=["zz"]), "has step 'b' after 'zz', which is not one of its steps"),
    "another id": (record_with(id="other"), "has the id 'other', not its file's name 'bad00001'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_record_is_named_with_the_way_out(case: str, flows: dict[str, Any], root: Path) -> None:
    content, reason = DAMAGED[case]
    path = folder(root) / "bad00001.json"
    path.write_text(content)

    with pytest.raises(DamagedWorkflowError) as caught:  # a UsageError and a DamagedFileError naming the file
        load_workflow(root, "bad00001")
    assert isinstance(caught.value, DamagedFileError) and isinstance(caught.value, UsageError)
    assert caught.value.path == str(path) and reason in caught.value.reason

    shown = invoke(root, "show", "bad0")
    assert shown.exit_code == 2 and shown.stdout == ""
    assert shown.stderr.count("\n") == 1, shown.stderr
    assert shown.stderr.startswith(f"Error: The workflow record {path} is damaged: it ")
    assert reason in shown.stderr and "Remove it or restore it from a backup" in shown.stderr

    listed = invoke(root, "list", "-f", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [flows["done"].id, flows["failed"].id, "bad00001"]  # the others still listed
    assert rows[-1]["state"] == "damaged" and reason in rows[-1]["problem"]
    assert str(path) in listed.stderr and "Remove it or restore it" in listed.stderr
    table = invoke(root, "list")
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[-1] == "problem"
    assert table.stdout.splitlines()[-1].split()[:2] == ["bad00001", "-"] and "damaged" in table.stdout

    listed_api = list_workflows(root)
    assert isinstance(listed_api[-1], DamagedWorkflowError) and listed_api[-1].id == "bad00001"
    assert path.read_text() == content  # reading changes nothing


def test_the_driver_prints_the_id_when_the_record_is_first_written(tmp_path: Path, root: Path) -> None:
    """The id is on stderr while the workflow still runs: a user who kills the driver knows it."""
    hold = tmp_path / "hold"
    hold.touch()
    (tmp_path / "slow.py").write_text(f"import os, time\ndef main():\n    while os.path.exists({str(hold)!r}):\n"
                                      "        time.sleep(0.05)\n    return 1\n")  # fmt: skip
    (tmp_path / "ok.py").write_text("def main():\n    return 1\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-m", "runlab", "--root", str(root), "workflow", "sequential", "slow.py", "ok.py"]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # before the slow step ends: the workflow is still running
        assert hold.exists() and proc.poll() is None
        [path] = folder(root).glob("*.json")
        assert first == f"workflow {path.stem} started (runlab workflow show {path.stem})\n"
        deadline = time.monotonic() + 30
        while load_workflow(root, path.stem).steps["slow"].state != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        shown = json.loads(invoke(root, "show", path.stem, "-f", "json").stdout)
        assert shown["state"] == "running" and [s["state"] for s in shown["steps"]] == ["running", "pending"]
    finally:
        hold.unlink()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    assert err.endswith(f"workflow {path.stem} completed\n")


def test_the_python_api_prints_the_id_too(tmp_path: Path, root: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ok.py").write_text("def main():\n    return 1\n")
    flow = Sequential([Script(tmp_path / "ok.py")], root=root)
    flow.run()
    assert flow.record is not None
    captured = capfd.readouterr()
    assert f"workflow {flow.record.id} started (runlab workflow show {flow.record.id})\n" in captured.err
