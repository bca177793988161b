"""Workflows: Sequential, Parallel, Pipeline (dependencies, inputs, skipping), YAML files and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab import Config, ConfigGenerator, Parallel, Pipeline, Script, Sequential
from runlab.cli._main import _register, cli
from runlab.errors import ValidationError
from runlab.store import Store
from runlab.workflow import Step, load_workflow, order_steps

_register()


def write(folder: Path, name: str, code: str) -> Path:
    path = folder / name
    path.write_text(code)
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "a": write(tmp_path, "a.py", "N = 1\ndef main():\n    return N\n"),
        "fail": write(tmp_path, "fail.py", "def main():\n    raise RuntimeError('step broke')\n"),
        "sum": write(
            tmp_path,
            "sum.py",
            "import runlab\ndef main():\n    return sum(r.data['result'] for r in runlab.inputs().values())\n",
        ),
    }


def test_order_steps_errors_name_the_problem() -> None:
    with pytest.raises(ValidationError, match=r"cycle: a -> c -> b -> a"):
        order_steps([Step("a", None, ["c"]), Step("b", None, ["a"]), Step("c", None, ["b"])])
    with pytest.raises(ValidationError, match=r"unknown step 'trian'\. Did you mean 'train'"):
        order_steps([Step("train", None), Step("eval", None, ["trian"])])
    with pytest.raises(ValidationError, match="defined twice"):
        order_steps([Step("a", None), Step("a", None)])
    assert order_steps([Step("d", None, ["b", "c"]), Step("b", None, ["a"]), Step("c", None, ["a"]),
                        Step("a", None)]) == ["a", "b", "c", "d"]  # fmt: skip


def test_sequential_runs_in_order_and_links_the_runs(files: dict[str, Path], root: Path) -> None:
    flow = Sequential([Script(files["a"], config=Config({"N": 2})), files["a"]], root=root)
    results = flow.run()
    assert [r.value for r in results] == [2, 1] and flow.ok
    record = flow.record
    assert record is not None and list(record.steps) == ["a", "a-2"]
    runs = {r.id: r for r in Store(root).runs()}
    assert set(runs) == set(record.run_ids)
    assert {r.metadata["workflow"] for r in runs.values()} == {record.id}
    assert load_workflow(root, record.id).state == "completed"


def test_sequential_iterates_a_generator_config_lazily(files: dict[str, Path], root: Path) -> None:
    seen: list[int] = []

    def configs():  # type: ignore[no-untyped-def]
        for n in range(3):
            seen.append(len(Store(root).runs(status="completed")) if root.exists() else 0)
            yield Config({"N": n})

    flow = Sequential([Script(files["a"], config=ConfigGenerator(configs()))], root=root)
    assert [r.value for r in flow.run()] == [0, 1, 2]
    assert seen == [0, 1, 2]  # each config was asked for after the previous run finished


def test_sequential_stops_at_a_failure(files: dict[str, Path], root: Path) -> None:
    flow = Sequential([files["a"], files["fail"], files["a"]], root=root)
    results = flow.run()
    assert [str(r.status) for r in results] == ["completed", "failed"]
    assert flow.record is not None
    assert [s.state for s in flow.record.steps.values()] == ["completed", "failed", "skipped"]
    assert flow.record.state == "failed" and "step broke" in str(flow.record.steps["fail"].error)


@pytest.mark.parametrize("mode", ["pool", "subprocess"])
def test_parallel_runs_every_config_in_its_own_process(mode: str, files: dict[str, Path], root: Path) -> None:
    configs = [Config({"N": n}) for n in (1, 2, 3)]
    flow = Parallel([Script(files["a"], config=configs), files["fail"]], max_workers=2, mode=mode, root=root)
    results = flow.run()
    assert sorted(str(r.value) for r in results) == ["1", "2", "3", "None"]
    assert flow.record is not None and flow.record.state == "failed"
    assert {s: st.state for s, st in flow.record.steps.items()} == {"a": "completed", "fail": "failed"}
    assert len(Store(root).runs()) == 4


@pytest.mark.parametrize("executor", ["inline", "local"])
def test_pipeline_runs_in_dependency_order_and_reads_inputs(executor: str, files: dict[str, Path], root: Path) -> None:
    pipe = Pipeline(root=root, executor=executor, workers=2)
    a = pipe.step("a", Script(files["a"], config=Config({"N": 5})))
    b = pipe.step("b", Script(files["sum"]), after=[a])
    c = pipe.step("c", Script(files["a"], config=Config({"N": 7})))
    pipe.step("d", files["sum"], after=[b, c])
    pipe.run()
    assert pipe.ok
    assert [r.value for r in pipe.results["d"]] == [12]  # b (= a = 5) + c (= 7)


def test_a_failed_step_skips_its_dependents_only(files: dict[str, Path], root: Path) -> None:
    pipe = Pipeline({"bad": files["fail"], "after_bad": (files["a"], ["bad"]), "other": files["a"],
                     "last": (files["sum"], ["after_bad"])}, root=root)  # fmt: skip
    pipe.run()
    assert pipe.record is not None
    states = {name: step.state for name, step in pipe.record.steps.items()}
    assert states == {"bad": "failed", "after_bad": "skipped", "other": "completed", "last": "skipped"}
    assert len(Store(root).runs()) == 2


def test_inputs_outside_a_workflow_is_a_usage_error(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run, pytest.raises(runlab.UsageError, match="not a workflow"):
        runlab.inputs(run)


def test_workflow_file_from_the_cli(files: dict[str, Path], tmp_path: Path, root: Path) -> None:
    flow = tmp_path / "flow.yml"
    flow.write_text("name: demo\nsteps:\n  a: {script: a.py, params: {N: 4}}\n  c: {script: a.py}\n"
                    "  total: {script: sum.py, after: [a, c]}\n")  # fmt: skip
    result = CliRunner().invoke(cli, ["--root", str(root), "workflow", "run", str(flow), "-j", "2"])
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("run ") for line in result.stdout.splitlines()) == 3
    [record_file] = (root / ".runlab" / "workflows").glob("*.json")
    record = json.loads(record_file.read_text())
    assert record["name"] == "demo" and record["state"] == "completed"
    total = Store(root).load(record["steps"]["total"]["runs"][0])
    assert total.data["result"] == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps:\n  a: {script: a.py, after: [b]}\n  b: {script: a.py, after: [a]}\n", "cycle: a -> b -> a"),
        ("steps:\n  a: {script: a.py, after: [nope]}\n", "unknown step 'nope'"),
        ("steps:\n  a: {script: missing.py}\n", "step 'a': No such script:"),
        ("steps:\n  a: {script: a.py, colour: red}\n", "unknown key 'colour'"),
        ("stages: {}\n", "expected a mapping with 'steps'"),
        ("steps: [\n", "Malformed YAML in {flow} at line 2, column 1: expected the node content"),
        (b"steps:\n  a: {script: a.py}\n\xff\xfe\n", "{flow} is not UTF-8 text (byte 27, line 3)"),
        ("steps:\n  a: {script: folder.py}\n", "step 'a': {dir}/folder.py is a folder; give a Python script"),
        ("steps:\n  a: {script: a.py}\n  a: {script: fail.py}\n", "key 'a' is given twice in one mapping (lines 2 and"),
        ("steps:\n  a: {script: a.py, script: fail.py}\n", "key 'script' is given twice in one mapping (line 2)"),
        ("steps:\n  a:\n    script: a.py\n    params: {N: 1, N: 2}\n", "key 'N' is given twice in one mapping (line 4"),
    ],
)
def test_bad_workflow_files_exit_2_and_run_nothing(text: str | bytes, message: str, files: dict[str, Path],
                                                   tmp_path: Path, root: Path) -> None:  # fmt: skip
    flow = tmp_path / "flow.yml"
    (tmp_path / "folder.py").mkdir()
    flow.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = CliRunner().invoke(cli, ["--root", str(root), "workflow", "run", str(flow)])
    assert result.exit_code == 2, result.output
    assert message.format(flow=flow, dir=tmp_path) in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not root.exists() or len(Store(root).runs()) == 0


def test_sequential_and_parallel_commands(files: dict[str, Path], root: Path) -> None:
    seq = CliRunner().invoke(cli, ["--root", str(root), "workflow", "sequential", str(files["a"]), str(files["fail"])])
    assert seq.exit_code == 1 and "workflow" in seq.stderr
    assert "step fail failed: RuntimeError: step broke" in seq.stderr  # why, where the table is not shown
    par = CliRunner().invoke(cli, ["--root", str(root), "workflow", "parallel", str(files["a"]), str(files["a"]),
                                   "-j", "2", "--mode", "pool"])  # fmt: skip
    assert par.exit_code == 0, par.output
    assert len(Store(root).runs()) == 4
