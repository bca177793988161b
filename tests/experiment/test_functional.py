"""Functional experiments (PyComex style): the examples as real scripts, and the run behaviour in-process."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest

import runlab
from runlab import Experiment
from runlab.experiment._pending import PendingRequest, pending
from runlab.plugins import Plugin, get_manager, hook
from runlab.request import Links, Origin, RunOptions, RunRequest, Target

from ..conftest import forget_stores

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "functional"
_counter = itertools.count()


def run_file(path: Path, *args: str, root: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python path args`` in a fresh interpreter with the store at ``root``."""
    env = {**os.environ, "RUNLAB_ROOT": str(root)}
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120, check=False)  # fmt: skip


def stored(root: Path) -> list[runlab.RunRecord]:
    forget_stores()
    return list(runlab.runs(root=root)) if root.exists() else []


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_experiment(path: Path) -> Any:
    """Import an experiment file as a module (not as ``__main__``) and return its ``experiment``."""
    spec = importlib.util.spec_from_file_location(f"_test_exp_{path.stem}_{next(_counter)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.experiment


@pytest.fixture
def in_store(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Experiments without a root write to ``root``."""
    monkeypatch.setenv("RUNLAB_ROOT", str(root))
    return root


def log_lines(record: runlab.RunRecord) -> list[str]:
    """The messages of ``e.log()`` lines in the run's out.log."""
    text = (record.path / "out.log").read_text()
    return [line.split(" | ", 1)[1] for line in text.splitlines() if " | " in line]


# -- the examples, as a user runs them ---------------------------------------------------
def test_sub_experiment_example_extends_includes_and_records_everything(root: Path) -> None:
    out = run_file(EXAMPLES / "sub_experiment.py", "--LEARNING_RATE=0.2", root=root)
    assert out.returncode == 0, out.stderr
    [rec] = stored(root)
    assert rec.status == "completed" and rec.namespace == "sub_experiment" and rec.experiment == "sub_experiment"
    assert rec.description.startswith("The base experiment with another BASE_PARAM")
    params = rec.metadata["params"]
    assert {k: params[k]["value"] for k in ("LEARNING_RATE", "BASE_PARAM", "NUM_EPOCHS", "MIXIN_LOG_LEVEL")} == {
        "LEARNING_RATE": 0.2, "BASE_PARAM": 20, "NUM_EPOCHS": 3, "MIXIN_LOG_LEVEL": "INFO"}  # fmt: skip
    assert params["LEARNING_RATE"]["description"] == "Step size of the optimiser."  # comment above, in the base
    assert params["LEARNING_RATE"]["type"] == "float"
    assert params["NUM_EPOCHS"]["description"] == "fewer epochs than the base"  # the sub file's own comment
    assert params["MIXIN_LOG_LEVEL"]["description"] == "level of the mixin's log messages"
    assert params["__DEBUG__"]["value"] is False
    hooks = [m for m in log_lines(rec) if m.split(":")[0] in ("base", "mixin", "sub")]
    assert hooks == ["base: before_run", "mixin: before_run (logging level: INFO)", "sub: before_run", "base: main",
                     "base: after_run", "mixin: after_run (logging cleanup)"]  # fmt: skip
    assert rec.data == {"results": {"weight": pytest.approx(2.352), "base_param": 20},  # "_scratch" stays in memory
                        "loss": pytest.approx([9.0, 3.24, 1.1664])}  # tracked values, as in PyComex  # fmt: skip
    assert rec.metrics("loss").steps == [0, 1, 2]
    assert rec.artifacts == ["summary.json"]
    assert json.loads(rec.artifact("summary.json").read_text()) == {"weight": pytest.approx(2.352), "epochs": 3}
    assert {"sub_experiment.py", "base_experiment.py", "logging_mixin.py"} <= {
        p.name for p in (rec.path / "code").iterdir()
    }
    assert rec.metadata["origin"] == {
        "style": "functional",
        "path": str(EXAMPLES / "sub_experiment.py"),
        "config": None,
        "via": "run_if_main",
        "argv": ["--LEARNING_RATE=0.2"],
    }
    hooks = rec.metadata["hooks"]  # the experiment's own hooks, in the order they run
    assert [Path(o).name for o in hooks["before_run"]["origins"]] == [
        "base_experiment.py",
        "logging_mixin.py",
        "sub_experiment.py",
    ] and hooks["before_run"]["num"] == 3


def test_base_experiment_help_and_bad_overrides_on_the_command_line(root: Path) -> None:
    out = run_file(EXAMPLES / "base_experiment.py", "--help", root=root)
    assert out.returncode == 0
    assert "--LEARNING_RATE  (float, default 0.1)" in out.stdout and "Step size of the optimiser." in out.stdout
    assert "--__DEBUG__  (bool, default False)" in out.stdout
    assert "A tiny training loop" in out.stdout
    bad_args = [("--LEARNIG_RATE=0.1", "Did you mean 'LEARNING_RATE'?"),
                ("--NUM_EPOCHS=many", "Invalid value for 'NUM_EPOCHS': 'many' is not a valid int")]  # fmt: skip
    for arg, message in bad_args:
        bad = run_file(EXAMPLES / "base_experiment.py", arg, root=root)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        assert bad.stderr.count("\n") == 1 and message in bad.stderr
    assert stored(root) == []  # no run was created


def test_testing_mode_and_the_generated_analysis_script(root: Path) -> None:
    out = run_file(EXAMPLES / "testing_analysis.py", "--__TESTING__=true", root=root)
    assert out.returncode == 0, out.stderr
    [rec] = stored(root)
    assert rec.params["NUM_POINTS"] == 10 and rec.params["NUM_STEPS"] == 3 and rec.params["__TESTING__"] is True
    assert "testing" in rec.tags and rec.metrics("mse").steps == [0, 1, 2]
    analysis = run_file(rec.path / "analysis.py", root=root, cwd=root.parent)
    assert analysis.returncode == 0, analysis.stderr
    assert f"fit: y = {rec.data['fit']['slope']:.3f} x" in analysis.stdout
    assert "from 10 points" in analysis.stdout and "in 3 steps (finite: True)" in analysis.stdout


def test_a_failing_script_shows_its_traceback_and_records_the_failure(tmp_path: Path, root: Path) -> None:
    path = write(
        tmp_path,
        "broken.py",
        """
        from runlab import Experiment
        X = 1
        experiment = Experiment(glob=globals())

        @experiment
        def main(e):
            raise ValueError("diverged at step 3")

        experiment.run_if_main()
    """,
    )
    out = run_file(path, root=root)
    assert out.returncode == 1 and "Traceback" in out.stderr and "ValueError: diverged at step 3" in out.stderr
    [rec] = stored(root)
    assert rec.status == "failed" and "diverged at step 3" in rec.metadata["error"]["message"]


# -- in-process runs ---------------------------------------------------------------------
def make(tmp_path: Path, body: str, name: str = "exp.py", header: str = "") -> Any:
    """An experiment file with ``LEARNING_RATE``, ``EPOCHS`` and ``body`` appended, loaded."""
    text = f'''"""A small test experiment."""
from runlab import Experiment
{header}
LEARNING_RATE: float = 0.1  # step size
EPOCHS: int = 3

experiment = Experiment(glob=globals())
'''
    return load_experiment(write(tmp_path, name, text + textwrap.dedent(body)))


def test_run_returns_the_finished_run_and_e_param_reads_and_writes(tmp_path: Path, in_store: Path) -> None:
    seen: dict[str, Any] = {}
    exp = make(
        tmp_path,
        """
        def helper():
            return LEARNING_RATE  # a module-level function reads the run's value
    """,
    )

    @exp
    def main(e: Any) -> None:
        seen["lr"], seen["global"] = e.LEARNING_RATE, exp.glob["helper"]()
        e.EPOCHS = 7  # recorded in the run's params
        e["metrics/val/acc"] = 0.9
        e["_cache/big"] = object()  # in memory only
        seen["read"] = e["metrics/val/acc"], e["metrics"]
        e.log("hello")

    run = exp.run(LEARNING_RATE="0.5")
    assert isinstance(run, runlab.Run) and run.status == "completed"
    assert seen == {"lr": 0.5, "global": 0.5, "read": (0.9, {"val": {"acc": 0.9}})}
    rec = runlab.load(run.id)
    assert rec.params["LEARNING_RATE"] == 0.5 and rec.params["EPOCHS"] == 7
    assert rec.description == "A small test experiment." and rec.data == {"metrics": {"val": {"acc": 0.9}}}
    assert log_lines(rec)[-1] == "hello"
    assert exp.LEARNING_RATE == 0.1 and exp.EPOCHS == 3 and exp.glob["LEARNING_RATE"] == 0.1  # defaults again
    assert exp["metrics/val/acc"] == 0.9 and exp.current_run is run and exp.path == run.path
    with pytest.raises(runlab.RunFinishedError, match="has finished"):
        exp["late"] = 1
    with pytest.raises(AttributeError, match=r"no parameter 'LEARNIG_RATE'\. Did you mean 'LEARNING_RATE'"):
        exp.LEARNIG_RATE  # noqa: B018
    exp.LEARNING_RATE = 0.3  # a new default for later runs
    assert exp.run().params["LEARNING_RATE"] == 0.3 and seen["global"] == 0.3


def test_actionable_parameter_types(tmp_path: Path, in_store: Path) -> None:
    data = write(tmp_path, "input.csv", "a,b\n1,2\n")
    exp = make(
        tmp_path,
        f"""
        from runlab.params import ActionableParameterType, CopiedPath

        class Upper(ActionableParameterType):
            value_type = str

            @classmethod
            def get(cls, experiment, value):
                return value.upper()

            @classmethod
            def set(cls, experiment, value):
                return value.strip()

        OPTIMIZER: Upper = "adam"
        DATA: CopiedPath = {str(data)!r}
    """,
    )
    seen: dict[str, Any] = {}

    @exp
    def main(e: Any) -> None:
        seen["before"] = e.OPTIMIZER
        e.OPTIMIZER = "  sgd  "
        seen["after"], seen["data"] = e.OPTIMIZER, e.DATA

    run = exp.run(__REPRODUCIBLE__=True)
    assert seen["before"] == "ADAM" and seen["after"] == "SGD"
    assert seen["data"] == run.path / "copied" / "input.csv" and seen["data"].read_text() == "a,b\n1,2\n"
    rec = runlab.load(run.id)
    assert rec.params["OPTIMIZER"] == "sgd" and rec.params["DATA"] == "copied/input.csv"
    assert rec.metadata["params"]["DATA"]["type"] == "CopiedPath"


def test_debug_runs_reuse_one_folder_and_prefix_names_the_rest(tmp_path: Path, in_store: Path) -> None:
    exp = make(tmp_path, "")
    exp(lambda e: None)
    first = exp.run(__DEBUG__=True)
    second = exp.run(__DEBUG__="true")
    assert first.path == second.path == in_store / "exp" / "debug"
    [rec] = stored(in_store)  # the first debug run was replaced
    assert rec.id == second.id and "debug" in rec.tags
    prefixed = exp.run(__PREFIX__="ablation")
    assert prefixed.path.name.startswith("ablation_") and prefixed.path.name.endswith(prefixed.id)
    exp.run_name = "baseline"
    assert exp.run(__PREFIX__="abl").name == "abl_baseline"
    custom = Experiment(glob={}, namespace="custom", name_format="{id}-{date}")
    custom(lambda e: None)
    run = custom.run()
    assert run.path.name.startswith(f"{run.id}-") and run.path.parent.name == "custom"
    with pytest.raises(runlab.ParameterError, match="__PREFIX__"):
        exp.run(__PREFIX__="a/b")
    with pytest.raises(runlab.ValidationError, match=r"must contain '\{id\}'"):
        Experiment(glob={}, name_format="{date}")
    debug = Experiment(glob={}, namespace="dbg", debug=True, notify=False)
    debug(lambda e: None)
    assert debug.__NOTIFY__ is False and debug.run().path.name == "debug"
    assert debug.run(__DEBUG__=False).path.name != "debug"  # an override wins over debug=True


class Recorder(Plugin):
    """Records every hook call it sees (a test plugin)."""

    name = "recorder"
    calls: ClassVar[list[tuple[str, Any]]] = []

    def _note(self, hook: str, detail: Any = None) -> None:
        type(self).calls.append((hook, detail))

    @hook("before_experiment_parameters")
    def params(self, parameters: Any) -> None:
        parameters["__RECORDED__"] = 5
        self._note("before_experiment_parameters")

    @hook("experiment_constructed")
    def constructed(self, experiment: Any) -> None:
        self._note("experiment_constructed", experiment.namespace)

    @hook("before_experiment_initialize")
    def b_init(self) -> None:
        self._note("before_experiment_initialize")

    @hook("after_experiment_initialize")
    def a_init(self, run: Any) -> None:
        self._note("after_experiment_initialize", run.status)

    @hook("before_testing")
    def testing(self, experiment: Any) -> None:
        self._note("before_testing", experiment.EPOCHS)

    @hook("before_run")
    def b_run(self, experiment: Any) -> None:
        self._note("before_run", experiment.EPOCHS)

    @hook("experiment_track")
    def track(self, name: str, value: Any, step: int) -> None:
        self._note("experiment_track", (name, type(value).__name__, step))

    @hook("experiment_commit_json")
    def c_json(self, name: str, data: Any, path: Path) -> None:
        self._note("experiment_commit_json", (name, data, path.name))

    @hook("experiment_commit_raw")
    def c_raw(self, name: str, content: str) -> None:
        self._note("experiment_commit_raw", (name, content))

    @hook("experiment_commit_fig")
    def c_fig(self, name: str, path: Path) -> None:
        self._note("experiment_commit_fig", (name, path.is_file()))

    @hook("after_run")
    def a_run(self, run: Any) -> None:
        self._note("after_run", run.status)

    @hook("after_experiment_finalize")
    def final(self, run: Any) -> None:
        self._note("after_experiment_finalize", run.status)


def test_plugin_hooks_fire_in_the_driver_order_with_track_and_commits(tmp_path: Path, in_store: Path) -> None:
    from matplotlib.figure import Figure

    Recorder.calls = []
    get_manager().add(Recorder)
    exp = make(
        tmp_path,
        """
        @experiment.testing
        def shrink(e):
            e.log("testing: shrink")
            e.EPOCHS = 1
    """,
    )
    assert Recorder.calls == [("before_experiment_parameters", None), ("experiment_constructed", "exp")]
    assert exp.__RECORDED__ == 5  # a plugin's parameter
    Recorder.calls = []

    @exp
    def main(e: Any) -> None:
        for step in range(e.EPOCHS + 1):
            e.track("loss", 1.0 / (step + 1))
        fig = Figure()
        fig.add_subplot().plot([1, 2, 3])
        e.track("curve", fig)
        e.track("curve", fig)
        e.commit_json("res.json", {"a": 1})
        e.commit_raw("notes.txt", "text")
        e.commit_fig("plot.png", fig)

    run = exp.run(__TESTING__=True)
    hooks = [name for name, _ in Recorder.calls]
    assert hooks == ["before_experiment_initialize", "after_experiment_initialize", "before_testing", "before_run",
                     "experiment_track", "experiment_track", "experiment_track", "experiment_track",
                     "experiment_commit_json", "experiment_commit_raw", "experiment_commit_fig", "after_run",
                     "after_experiment_finalize"]  # fmt: skip
    details = dict(Recorder.calls[:4])
    assert details["after_experiment_initialize"] == "created" and details["before_testing"] == 3
    tracked = [d for n, d in Recorder.calls if n == "experiment_track"]
    assert tracked == [("loss", "float", 0), ("loss", "float", 1), ("curve", "Figure", 0), ("curve", "Figure", 1)]
    assert ("experiment_commit_json", ("res.json", {"a": 1}, "res.json")) in Recorder.calls
    assert Recorder.calls[-1] == ("after_experiment_finalize", "completed")
    rec = runlab.load(run.id)
    assert rec.params["EPOCHS"] == 1 and rec.params["__RECORDED__"] == 5  # the testing change is recorded
    assert rec.metrics("loss").values == [1.0, 0.5]
    assert rec.artifacts == ["notes.txt", "plot.png", "res.json", "track/curve_000.png", "track/curve_001.png"]
    assert "testing: shrink" in log_lines(rec)


def test_a_failing_main_is_recorded_and_propagates(tmp_path: Path, in_store: Path) -> None:
    exp = make(
        tmp_path,
        """
        @experiment.hook("after_run")
        def never(e):
            e.log("after_run should not run")
    """,
    )

    @exp
    def main(e: Any) -> None:
        e["progress"] = 1
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        exp.run()
    [rec] = stored(in_store)
    assert rec.status == "failed" and rec.data == {"progress": 1}
    assert "after_run should not run" not in log_lines(rec)
    with pytest.raises(runlab.ExperimentContextError, match="needs a running experiment"):
        exp.track("loss", 1.0)


def test_runlab_run_launch_supplies_overrides_and_options(tmp_path: Path, in_store: Path) -> None:
    import runpy

    path = write(
        tmp_path,
        "launched.py",
        """
        from runlab import Experiment
        LR = 0.1
        experiment = Experiment(glob=globals())

        @experiment
        def main(e):
            e["lr"] = e.LR

        experiment.run_if_main()
    """,
    )
    request = PendingRequest(
        RunRequest(
            Target("functional", path),
            options=RunOptions(name="first", tags=("cli",), description="from the command"),
            links=Links(parent="p1"),
            origin=Origin("runlab run", ("--LR=0.5",)),
        ),
        argv=["--LR=0.5"],
    )
    with pending(request):
        runpy.run_path(str(path), run_name="__main__")
    [result] = request.results
    run = result.run
    assert request.claimed and run is not None and run.status == "completed" and run.name == "first"
    rec = runlab.load(run.id)
    assert rec.data == {"lr": 0.5} and rec.tags == ("cli",) and rec.description == "from the command"
    assert rec.parent == "p1"
    bad = PendingRequest(RunRequest(Target("functional", path)), argv=["--LRR=1"])
    with pending(bad), pytest.raises(runlab.ParameterError, match="Did you mean 'LR'"):
        runpy.run_path(str(path), run_name="__main__")
    assert bad.claimed and bad.results == [] and len(stored(in_store)) == 1
    runpy.run_path(str(path), run_name="not_main")  # imported: run_if_main does nothing
    assert len(stored(in_store)) == 1


def test_load_gives_a_read_only_view_and_analyse_runs_the_analysis(tmp_path: Path, in_store: Path) -> None:
    exp = make(
        tmp_path,
        """
        @experiment
        def main(e):
            for step in range(e.EPOCHS):
                e.track("loss", 1.0 / (step + 1))
            e["results/best"] = 0.25

        @experiment.analysis
        def summary(e):
            return (e.EPOCHS, e["results/best"], e.metrics("loss").values[-1], e.path.name)
    """,
    )
    run = exp.run(EPOCHS=2)
    assert exp.analyse() == (2, 0.25, 0.5, run.path.name)
    for ref in (run.id, run.path, str(run.path / "run.json")):
        view = Experiment.load(ref)
        assert view.EPOCHS == 2 and view.LEARNING_RATE == 0.1 and view["results/best"] == 0.25
        assert view.path == run.path and view.metadata["id"] == run.id and view.record.status == "completed"
        assert view.metadata["parameters"]["LEARNING_RATE"]["description"] == "step size"
        assert sorted(view.metrics()) == ["loss"]
    with pytest.raises(runlab.RunFinishedError, match="read-only"):
        view.EPOCHS = 5
    with pytest.raises(runlab.RunFinishedError, match="read-only"):
        view["x"] = 1
    with pytest.raises(runlab.RunNotFoundError):
        Experiment.load("nosuchrun")
    assert "def summary(e):" in (run.path / "analysis.py").read_text()
