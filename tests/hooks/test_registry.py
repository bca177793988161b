"""One registry: priorities, StopHook and error isolation across plugins, listeners, bare functions,
attached managers and an experiment's own (scoped) hooks."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab import Experiment, ExperimentMixin, PluginError
from runlab.hooks import HookImpl, StopHook, get_registry
from runlab.lifecycle import add_listener
from runlab.plugins import Plugin, PluginManager, get_manager, hook

from ..experiment.test_functional import load_experiment, write


def _plugin(name: str, priority: int, calls: list[str], *, fail: bool = False, critical: bool = False) -> type[Plugin]:
    def changed(self: Plugin, run: Any, new: str) -> None:
        calls.append(f"{name}:{new}")
        if fail and new == "running":
            raise RuntimeError(f"{name} broke")

    return type(
        name.title(),
        (Plugin,),
        {"name": name, "critical": critical, "changed": hook("run_state_changed", priority=priority)(changed)},
    )


@pytest.fixture
def cleanup() -> Iterator[list[Any]]:
    """Registrations and managers to undo after the test."""
    undo: list[Any] = []
    yield undo
    for item in reversed(undo):
        if isinstance(item, HookImpl):
            get_registry().unregister(item)
        elif isinstance(item, PluginManager):
            item.close()
        else:
            item()


def test_plugins_listeners_functions_and_attached_managers_run_by_one_priority_order(
    tmp_path: Path, root: Path, cleanup: list[Any]
) -> None:
    calls: list[str] = []
    get_manager().add(_plugin("process5", 5, calls))
    attached = PluginManager(tmp_path, builtin=False)
    attached.add(_plugin("attached7", 7, calls))
    cleanup.append(attached.activate())
    cleanup.append(add_listener(lambda event, run, **data: event == "run_state_changed" and calls.append("listener0")))
    cleanup.append(get_registry().register("run_state_changed", lambda new: calls.append(f"bare10:{new}"), 10))
    cleanup.append(get_registry().register("run_state_changed", lambda new: calls.append(f"last:{new}"), -1))
    with runlab.start_run(root=root, capture=False):
        pass
    per_state = [calls[i : i + 5] for i in range(0, len(calls), 5)]
    assert per_state == [
        [f"bare10:{s}", f"attached7:{s}", f"process5:{s}", "listener0", f"last:{s}"]
        for s in ("created", "running", "completed")
    ]


def test_stop_hook_ends_the_chain_for_every_kind_below_it(root: Path, cleanup: list[Any]) -> None:
    calls: list[str] = []

    def veto(new: str) -> None:
        if new == "running":
            raise StopHook("vetoed")

    get_manager().add(_plugin("low", -5, calls))
    cleanup.append(add_listener(lambda event, run, **data: event == "run_state_changed" and calls.append("listener")))
    cleanup.append(get_registry().register("run_state_changed", veto, priority=100))
    assert get_registry().apply("run_state_changed", run=None, old="created", new="running") == "vetoed"
    assert calls == []
    with runlab.start_run(root=root, capture=False):
        pass
    assert calls == ["listener", "low:created", "listener", "low:completed"]  # "running" stopped at the veto


def test_a_failing_plugin_is_isolated_and_recorded_the_others_and_the_run_go_on(
    root: Path, capfd: pytest.CaptureFixture[str], cleanup: list[Any]
) -> None:
    calls: list[str] = []
    get_manager().add(_plugin("broken", 8, calls, fail=True))
    get_manager().add(_plugin("fine", 1, calls))
    cleanup.append(add_listener(lambda event, run, **data: event == "run_state_changed" and calls.append("listener")))
    with runlab.start_run(root=root, capture=False) as run:
        pass
    assert calls.count("fine:running") == 1 and calls.count("listener") == 3
    record = runlab.load(run.id, root=root)
    assert record.status == "completed"
    [error] = record.metadata["plugins"]["broken"]["errors"]
    assert error["hook"] == "run_state_changed" and "broken broke" in error["error"]
    assert "plugin 'broken' failed in hook 'run_state_changed'" in capfd.readouterr().err


def test_a_critical_plugin_fails_the_run_from_a_run_event(root: Path) -> None:
    calls: list[str] = []
    get_manager().add(_plugin("guard", 0, calls, fail=True, critical=True))
    with runlab.start_run(root=root, capture=False) as run, pytest.raises(runlab.RunFinishedError):
        run.log_metric("m", 1.0)
    record = runlab.load(run.id, root=root)
    assert record.status == "failed" and "guard broke" in record.metadata["error"]["message"]


def test_a_critical_plugin_raises_from_an_experiment_hook_call() -> None:
    class Strict(Plugin):
        name = "strict"
        critical = True

        @hook("experiment_constructed")
        def refuse(self, experiment: Any) -> None:
            raise ValueError("not on this machine")

    get_manager().add(Strict)
    with pytest.raises(PluginError, match="not on this machine"):
        Experiment(namespace="x", glob={"A": 1})


# -- an experiment's own hooks: scoped entries of the same registry ---------------------
BASE = """
from runlab import Experiment

