"""Yanex (seed 001): ExperimentManager, ExperimentNotFoundError, the run accessors, the results helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runlab

from .conftest import EXAMPLES, example_tree, run_example


def test_manager_example_runs_as_the_seed_describes(tmp_path: Path) -> None:
    before = example_tree()
    out = run_example([str(EXAMPLES / "yanex_manager.py")], tmp_path, tmp_path / "store")
    assert out.stdout.splitlines() == [
        "fresh id: 8",
        "created: created",
        "running: True",
        "refused: ExperimentAlreadyRunningError",
        "completed: completed",
        "by name: True",
        "failed: loss diverged",
        "cancelled: cancelled",
        "running now: None",
        "archived into: .archive",
        "not found: RunNotFoundError",
    ]
    records = {r.name: r for r in runlab.runs(root=tmp_path / "store", archived=None)}
    assert {n: r.status for n, r in records.items()} == {"baseline": "completed", "broken": "failed",
                                                         "stopped": "cancelled"}  # fmt: skip
    assert records["baseline"].params == {"learning_rate": 0.01, "epochs": 3}
    assert records["baseline"].tags == ("demo",) and records["baseline"].description == "first try"
    assert records["stopped"].archived
    assert example_tree() == before


def test_script_example_runs_plainly_and_under_runlab_run(tmp_path: Path) -> None:
    root = tmp_path / "store"
    script = str(EXAMPLES / "yanex_script.py")
    plain = run_example([script], tmp_path, root).stdout.splitlines()
    assert plain[0] == "learning rate: 0.01"
    assert plain[2:5] == ["run dir matches: True", "status: running", "cli args: []"]
    assert plain[5:] == [
        "best accuracy: 0.53",
        "latest is this run: yanex-demo",
        "compared: 1 ['metrics.accuracy', 'metrics.accuracy.count', 'metrics.accuracy.max', "
        "'metrics.accuracy.min', 'metrics.accuracy.step', 'params.learning_rate']",
    ]
    first = runlab.load(plain[1].split(": ")[1], root=root)
    assert (first.path / "artifacts" / "notes.txt").read_text() == "learning rate 0.01\n"
    cli = run_example(["run", script, "--allow-new", "--learning_rate=0.05"], tmp_path, root, module=True)
    lines = cli.stdout.splitlines()
    assert lines[0] == "learning rate: 0.05"
    assert lines[4] == "cli args: ['--allow-new', '--learning_rate=0.05']"
    assert lines[5] == "best accuracy: 0.53"  # the run under way is not completed yet
    assert runlab.best("accuracy", root=root).params["learning_rate"] == 0.05  # type: ignore[union-attr]


def test_unknown_run_is_an_experiment_not_found_error(root: Path) -> None:
    with runlab.start_run(root=root, capture=False):
        pass
    assert issubclass(runlab.RunNotFoundError, runlab.ExperimentNotFoundError)
    with pytest.raises(runlab.ExperimentNotFoundError, match="No run matches 'ffffffff'"):
        runlab.load("ffffffff", root=root)
    with pytest.raises(runlab.ExperimentNotFoundError):
        runlab.ExperimentManager(root).start_experiment("ffffffff")


def _finished(manager: runlab.ExperimentManager) -> str:
    run_id = manager.create_experiment(name="done", capture=False)
    manager.start_experiment(run_id)
    manager.complete_experiment(run_id)
    return run_id


@pytest.mark.parametrize(
    ("action", "error", "match"),
    [
        (lambda m, i: m.start_experiment(i), runlab.InvalidTransitionError, "cannot go from 'completed'|finished"),
        (lambda m, i: m.complete_experiment(i), runlab.RunFinishedError, "already finished"),
        (lambda m, i: m.fail_experiment(i, "x"), runlab.RunFinishedError, "already finished"),
        (lambda m, i: m.cancel_experiment(i, "x"), runlab.RunFinishedError, "already finished"),
    ],
)
def test_manager_refuses_to_change_a_finished_run(
    root: Path, action: Callable[[runlab.ExperimentManager, str], Any], error: type[Exception], match: str
) -> None:
    run_id = _finished(runlab.ExperimentManager(root))
    for manager in (runlab.ExperimentManager(root), runlab.ExperimentManager(root)):  # a fresh manager too
        with pytest.raises(error, match=match):
            action(manager, run_id)
    assert runlab.load(run_id, root=root).status == "completed"


def test_manager_starts_a_run_another_manager_created_and_refuses_one_it_does_not_run(root: Path) -> None:
    created = runlab.ExperimentManager(root).create_experiment(name="later", config={"a": 1}, capture=False)
    other = runlab.ExperimentManager(root)
    other.start_experiment(created)
    with pytest.raises(runlab.InvalidTransitionError, match="another process"):
        runlab.ExperimentManager(root).complete_experiment(created)
    other.complete_experiment(created)
    assert runlab.load(created, root=root).status == "completed"
    assert runlab.ExperimentManager(root).find_experiment_by_name("nobody") is None


@pytest.mark.parametrize(
    "call",
    [runlab.get_run_id, runlab.get_run_dir, runlab.get_artifacts_dir, runlab.get_metadata, runlab.get_cli_args],
)
def test_accessors_outside_a_run_raise_the_context_error(call: Callable[[], Any]) -> None:
    with pytest.raises(runlab.ExperimentContextError, match="No active run"):
        call()


@pytest.mark.parametrize("metric", ["", "a b", "loss'", "metrics.loss or 1", 3])
def test_best_refuses_a_bad_metric_name(root: Path, metric: Any) -> None:
    with pytest.raises(runlab.UsageError, match="Invalid metric name"):
        runlab.best(metric, root=root)


def test_results_helpers_on_an_empty_store_and_in_order(root: Path) -> None:
    assert runlab.best("loss", root=root) is None and runlab.latest(root=root) is None
    ids = []
    for i, loss in enumerate([0.3, 0.1, 0.2]):
        with runlab.start_run(name=f"r{i}", params={"i": i, "other": 1}, root=root, capture=False) as run:
            run.log_metric("loss", loss)
            run.log_metric("acc", 1 - loss)
        ids.append(run.id)
    with runlab.start_run(name="no-loss", root=root, capture=False):
        pass
    with runlab.start_run(name="failed", root=root, capture=False) as run:
        run.log_metric("loss", 0.0)
        run.fail("boom")
    assert runlab.best("loss", maximize=False, root=root).name == "r1"  # type: ignore[union-attr]
    assert runlab.best("loss", maximize=False, status=None, root=root).name == "failed"  # type: ignore[union-attr]
    assert runlab.best("loss.max", root=root).name == "r0"  # type: ignore[union-attr]
    assert runlab.best("loss", where="params.i >= 2", root=root).name == "r2"  # type: ignore[union-attr]
    assert runlab.latest(root=root).name == "failed"  # type: ignore[union-attr]
    assert runlab.latest(status="completed", root=root).name == "no-loss"  # type: ignore[union-attr]
    table = runlab.compare([ids[2], "r0", ids[1][:6]], params=["i"], metrics=["loss"], root=root)
    assert table["name"].tolist() == ["r2", "r0", "r1"]
    assert [c for c in table.columns if c.startswith(("params.", "metrics."))] == [
        "params.i",
        "metrics.loss",
        "metrics.loss.min",
        "metrics.loss.max",
        "metrics.loss.count",
        "metrics.loss.step",
    ]
    assert "params.other" in runlab.compare(ids, root=root).columns
    with pytest.raises(runlab.RunNotFoundError):
        runlab.compare(["r0", "nope"], root=root)
