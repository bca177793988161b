"""PyComex (seed 000): the seed's own examples, imports changed only."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import runlab

from .conftest import EXAMPLES, example_tree, run_example


def _copy(tmp_path: Path, name: str) -> Path:
    """The example in a folder of its own: a PyComex experiment archives beside its file."""
    target = tmp_path / "exps" / name
    target.parent.mkdir(exist_ok=True)
    shutil.copy(EXAMPLES / name, target)
    return target


def test_section_2_1_experiment_archives_beside_its_file(tmp_path: Path) -> None:
    script = _copy(tmp_path, "pycomex_experiment.py")
    out = run_example([str(script)], tmp_path, tmp_path / "elsewhere")
    assert "Starting experiment..." in out.stdout and "0.001" in out.stdout.splitlines()
    folders = list((script.parent / "results" / "pycomex_experiment").iterdir())
    record = runlab.runs(root=script.parent)[0]
    assert len(folders) == 1 and folders[0].name.endswith(f"__{record.id}")  # name_format="{date}__{time}__{id}"
    assert record.namespace == "results/pycomex_experiment" and record.path == folders[0]
    assert record.params["LEARNING_RATE"] == 0.001 and record.data["results"]["accuracy"] == 0.95
    assert not (tmp_path / "elsewhere").exists()

    shown = run_example(["show", str(folders[0])], tmp_path, tmp_path / "elsewhere", module=True)
    assert f"id            {record.id}" in shown.stdout.splitlines()
    as_json = run_example(["show", str(folders[0] / "run.json"), "-f", "json"], tmp_path, tmp_path / "x", module=True)
    assert f'"id": "{record.id}"' in as_json.stdout


@pytest.mark.parametrize(
    ("path", "folder", "namespace"),
    [
        ("/a/b/train.py", "/a/b", "results/train"),
        ("train.py", "", "results/train"),  # relative: the folder is the current one
        (Path("/x/exp.tar.py"), "/x", "results/exp"),
    ],
)
def test_folder_path_and_file_namespace(path: Any, folder: str, namespace: str) -> None:
    expected = folder or str(Path("train.py").absolute().parent)
    assert runlab.folder_path(path) == expected
    assert runlab.file_namespace(path) == namespace
    assert runlab.file_namespace(path, prefix="") == namespace.split("/")[1]


@pytest.mark.parametrize("bad", [None, "", 3])
def test_folder_path_refuses_what_is_not_a_path(bad: Any) -> None:
    for helper in (runlab.folder_path, runlab.file_namespace):
        with pytest.raises(runlab.ValidationError, match="pass the module's __file__"):
            helper(bad)


def test_show_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = run_example(["show", str(tmp_path / "empty")], tmp_path, tmp_path / "store", module=True, check=False)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_plugin_tests_of_section_13_3_pass_when_ported(tmp_path: Path) -> None:
    before = example_tree()
    out = run_example(["-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / "pycomex_plugin_test.py")],
                      tmp_path, tmp_path / "store")  # fmt: skip
    assert "4 passed" in out.stdout
    assert example_tree() == before


def test_pycomex_hook_api_refuses_a_misspelt_argument_and_keeps_runlab_managers_strict() -> None:
    from runlab.plugins import PluginManager
    from runlab.testing import MockConfig

    pm = PluginManager(config=MockConfig(), builtin=False)
    with pytest.raises(runlab.HookSignatureError, match="experimnt"):
        pm.register_hook("after_run", lambda config, experimnt: None)
    pm.register_hook("after_run", lambda config, experiment, run: None)  # config is an argument of its hooks
    plain = PluginManager(builtin=False)  # a manager without a host config passes no config
    with pytest.raises(runlab.HookSignatureError, match="config"):
        plain.register_hook("after_run", lambda config, run: None)


def test_experiment_cli_of_section_5_3_lists_describes_and_runs(tmp_path: Path) -> None:
    before = example_tree()
    cli = str(EXAMPLES / "pycomex_cli" / "cli.py")
    root = tmp_path / "results"
    listed = run_example([cli, "list-experiments"], tmp_path, root).stdout
    assert listed.splitlines() == ["quadratic  Minimise (w - 3)^2 by gradient descent."]  # helpers.py is no experiment
    info = run_example([cli, "experiment-info", "quadratic.py"], tmp_path, root).stdout.splitlines()
    assert "  LEARNING_RATE (float) = 0.1  # Step size of gradient descent." in info
    assert "  NUM_STEPS (int) = 5  # gradient steps" in info
    ran = run_example([cli, "run-experiment", "quadratic", "--NUM_STEPS=3"], tmp_path, root)
    record = runlab.runs(root=root)[0]
    assert f"run {record.id} completed" in ran.stdout
    assert record.params["NUM_STEPS"] == 3 and record.data["results"]["w"] == pytest.approx(1.464)
    assert run_example([cli, "--version"], tmp_path, root).stdout.strip() == "my_experiments, version 1.0.0"
    for args, message in ([["run-experiment", "quadrtic"], "Did you mean 'quadratic'?"],
                          [["run-experiment", "quadratic", "--NUM_STEPZ=3"], "NUM_STEPZ"],
                          [["experiment-info"], "Missing argument"]):  # fmt: skip
        bad = run_example([cli, *args], tmp_path, root, check=False)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr
    assert len(runlab.runs(root=root)) == 1  # bad input runs nothing
    assert example_tree() == before


def test_experiment_cli_with_a_missing_folder(tmp_path: Path) -> None:
    from runlab.cli import ExperimentCLI

    cli = ExperimentCLI("x", tmp_path / "nope")
    with pytest.raises(SystemExit) as info:
        cli(["list-experiments"])
    assert info.value.code == 2


def test_a_pycomex_yaml_config_with_its_marker_runs(tmp_path: Path) -> None:
    source = EXAMPLES.parent / "functional"
    for name in ("base_experiment.py", "logging_mixin.py"):
        shutil.copy(source / name, tmp_path / name)
    config = tmp_path / "experiment_config.yml"
    config.write_text("pycomex: true\n" + (source / "experiment_config.yml").read_text())
    root = tmp_path / "store"
    run_example(["run", str(config)], tmp_path, root, module=True)
    record = runlab.runs(root=root)[0]
    assert record.status == "completed" and record.params["LEARNING_RATE"] == 0.3 and record.name == "from_config"
    config.write_text("pycomex: 'yes'\n" + (source / "experiment_config.yml").read_text())
    bad = run_example(["run", str(config)], tmp_path, root, module=True, check=False)
    assert bad.returncode == 2 and "Invalid value for 'pycomex'" in bad.stderr
    assert "expected true or false" in bad.stderr
    assert len(runlab.runs(root=root)) == 1