N = 1
experiment = Experiment(glob=globals())

@experiment.hook("step")
def base_low(e):
    e.log("base0")

@experiment.hook("step", priority=5)
def base_high(e):
    e.log("base5")

@experiment
def main(e):
    e["result"] = e.apply_hook("step")
"""


def test_experiment_hooks_order_by_priority_then_layer_and_stop_hook_ends_them(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNLAB_ROOT", str(root))
    write(tmp_path, "base.py", BASE)
    write(
        tmp_path,
        "mix.py",
        """
        from runlab import ExperimentMixin
        mixin = ExperimentMixin(glob=globals())

        @mixin.hook("step")
        def mixin_step(e):
            e.log("mixin0")

        @mixin.hook("step", priority=7)
        def mixin_high(e):
            e.log("mixin7")
        """,
    )
    sub = write(
        tmp_path,
        "sub.py",
        """
        from runlab import Experiment, StopHook

        experiment = Experiment.extend("base.py", glob=globals())
        experiment.include("mix.py")

        @experiment.hook("step")
        def own(e):
            e.log("own0")
            return "own"

        @experiment.hook("step", priority=6)
        def own_high(e):
            e.log("own6")
        """,
    )
    experiment = load_experiment(sub)
    impls = [i.function.__name__ for i in _active(experiment, "step")]
    assert impls == ["mixin_high", "own_high", "base_high", "base_low", "mixin_step", "own"]
    assert experiment.apply_hook("step") == "own"  # the last result that is not None

    @experiment.hook("step", priority=6)
    def stop_here(e: Any) -> None:
        raise StopHook("stopped")

    assert experiment.apply_hook("step") == "stopped"  # own_high ran (registered first), nothing below


def _active(experiment: Any, name: str) -> list[HookImpl]:
    from runlab.experiment._hooks import active

    return active(experiment.hook_entries(), name)


def test_an_experiment_hook_error_propagates_and_fails_the_run(root: Path) -> None:
    experiment = Experiment(namespace="boom", glob={"A": 1}, root=root)

    @experiment.hook("after_run")
    def explode(e: Any, result: Any) -> None:
        raise RuntimeError(f"after_run saw {result}")

    @experiment
    def main(e: Any) -> int:
        return 3

    with pytest.raises(RuntimeError, match="after_run saw 3"):
        experiment.run()
    [record] = runlab.runs(root=root)
    assert record.status == "failed"


def test_experiment_before_and_after_run_get_the_spec_arguments(root: Path) -> None:
    experiment = Experiment(namespace="args", glob={"A": 1}, root=root)
    seen: dict[str, Any] = {}

    @experiment.hook("before_run")
    def before(e: Any, run: Any, experiment: Any) -> None:
        seen["before"] = (run.id, experiment is e, run.status)

    @experiment.hook("after_run")
    def after(e: Any, result: Any, run: Any) -> None:
        seen["after"] = (result, run.id)

    @experiment
    def main(e: Any) -> str:
        return "done"

    run = experiment.run()
    assert seen == {"before": (run.id, True, "running"), "after": ("done", run.id)}


def test_experiment_hooks_live_in_the_registry_scoped_and_go_with_their_experiment() -> None:
    fired: list[str] = []
    experiment = Experiment(namespace="scoped", glob={"A": 1})
    mixin = ExperimentMixin(glob={"B": 1})
    experiment.hook("after_experiment_finalize")(lambda e: fired.append("experiment"))
    mixin.hook("after_experiment_finalize")(lambda e: fired.append("mixin"))
    scoped = get_registry().implementations("after_experiment_finalize", scoped=True)
    assert {i.origin for i in scoped} >= {"<experiment>", "<mixin>"}
    assert all(i.scope is not None for i in scoped)
    get_registry().apply("after_experiment_finalize", experiment=None, run=None)  # process-wide call
    assert fired == []  # an experiment's hooks fire only when it applies them
    experiment.apply_hook("after_experiment_finalize")
    assert fired == ["experiment"]
    gone = weakref.ref(scoped[0])
    del experiment, mixin, scoped
    gc.collect()
    assert gone() is None
    assert get_registry().implementations("after_experiment_finalize", scoped=True) == []
