"""PyComex (seed 000) extend chains: INHERIT, __INCLUDE__, .debug, and the public initialize/execute/finalize.

The examples in ``examples/from_seeds/pycomex_extend/`` are the seed's sections 2.5, 7.3, 8.1 and
10.1 and PyComex's INHERIT documentation, imports changed only; the in-process INHERIT tests are
PyComex's own ``tests/functional/test_inherit.py`` cases with their imports changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlab
import runlab.params
from runlab import INHERIT, Experiment, ExperimentMixin
from runlab.params import Inherit, is_inherit

from .conftest import EXAMPLES, example_tree, run_example

FOLDER = EXAMPLES / "pycomex_extend"

# PyComex's tests/assets/mock_inherit_base_experiment.py, imports changed only.
MOCK_BASE = '''"""Base experiment for INHERIT testing."""
from runlab import Experiment
from runlab import file_namespace, folder_path

PARAM_A = 10
PARAM_B = [1, 2, 3]
PARAM_C = {"key": "value"}


@Experiment(
    base_path=folder_path(__file__),
    namespace=file_namespace(__file__),
    glob=globals(),
    debug=True,
)
def experiment(e: Experiment) -> None:
    e.log("base experiment running")


experiment.run_if_main()
'''


def _copy(tmp_path: Path) -> Path:
    """The example folder in a place of its own: PyComex experiments archive beside their files."""
    target = tmp_path / "pycomex_extend"
    shutil.copytree(FOLDER, target, ignore=shutil.ignore_patterns("results", "__pycache__", ".runlab"))
    return target


def _records(folder: Path) -> list[runlab.RunRecord]:
    return list(runlab.runs(root=folder))


# -- the examples, as users run them ----------------------------------------------------
def test_section_2_5_sub_experiment_and_include_from_the_command_line(tmp_path: Path) -> None:
    before = example_tree()
    folder = _copy(tmp_path)
    out = run_example([str(folder / "sub_experiment.py")], tmp_path, tmp_path / "elsewhere").stdout
    assert "Sub-experiment before_run" in out and "Sub code" in out and "Logging level" not in out
    (plain,) = _records(folder)
    assert plain.params["BASE_PARAM"] == 20 and plain.params["__INCLUDE__"] == []

    # PyComex's __INCLUDE__: a mixin added on the command line, its parameter set beside it
    argv = [str(folder / "sub_experiment.py"), "--__INCLUDE__=logging_mixin.py", "--MIXIN_LOG_LEVEL=DEBUG"]
    lines = run_example(argv, tmp_path, tmp_path / "elsewhere").stdout.splitlines()
    order = [m for line in lines for m in ("Logging level: DEBUG", "Sub-experiment before_run", "Sub code",
                                           "Logging cleanup") if line.endswith(m)]  # fmt: skip
    assert order == ["Logging level: DEBUG", "Sub-experiment before_run", "Sub code", "Logging cleanup"]
    mixed = next(r for r in _records(folder) if r.id != plain.id)
    assert mixed.params["__INCLUDE__"] == ["logging_mixin.py"] and mixed.params["MIXIN_LOG_LEVEL"] == "DEBUG"
    assert (mixed.path / "code" / "logging_mixin.py").is_file()

    # the same through runlab run, with -p, and again by rerun (the record names the mixin)
    out = run_example(["run", str(folder / "sub_experiment.py"), "-p", "__INCLUDE__=logging_mixin.py"], tmp_path,
                      tmp_path / "elsewhere", module=True).stdout  # fmt: skip
    assert "Logging level: INFO" in out
    run_id = out.splitlines()[-1].split()[1]
    again = run_example(["rerun", run_id, "--root", str(folder)], tmp_path, tmp_path / "x", module=True).stdout
    assert "Logging level: INFO" in again and " completed " in again.splitlines()[-1]
    assert example_tree() == before


def test_inherit_example_from_pycomex_docs(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    out = run_example([str(folder / "inherit_experiment.py")], tmp_path, tmp_path / "elsewhere").stdout
    assert "Learning rate: 0.01" in out and "Batch size: 64" in out
    assert "Data paths: ['/data/a', '/data/b', '/data/extra']" in out
    (record,) = _records(folder)
    assert record.params["CONFIG"] == {"optimizer": "adam", "new_key": "new_value"}
    assert record.params["MODEL_NAME"] == "resnet50" and "INHERIT" not in record.params
    # an override on the command line sets the value itself
    out = run_example([str(folder / "inherit_experiment.py"), "--BATCH_SIZE=8"], tmp_path, tmp_path / "x").stdout
    assert "Batch size: 8" in out


def test_sections_7_3_and_10_1_config_with_debug_and_include(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    out = run_example(["run", str(folder / "experiment_config.yml")], tmp_path, tmp_path / "elsewhere",
                      module=True).stdout  # fmt: skip
    assert "Logging level: DEBUG" in out and "Base code" in out and "Logging cleanup" in out
    (record,) = _records(folder)
    assert record.path == folder / "results" / "experiment_config" / "debug"  # __DEBUG__: the reusable folder
    assert record.params["__DEBUG__"] is True and record.params["BASE_PARAM"] == 30
    assert record.params["__INCLUDE__"] == [str(folder / "logging_mixin.py")]  # relative to the config's folder
    assert Experiment.from_config(folder / "experiment_config.yml").debug is True


# -- __INCLUDE__: bad values --------------------------------------------------------------
def _sub(folder: Path) -> Experiment:
    exp = Experiment.import_from(folder / "sub_experiment.py")
    assert isinstance(exp, Experiment)
    return exp


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("nope.py", runlab.ParameterError, "the mixin file 'nope.py' does not exist"),
        ("experiment_config.yml", runlab.ParameterError, "is not a Python file"),
        ("inherit_experiment.py", runlab.ExperimentNotFoundError, "defines no mixin to include"),
        (3, runlab.ParameterError, "Invalid value for '__INCLUDE__': 3"),
        ({"a": 1}, runlab.ParameterError, "Invalid value for '__INCLUDE__'"),
    ],
)
def test_include_refuses_what_is_not_a_mixin_file(tmp_path: Path, value: Any, error: type[Exception],
                                                  message: str) -> None:  # fmt: skip
    folder = _copy(tmp_path)
    exp = _sub(folder)
    with pytest.raises(error, match=message):
        exp.run(__INCLUDE__=value)
    assert _records(folder) == [] and exp.mixins == []  # nothing was run or included


def test_include_on_the_command_line_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    for argv in (["run", str(folder / "sub_experiment.py"), "--__INCLUDE__=nope.py"],
                 ["run", str(folder / "experiment_config.yml"), "--__INCLUDE__=logging_mixin.py,nope.py"]):  # fmt: skip
        out = run_example(argv, tmp_path, tmp_path / "x", module=True, check=False)
        assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1
        assert "'__INCLUDE__'" in out.stderr and "'nope.py' does not exist" in out.stderr
    (folder / "plain.py").write_text("X = 1\n", encoding="utf-8")
    out = run_example(["run", str(folder / "plain.py"), "--__INCLUDE__=logging_mixin.py"], tmp_path, folder,
                      module=True, check=False)  # fmt: skip
    assert out.returncode == 2 and "is a plain script" in out.stderr
    assert _records(folder) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,12}\.py", fullmatch=True), min_size=1, max_size=4))
def test_include_text_reads_as_a_list_of_paths(names: list[str]) -> None:
    param = runlab.params.SPECIAL_PARAMS["__INCLUDE__"]
    expected = [Path(n) for n in names]
    assert param.coerce(",".join(names)) == expected == param.coerce(repr(names)) == param.coerce(names)
    assert param.coerce(",".join(names), base_dir=Path("/base")) == [Path("/base") / p for p in expected]


def test_include_as_a_module_global_and_through_the_api(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "with_global.py").write_text(
        "from runlab import Experiment\n__INCLUDE__ = 'logging_mixin.py'\nX = 1\n"
        "experiment = Experiment(glob=globals(), root='store')\n"
        "@experiment\ndef main(e):\n    e.log(f'level {e.MIXIN_LOG_LEVEL}')\n",
        encoding="utf-8",
    )
    exp = Experiment.import_from(folder / "with_global.py")
    assert [m.path for m in exp.mixins] == [folder / "logging_mixin.py"] and exp.MIXIN_LOG_LEVEL == "INFO"
    sub = _sub(folder)
    run = sub.run(__INCLUDE__=["logging_mixin.py", "logging_mixin.py"], MIXIN_LOG_LEVEL="WARN")
    assert run.params["MIXIN_LOG_LEVEL"] == "WARN" and len(sub.mixins) == 1  # included once
    assert isinstance(sub.mixins[0], ExperimentMixin)
    assert "setup_logging" in [f.__name__ for f in sub.hooks["before_run"]]
    assert sub.run().params["__INCLUDE__"] == ["logging_mixin.py"]  # later runs record the mixin too


# -- INHERIT: PyComex's own tests ------------------------------------------------------------
def _extend(tmp_path: Path, namespace: str, **values: Any) -> Experiment:
    base = tmp_path / "mock_inherit_base_experiment.py"
    base.write_text(MOCK_BASE, encoding="utf-8")
    glob: dict[str, Any] = {"__name__": "iso", "__file__": str(tmp_path / "iso.py"), **values}
    return Experiment.extend(experiment_path=str(base), base_path=str(tmp_path), namespace=namespace, glob=glob)


def test_inherit_sentinel() -> None:
    assert is_inherit(INHERIT) and isinstance(INHERIT(lambda x: x * 2), Inherit) and repr(INHERIT) == "INHERIT"
    with pytest.raises(TypeError, match="callable"):
        INHERIT(42)  # type: ignore[arg-type]
    import pickle

    assert pickle.loads(pickle.dumps(INHERIT)) is INHERIT


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"PARAM_A": INHERIT}, {"PARAM_A": 10}),  # test_basic_inherit_pass_through
        ({"PARAM_A": INHERIT(lambda x: x * 3)}, {"PARAM_A": 30}),  # test_inherit_with_transform
        ({"PARAM_B": INHERIT(lambda x: x + [4, 5])}, {"PARAM_B": [1, 2, 3, 4, 5]}),  # noqa: RUF005 (test_inherit_list_append)
        ({"PARAM_A": INHERIT, "PARAM_C": "overridden"}, {"PARAM_A": 10, "PARAM_C": "overridden"}),  # mixed
        ({"PARAM_B": INHERIT(lambda x: x.append(9) or x)}, {"PARAM_B": [1, 2, 3, 9]}),  # a copy is transformed
        ({"PARAM_A": INHERIT(lambda x: x + 5)}, {"PARAM_A": 15}),  # test_inherit_resolved_values_in_metadata
    ],
)
def test_inherit_in_an_extending_experiment(tmp_path: Path, values: dict[str, Any], expected: dict[str, Any]) -> None:
    experiment = _extend(tmp_path, "test_inherit", **values)
    seen: dict[str, Any] = {}

    @experiment
    def run(e: Experiment) -> None:
        seen.update({name: getattr(e, name) for name in expected})

    record = experiment.run()
    assert seen == expected and {n: experiment.parameters[n] for n in expected} == expected
    assert {n: record.params[n] for n in expected} == expected  # concrete values in the record
    assert all(record.metadata["params"][n]["usable"] for n in expected)
    base = Experiment.import_from(tmp_path / "mock_inherit_base_experiment.py")
    assert base.PARAM_B == [1, 2, 3]  # the base is never changed


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"NONEXISTENT_PARAM": INHERIT}, "NONEXISTENT_PARAM"),  # test_inherit_missing_parent_parameter_raises
        ({"PARAM_AA": INHERIT(lambda x: x)}, "Did you mean 'PARAM_A'"),
        ({"PARAM_C": INHERIT(lambda x: x["missing"])}, "transform of parameter 'PARAM_C' failed .* KeyError"),
    ],
)
def test_inherit_errors(tmp_path: Path, values: dict[str, Any], message: str) -> None:
    with pytest.raises(runlab.InheritError, match=message) as info:
        _extend(tmp_path, "test_inherit_missing", **values)
    assert isinstance(info.value, runlab.ParameterError) and isinstance(info.value, ValueError)
    with pytest.raises(runlab.InheritError, match="base experiment has no parameter 'LR'"):
        Experiment(glob={"LR": INHERIT}, root=tmp_path)  # INHERIT outside an extend chain


def test_multi_level_inherit(tmp_path: Path) -> None:
    """Base(PARAM_A=10) -> Child(INHERIT(x*2)) -> Grandchild(INHERIT) resolves to 20 (test_multi_level_inherit)."""
    (tmp_path / "mock_inherit_base_experiment.py").write_text(MOCK_BASE, encoding="utf-8")
    child = tmp_path / "child_experiment.py"
    child.write_text(
        "from runlab import Experiment\nfrom runlab import INHERIT\nfrom runlab import file_namespace, folder_path\n\n"
        "PARAM_A = INHERIT(lambda x: x * 2)\n\nexperiment = Experiment.extend(\n"
        f"    experiment_path={str(tmp_path / 'mock_inherit_base_experiment.py')!r},\n"
        "    base_path=folder_path(__file__),\n    namespace=file_namespace(__file__),\n    glob=globals(),\n)\n\n"
        "experiment.run_if_main()\n",
        encoding="utf-8",
    )
    glob = {"__name__": "iso", "__file__": str(tmp_path / "iso.py"), "PARAM_A": INHERIT, "INHERIT": INHERIT}
    experiment = Experiment.extend(experiment_path=str(child), base_path=str(tmp_path), namespace="gc", glob=glob)
    assert experiment.PARAM_A == 20 and glob["PARAM_A"] == 20 and "INHERIT" not in experiment.parameters
    assert experiment.run().params["PARAM_A"] == 20


def test_inherit_as_an_override_transforms_the_default(tmp_path: Path) -> None:
    experiment = _extend(tmp_path, "ov", PARAM_A=INHERIT(lambda x: x * 2))

    @experiment
    def run(e: Experiment) -> None:
        pass

    assert experiment.run(PARAM_A=INHERIT(lambda x: x + 1)).params["PARAM_A"] == 21
    assert experiment.run(PARAM_A=7).params["PARAM_A"] == 7  # a plain override sets the value


# -- .debug -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "debug"),
    [
        (lambda root: Experiment(glob={"X": 1}, root=root), False),
        (lambda root: Experiment(glob={"X": 1, "__DEBUG__": True}, root=root), True),  # the module global
        (lambda root: Experiment(glob={"X": 1}, root=root, debug=True), True),
    ],
)
def test_debug_reflects_dunder_debug(tmp_path: Path, make: Callable[[Path], Experiment], debug: bool) -> None:
    exp = make(tmp_path)
    seen: list[bool] = []
    exp(lambda e: seen.append(e.debug))
    assert exp.debug is debug and exp.run().path.name.startswith("debug") is debug and seen == [debug]
    assert exp.run(__DEBUG__=True).path.name == "debug" and seen[-1] is True  # the run's own value
    assert exp.debug is debug  # ... for that run only
    exp.debug = True
    assert exp.parameters["__DEBUG__"] is True and exp.run().path.name == "debug"


def test_debug_from_the_command_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    script = folder / "debug_flag.py"
    script.write_text("from runlab import Experiment, folder_path\nexperiment = Experiment(base_path=folder_path("
                      "__file__), glob=globals())\n@experiment\ndef main(e):\n    print('debug:', e.debug)\n"
                      "experiment.run_if_main()\n", encoding="utf-8")  # fmt: skip
    assert "debug: True" in run_example([str(script), "--__DEBUG__=True"], tmp_path, tmp_path / "x").stdout
    assert "debug: False" in run_example([str(script)], tmp_path, tmp_path / "x").stdout


# -- the public initialize / execute / finalize (seed section 2.3) ----------------------------
def _phased(tmp_path: Path) -> tuple[Experiment, list[str]]:
    calls: list[str] = []
    exp = Experiment(glob={"N": 2, "__doc__": "Phases."}, root=tmp_path / "store", namespace="phases")

    @exp.hook("before_run")
    def before(e: Experiment) -> None:
        calls.append("before_run")

    @exp
    def main(e: Experiment) -> int:
        calls.append(f"main {e.N}")
        return e.N

    return exp, calls


@pytest.mark.parametrize(
    "steps",
    [
        ["execute"],
        ["initialize", "execute"],
        ["initialize", "execute", "finalize"],
        ["execute", "finalize"],
    ],
)
def test_initialize_execute_finalize(tmp_path: Path, steps: list[str]) -> None:
    exp, calls = _phased(tmp_path)
    runs = [getattr(exp, step)() for step in steps]
    assert all(r is runs[0] for r in runs) and runs[0].status == "completed"
    assert calls == ["before_run", "main 2"] and len(list(runlab.runs(root=tmp_path / "store"))) == 1
    assert (runs[0].path / "analysis.py").is_file() and runs[0].metadata["origin"]["via"] == f"Experiment.{steps[0]}"


def test_initialize_and_finalize_around_own_code(tmp_path: Path) -> None:
    exp, calls = _phased(tmp_path)
    run = exp.initialize(N=5)
    assert run.status == "running" and exp.N == 5 and exp.path == run.path and calls == []
    exp["results/value"] = 1.5
    exp.track("loss", 0.5)
    with pytest.raises(runlab.ExperimentContextError, match="already initialized"):
        exp.initialize()
    assert exp.finalize() is run and run.status == "completed" and exp.N == 2
    assert runlab.load(run.id, root=tmp_path / "store").data["results"]["value"] == 1.5
    with pytest.raises(runlab.ExperimentContextError, match="Nothing to finalize"):
        Experiment(glob={}, root=tmp_path).finalize()


def test_execute_records_the_error_and_raises_it(tmp_path: Path) -> None:
    exp = Experiment(glob={"N": 1}, root=tmp_path)

    @exp
    def main(e: Experiment) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        exp.execute()
    assert exp.current_run is not None and exp.current_run.status == "failed"
    assert exp.error is not None and exp.error["type"] == "KeyError"

    plain = Experiment(glob={"N": 1}, root=tmp_path, namespace="manual")  # no main function
    run = plain.initialize()
    with pytest.raises(runlab.ValidationError, match="no main function"):
        plain.execute()
    assert run.status == "running"  # the initialized run stays open
    assert plain.finalize(ValueError("given up")) is run and run.status == "failed"


def test_check_config_knows_the_parameters_of_included_mixins(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    assert runlab.check_config(folder / "base_experiment.py", folder / "experiment_config.yml").ok
    (folder / "other.yml").write_text("include: [logging_mixin.py]\nparameters:\n  MIXIN_LOG_LEVEL: X\n  NOPE: 1\n",
                                      encoding="utf-8")  # fmt: skip
    found = runlab.check_config(folder / "base_experiment.py", folder / "other.yml")
    assert found.unknown == ["NOPE"]
    (folder / "bare.yml").write_text("parameters:\n  MIXIN_LOG_LEVEL: X\n", encoding="utf-8")
    assert runlab.check_config(folder / "base_experiment.py", folder / "bare.yml").unknown == ["MIXIN_LOG_LEVEL"]
