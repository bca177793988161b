"""Workflow files: a step's ``params`` are checked, typed and applied as ``runlab run FILE -p NAME=VALUE`` does."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli._main import _register, cli
from runlab.store import Store
from runlab.workflow import load_workflow_file

_register()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("lr = 0.1\nepochs: int = 3\ndef main():\n    return [lr, epochs]\n")
    (tmp_path / "tools.py").write_text(
        "scale = 1\ndef evaluate(checkpoint='last.pt', batch=32):\n    return [checkpoint, batch, scale]\n"
    )
    (tmp_path / "lr.yml").write_text("parameters:\n  lr: 0.5\n  epochs: 7\n")
    return tmp_path


def invoke(flow: Path, root: Path, text: str) -> tuple[int, str]:
    flow.write_text(text)
    result = CliRunner().invoke(cli, ["--root", str(root), "workflow", "run", str(flow), "-x", "inline"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "{script: train.py, params: {nosuch: 1}}",
            "step 'a': Unknown parameter 'nosuch' of train.py. Its parameters: lr, epochs.",
        ),
        ("{script: train.py, params: {LR: 1}}", "Unknown parameter 'LR' of train.py. Did you mean 'lr'?"),
        ("{script: train.py, params: {lr: abc}}", "step 'a': Invalid value for 'lr': 'abc' is not a valid float"),
        ("{script: train.py, params: {epochs: 2.5}}", "Invalid value for 'epochs': 2.5 is not a valid int"),
        (
            "{script: 'tools.py:evaluate', params: {checkpoint: x.pt, nosuch: 1}}",
            "Unknown parameter 'nosuch' of tools.py. Its parameters: scale, checkpoint, batch.",
        ),
        ("{script: 'tools.py:evaluate', params: {batch: many}}", "Invalid value for 'batch': 'many'"),
        ("{script: tools.py, entrypoint: evaluate, params: {batch: many}}", "Invalid value for 'batch': 'many'"),
        ("{script: train.py, config: lr.yml, params: {lr: abc}}", "Invalid value for 'lr': 'abc'"),
        ("{script: train.py, params: {__INCLUDE__: mixin.py}}", "__INCLUDE__ adds mixins to a functional experiment"),
    ],
)
def test_bad_step_params_exit_2_before_anything_runs(step: str, message: str, folder: Path, root: Path) -> None:
    code, output = invoke(folder / "flow.yml", root, f"steps:\n  ok: train.py\n  a: {step}\n")
    assert code == 2, output
    assert message in output and len(output.strip().splitlines()) == 1, output
    assert not root.exists() or Store(root).runs() == []


def test_step_params_are_typed_like_runlab_run(folder: Path, root: Path) -> None:
    flow = folder / "flow.yml"
    code, output = invoke(flow, root, "steps:\n  a: {script: train.py, params: {lr: '0.5', epochs: 4}}\n"
                                      "  b: {script: train.py, config: lr.yml, params: {epochs: '9'}}\n")  # fmt: skip
    assert code == 0, output
    first = load_workflow_file(flow).steps[0]
    assert first.script.config.globals_dict == {"lr": 0.5, "epochs": 4}  # typed where the file is read
    runs = {r.metadata["trial"]: r for r in Store(root).runs()}
    assert runs["a"].data["result"] == [0.5, 4] and runs["a"].params == {"lr": 0.5, "epochs": 4}
    assert runs["b"].data["result"] == [0.5, 9]  # the config file's lr, the step's epochs


@pytest.mark.parametrize(
    "step",
    ["{script: '../tools.py:evaluate', params: {checkpoint: x.pt, batch: '8', scale: 2}}",
     "{script: ../tools.py, entrypoint: evaluate, params: {checkpoint: x.pt, batch: 8, scale: 2}}"],
)  # fmt: skip
def test_entry_point_arguments_are_passed_and_recorded_truthfully(step: str, folder: Path, root: Path) -> None:
    (folder / "flows").mkdir()
    code, output = invoke(folder / "flows" / "flow.yml", root, f"steps:\n  b: {step}\n")
    assert code == 0, output
    [run] = Store(root).runs()
    assert run.data["result"] == ["x.pt", 8, 2]  # arguments given by name, the global injected
    assert run.params == {"checkpoint": "x.pt", "batch": 8, "scale": 2}
    assert run.metadata["origin"]["kwargs"] == {"checkpoint": "x.pt", "batch": 8}
