"""Run requests: serialisation, bad input, and the same run in-process and in a fresh process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlab
from runlab.request import LINK_NAMES, Links, Origin, RunOptions, RunRequest, RunResult, Target, execute

from ..conftest import forget_stores

REPO = Path(__file__).resolve().parents[2]
STYLES = REPO / "examples" / "styles"
LINKS = Links(sweep="sw-1", study="st-1", trial=3, workflow="wf-1", parent="p-1")


def _record(run_id: str, root: Path) -> dict[str, Any]:
    forget_stores()
    meta = runlab.load(run_id, root=root).metadata
    return {
        "params": meta["params"],
        "links": {name: meta[name] for name in LINK_NAMES},
        "origin": meta["origin"],
        "namespace": meta["namespace"],
        "name": meta["name"],
        "tags": meta["tags"],
        "status": meta["status"],
    }


def _fresh(request_file: Path, *more: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runlab.execute", str(request_file), *more],
        capture_output=True, text=True, cwd=cwd, timeout=120, env=dict(os.environ),
    )  # fmt: skip


def _requests(tmp_path: Path) -> dict[str, RunRequest]:
    config = tmp_path / "exp_config.yml"
    config.write_text(f"extend: {STYLES / 'functional.py'}\nnamespace: from_config\nparameters:\n  EPOCHS: 2\n")
    options = RunOptions(name="req", tags=("a", "b"), root=str(tmp_path / "store"), capture=False)

    def make(target: Target, params: dict[str, Any], **more: Any) -> RunRequest:
        return RunRequest(target, params, options, LINKS, Origin("test", ("--x=1",)), **more)

    return {
        "functional": make(Target("functional", STYLES / "functional.py"), {"EPOCHS": 3, "LEARNING_RATE": 0.25}),
        "config": make(Target("config", config), {"EPOCHS": 2, "POINTS": 10}),
        "script": make(
            Target("script", STYLES / "script.py"), {"epochs": 3, "shape": (2, 3)}, recorded={"data": Path("/d")}
        ),
        "context": make(Target("context", STYLES / "context.py"), {"learning_rate": 0.5, "epochs": 4, "points": 9}),
    }


@pytest.mark.parametrize("style", ["functional", "config", "script", "context"])
def test_a_request_gives_the_same_run_in_process_and_in_a_fresh_process(tmp_path: Path, style: str) -> None:
    request = _requests(tmp_path)[style]
    here = execute(request)
    assert here.status is runlab.RunStatus.COMPLETED and here.run_id is not None, here.error
    request_file = request.write(tmp_path / "request.json")
    assert RunRequest.read(request_file) == request
    out = _fresh(request_file, "--result", str(tmp_path / "result.json"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    there = RunResult.from_json((tmp_path / "result.json").read_text())
    assert out.stdout.splitlines()[-1].split()[:3] == ["run", there.run_id, "completed"]
    assert there.run_id != here.run_id and there.status is here.status and there.value == here.value
    first, second = _record(here.run_id, tmp_path / "store"), _record(str(there.run_id), tmp_path / "store")
    assert first == second
    assert first["links"] == {"rerun_of": None, **LINKS.to_dict()} and first["origin"]["via"] == "test"
    assert first["origin"]["style"] == ("functional" if style == "config" else style)
    values = {name: rec["value"] for name, rec in first["params"].items()}
    assert {k: values[k] for k in request.params} == {
        k: list(v) if isinstance(v, tuple) else v for k, v in request.params.items()
    }
    if style == "script":
        assert values["data"] == "/d" and isinstance(here.value, dict) and set(here.value) == {"w", "b"}
    if style == "config":
        assert first["namespace"] == "from_config" and values["POINTS"] == 10


def test_values_json_cannot_hold_travel_by_pickle() -> None:
    values = {"t": (1, 2), "p": Path("/x"), "s": {1, 2}, "nan": math.nan, "k": {1: "a"}, "own": {"__pickle__": 1}}
    request = RunRequest(Target("script", Path("/tmp/x.py"), args=((1, 2),), kwargs={"p": Path("/y")}), values)
    data = json.loads(request.to_json())
    assert all(set(v) == {"__pickle__"} for v in data["params"].values())
    back = RunRequest.from_json(request.to_json())
    assert back.params["t"] == (1, 2) and back.params["p"] == Path("/x") and back.params["s"] == {1, 2}
    assert math.isnan(back.params["nan"]) and back.params["own"] == {"__pickle__": 1}
    assert back.target.args == ((1, 2),) and back.target.kwargs == {"p": Path("/y")}
    plain = RunRequest(Target("script", Path("/tmp/x.py")), {"a": [1, {"b": None}], "c": 0.5})
    assert json.loads(plain.to_json())["params"] == {"a": [1, {"b": None}], "c": 0.5}  # JSON stays readable


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(st.text(min_size=1, max_size=8), _json | st.tuples(st.integers()), max_size=5))
def test_any_values_round_trip(params: dict[str, Any]) -> None:
    request = RunRequest(Target("functional", Path("/tmp/e.py")), params, links=Links(trial=1))
    assert RunRequest.from_json(request.to_json()) == request


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "must be JSON"),
        ("[1]", "Not a run request"),
        ('{"runlab_request": 99, "target": {}}', "format 99 is not supported"),
        ('{"runlab_request": 1}', "Malformed run request"),
        ('{"runlab_request": 1, "target": {"kind": "notebook"}}', "Invalid target kind 'notebook'"),
        ('{"runlab_request": 1, "target": {"kind": "script"}, "links": {"sweeep": 1}}', "Unknown run link 'sweeep'"),
        ('{"runlab_request": 1, "target": {"kind": "script"}, "params": {"a": {"__pickle__": "eA=="}}}', "Cannot load"),
        ('{"runlab_request": 1, "target": {"kind": "script"}, "options": {"colour": 1}}', "Malformed"),
    ],
)
def test_bad_requests_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(runlab.ValidationError, match=message):
        RunRequest.from_json(text)


def test_a_value_that_cannot_travel_names_itself() -> None:
    request = RunRequest(Target("script", Path("/tmp/x.py")), {"fn": lambda: 1})
    with pytest.raises(runlab.ValidationError, match=r"params\['fn'\].*pickle failed"):
        request.to_json()


def test_the_command_exits_by_the_run_state_and_writes_the_result(tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text("x = 1\ndef main():\n    return 1 / (x - 1)\n")
    request = RunRequest(Target("script", script), {"x": 1}, RunOptions(root=str(tmp_path / "store"), capture=False))
    out = _fresh(request.write(tmp_path / "req.json"), "--result=" + str(tmp_path / "res.json"), cwd=tmp_path)
    assert out.returncode == 1 and " failed " in out.stdout
    assert "ZeroDivisionError" in out.stderr and "runlab/" not in out.stderr  # the user's frames only
    result = RunResult.from_json((tmp_path / "res.json").read_text())
    assert result.status is runlab.RunStatus.FAILED and result.error == "ZeroDivisionError: division by zero"
    in_process = execute(request)
    assert in_process.status is runlab.RunStatus.FAILED and isinstance(in_process.exception, ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):
        execute(request, raise_errors=True)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing.json"], 2, "Cannot read run request missing.json"),
        (["bad.json"], 2, "bad.json: A run request must be JSON"),
        (["req.json", "--colour"], 2, "unexpected argument '--colour'"),
        (["nofile.json"], 2, "No such script"),
        ([], 2, "usage: python -m runlab.execute"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "bad.json").write_text("{")
    RunRequest(Target("script", tmp_path / "x.py")).write(tmp_path / "req.json")
    RunRequest(Target("script", tmp_path / "gone.py")).write(tmp_path / "nofile.json")
    out = subprocess.run([sys.executable, "-m", "runlab.execute", *args], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)  # fmt: skip
    assert out.returncode == code and message in out.stdout + out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "runs").exists()


def test_runlab_execute_is_callable_also_once_the_module_is_imported(tmp_path: Path) -> None:
    import importlib

    module = importlib.import_module("runlab.execute")
    script = tmp_path / "one.py"
    script.write_text("def main():\n    return 1\n")
    request = RunRequest(Target("script", script), options=RunOptions(root=str(tmp_path / "s"), capture=False))
    assert module(request).value == 1 and runlab.execute(request).value == 1


def test_every_entry_point_records_its_origin(tmp_path: Path) -> None:
    exp = runlab.Experiment(glob={"A": 1, "__file__": str(tmp_path / "e.py")}, root=tmp_path / "s", namespace="n")
    exp(lambda e: e.A)
    run = exp.run(A=2)
    assert run.metadata["origin"]["via"] == "Experiment.run" and run.params["A"] == 2
    request = exp.request({"A": "3"}, links={"trial": 7})
    assert request.params == {"A": 3} and request.links.trial == 7  # validated where it entered
    with pytest.raises(runlab.ParameterError, match="Unknown parameter 'B'"):
        exp.request({"B": 1})
    with runlab.run(params={"p": 1}, root=tmp_path / "s") as ctx_run:
        pass
    assert ctx_run.metadata["trial"] is None and ctx_run.metadata["rerun_of"] is None
    in_memory = runlab.Experiment(glob={"A": 1}, root=tmp_path / "s")
    in_memory(lambda e: None)
    with pytest.raises(runlab.ValidationError, match="names no file"):
        execute(in_memory.request())


def test_a_result_file_that_cannot_be_written_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "ok.py"
    script.write_text("def main():\n    return 1\n")
    request = RunRequest(Target("script", script), options=RunOptions(root=str(tmp_path / "s"), capture=False))
    missing = tmp_path / "no" / "dir" / "r.json"
    out = _fresh(request.write(tmp_path / "req.json"), "--result", str(missing), cwd=tmp_path)
    assert out.returncode == 1 and "cannot write the result" in out.stderr and " completed " in out.stdout
