"""PyComex (seed 000) experiment surface: log_pretty, tracked data, named archives, archive helpers, introspection."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab import Experiment

from .conftest import EXAMPLES, run_example


def test_sections_2_2_and_4_2_to_4_4_run_as_the_seed_shows(tmp_path: Path) -> None:
    script = tmp_path / "exps" / "pycomex_archive.py"
    script.parent.mkdir()
    shutil.copy(EXAMPLES / "pycomex_archive.py", script)
    out = run_example([str(script)], tmp_path, tmp_path / "elsewhere").stdout
    folder = script.parent / "results" / "pycomex_archive" / "my_archive"
    assert (folder / "run.json").is_file()  # section 4.2: name= names the folder
    assert "data['loss'] = [0.5, 0.4, 0.3, 0.2, 0.1]" in out
    assert "metadata['__track__'] = ['loss', 'visualization']" in out
    assert "'train': 0.123}}" in out  # log_pretty of the nested dict
    assert out.splitlines()[-1] == "archive: my_archive completed 5 [0.5, 0.4, 0.3, 0.2, 0.1]"
    record = runlab.runs(root=script.parent)[0]
    assert record.data["loss"] == [0.5, 0.4, 0.3, 0.2, 0.1] and record.name == "my_archive"
    assert {"results.json", "summary.txt", "plot.png"} <= set(record.artifacts)
    second = run_example([str(script)], tmp_path, tmp_path / "elsewhere").stdout  # the name is taken: id added
    assert "archive: my_archive__" in second.splitlines()[-1]
    assert (folder / "run.json").is_file() and len(runlab.runs(root=script.parent)) == 2


@pytest.mark.parametrize("bad", ["nope", "run.json-less"])
def test_is_archive_and_load_metadata_of_what_is_not_a_run(tmp_path: Path, bad: str) -> None:
    target = tmp_path / bad
    if bad != "nope":
        target.mkdir()
    assert Experiment.is_archive(target) is False
    with pytest.raises(runlab.RunNotFoundError):
        Experiment.load_metadata(target)


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_log_parameters_of_chosen_names_and_odd_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exp = Experiment(glob={"LR": 0.1, "OBJ": _BadRepr(), "EPOCHS": 3}, root=tmp_path, namespace="lp")
    exp.log_parameters(["LR", "OBJ"])
    out = capsys.readouterr().out
    assert "LR  = 0.1" in out and "<_BadRepr: repr failed: RuntimeError: no repr>" in out and "EPOCHS" not in out
    with pytest.raises(runlab.ParameterError, match="No parameter 'LRR' to log"):
        exp.log_parameters(["LRR"])


def test_introspection_of_an_experiment(tmp_path: Path) -> None:
    exp = Experiment(glob={"LR": 0.1}, root=tmp_path, namespace="intro")

    @exp.hook("before_run")
    def hello(e: Any) -> None:
        pass

    @exp
    def main(e: Any) -> None:
        raise ValueError("boom")

    assert exp.name == "intro" and exp.mixins == [] and exp.hooks == {"before_run": [hello]} and exp.error is None
    with pytest.raises(ValueError):
        exp.run()
    assert exp.error is not None and exp.error["type"] == "ValueError"
    assert Experiment.is_archive(exp.path) is False  # it failed
    assert Experiment.load_metadata(exp.path)["status"] == "failed"


def test_import_from_loads_an_experiment_without_running_it(tmp_path: Path) -> None:
    exp = Experiment.import_from(EXAMPLES.parent / "functional" / "base_experiment.py")
    assert isinstance(exp, Experiment) and exp.LEARNING_RATE == 0.1 and exp.name == "base_experiment"
    assert len(runlab.runs(root=tmp_path / "s")) == 0  # importing runs nothing
    exp.root = tmp_path / "s"
    run = exp.run({"NUM_EPOCHS": 2})
    assert run.status == "completed" and run.params["NUM_EPOCHS"] == 2
    (tmp_path / "plain.py").write_text("x = 1\n")
    with pytest.raises(runlab.ExperimentNotFoundError, match="defines no experiment to import"):
        Experiment.import_from("plain.py", {"__file__": str(tmp_path / "here.py")})
    with pytest.raises(runlab.ValidationError, match="Cannot find the experiment file"):
        Experiment.import_from(tmp_path / "missing.py")


@pytest.mark.parametrize(
    ("config", "errors", "warnings", "hints"),
    [
        ("parameters:\n  LEARNING_RATE: 0.2\n", [], [], []),
        ("parameters:\n  LEARNING_RATE: 0.1\n", [], ["LEARNING_RATE"], []),
        ("parameters:\n  LEARNIN_RATE: 0.2\n", ["LEARNIN_RATE"], [], ["Did you mean 'LEARNING_RATE'?"]),
        ("parameters:\n  NUM_EPOCHS: many\n", ["NUM_EPOCHS"], [], []),
        ("parameters:\n  ZZZ: 1\n  __DEBUG__: true\n", ["ZZZ"], [], []),
    ],
)
def test_check_config_returns_errors_warnings_and_hints(
    tmp_path: Path, config: str, errors: list[str], warnings: list[str], hints: list[str]
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(config)
    found = runlab.check_config(EXAMPLES.parent / "functional" / "base_experiment.py", path)
    assert [i.name for i in found.errors] == errors and found.ok is (not errors)
    assert [i.name for i in found.warnings] == warnings
    assert [i.message for i in found.hints] == hints
