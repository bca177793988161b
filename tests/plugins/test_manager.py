"""The manager with real runs: lifecycle, isolation, critical plugins, configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.plugins import (
    Plugin,
    PluginContext,
    PluginError,
    PluginManager,
    PluginNotFoundError,
    PluginState,
    hook,
)


class Recorder(Plugin):
    """Records the run events it sees."""

    name = "recorder"

    def initialize(self, context: PluginContext) -> None:
        self.events: list[tuple[str, Any]] = []

    @hook("run_state_changed")
    def changed(self, new: str) -> None:
        self.events.append(("state", new))

    @hook("metrics_logged")
    def metrics(self, counts: dict[str, int]) -> None:
        self.events.append(("metrics", counts))

    @hook("artifact_saved")
    def artifact(self, name: str) -> None:
        self.events.append(("artifact", name))


class Broken(Plugin):
    """Fails when a run starts running."""

    name = "broken"

    @hook("run_state_changed", priority=5)
    def changed(self, new: str) -> None:
        if new == "running":
            raise RuntimeError("broken on purpose")


class Critical(Broken):
    """Like Broken, but its failure fails the run."""

    name = "critical"
    critical = True


def run_json(run: Any) -> dict[str, Any]:
    return json.loads((Path(run.path) / "run.json").read_text())  # type: ignore[no-any-return]


def test_run_events_become_hook_calls(manager: PluginManager, root: Path) -> None:
    record = manager.add(Recorder)
    manager.activate()
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 1.0)
        run.save_text("a.txt", "a")
    plugin = record.plugin
    assert isinstance(plugin, Recorder)
    assert plugin.events == [
        ("state", "created"),
        ("state", "running"),
        ("artifact", "a.txt"),
        ("metrics", {"loss": 1}),
        ("state", "completed"),
    ]
    assert run_json(run)["plugins"]["recorder"]["state"] == "active"


def test_a_failing_plugin_leaves_the_run_completed_and_the_failure_recorded(
    manager: PluginManager, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manager.add(Broken)
    recorder = manager.add(Recorder)
    manager.activate()
    for _ in range(2):
        with runlab.start_run(root=root, capture=False, capture_output=False) as run:
            run.log_metric("x", 1)
    assert run.status == "completed"
    assert runlab.load(run.id, root=root).status == "completed"
    entry = run_json(run)["plugins"]["broken"]
    assert entry["state"] == "error"
    assert entry["errors"][0]["hook"] == "run_state_changed"
    assert "RuntimeError: broken on purpose" in entry["errors"][0]["error"]
    assert "Traceback" in entry["errors"][0]["traceback"]
    assert manager.get("broken").state is PluginState.ERROR
    assert ("state", "completed") in recorder.plugin.events  # type: ignore[union-attr]
    err = capsys.readouterr().err
    assert err.count("plugin 'broken' failed in hook 'run_state_changed'") == 1  # reported once


def test_a_failure_after_the_run_finished_is_recorded_in_its_run_json(manager: PluginManager, root: Path) -> None:
    class Late(Plugin):
        name = "late"

        @hook("run_state_changed")
        def changed(self, new: str) -> None:
            if new == "completed":
                raise ValueError("late failure")

    manager.add(Late)
    manager.activate()
    with runlab.start_run(root=root, capture=False, capture_output=False) as run:
        pass
    record = runlab.load(run.id, root=root)
    assert record.status == "completed"
    assert record.metadata["plugins"]["late"]["errors"][0]["error"] == "ValueError: late failure"


def test_a_critical_plugin_failing_on_a_run_event_fails_the_run(manager: PluginManager, root: Path) -> None:
    manager.add(Critical)
    manager.activate()
    with pytest.raises(runlab.RunFinishedError), runlab.start_run(root=root, capture=False) as run:
        run.log_metric("x", 1.0)
    meta = run_json(run)
    assert meta["status"] == "failed"
    assert meta["error"]["type"] == "PluginError"
    assert "Critical plugin 'critical' failed in hook 'run_state_changed'" in meta["error"]["message"]
    assert meta["plugins"]["critical"]["errors"][0]["critical"] is True


def test_a_critical_plugin_failing_in_a_hook_call_raises_into_the_caller(manager: PluginManager, root: Path) -> None:
    class Checker(Plugin):
        name = "checker"
        critical = True

        @hook("after_run")
        def check(self, result: float) -> None:
            if result < 0.5:
                raise AssertionError(f"accuracy {result} below 0.5")

    manager.add(Checker)
    with (
        pytest.raises(PluginError, match=r"accuracy 0\.1 below 0\.5") as info,
        runlab.start_run(root=root, capture=False) as run,
    ):
        manager.apply("after_run", run=run, result=0.1, experiment=None)
    assert info.value.plugin == "checker" and info.value.hook == "after_run"
    assert runlab.load(run.id, root=root).status == "failed"


def test_lifecycle_history_and_load_failures(tmp_path: Path) -> None:
    class BadInit(Plugin):
        name = "bad_init"

        def initialize(self, context: PluginContext) -> None:
            raise OSError("no device")

    pm = PluginManager(tmp_path, builtin=False)
    good = pm.add(Recorder)
    bad = pm.add(BadInit)
    assert [c.state for c in good.history] == [PluginState.DISCOVERED, PluginState.LOADED, PluginState.INITIALIZED]
    assert all(c.time.tzinfo is not None for c in good.history)
    assert bad.state is PluginState.FAILED and "OSError: no device" in bad.notice
    assert pm.active() == ["recorder"]
    pm.close()
    assert good.state is PluginState.STOPPED and good.plugin is None
    assert pm.registry.implementations("run_state_changed") == []


def test_execute_returns_a_plugin_result(tmp_path: Path) -> None:
    class Adder(Plugin):
        name = "adder"

        def execute(self, context: PluginContext) -> Any:
            return sum(context.args) + context.config.get("offset", 0)

    pm = PluginManager(tmp_path, builtin=False)
    pm.add(Adder)
    ok = pm.execute("adder", PluginContext("adder", args=[1, 2], config={"offset": 10}))
    assert ok.success and ok.output == 13 and ok.duration_ms >= 0
    bad = pm.execute("adder", PluginContext("adder", args=[1, "x"]))
    assert not bad.success and bad.error is not None and bad.error.startswith("TypeError")
    assert bad.traceback is not None and "Traceback" in bad.traceback
    with pytest.raises(PluginNotFoundError, match="Did you mean 'adder'"):
        pm.get("addr")


def test_plugins_are_disabled_and_configured_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.runlab.plugins]\ndisabled = ["recorder"]\n\n[tool.runlab.plugins.adder]\noffset = 5\n'
    )
    plugins = tmp_path / ".runlab" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "recorder.py").write_text("from runlab.plugins import Plugin\nclass R(Plugin):\n    pass\n")
    (plugins / "adder.py").write_text(
        "from runlab.plugins import Plugin\nclass A(Plugin):\n"
        "    def execute(self, context):\n        return context.config['offset']\n"
    )
    pm = PluginManager(builtin=False)  # finds the project from the cwd (tmp_path)
    states = {r.name: r.state for r in pm.plugins()}
    assert states == {"adder": PluginState.RUNNING, "recorder": PluginState.STOPPED}
    assert "disabled in" in pm.get("recorder").notice
    assert pm.execute("adder").output == 5


def test_off_by_default_plugins_need_enabling(tmp_path: Path) -> None:
    plugins = tmp_path / ".runlab" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "heavy.py").write_text(
        "from runlab.plugins import Plugin\nclass H(Plugin):\n    enabled_by_default = False\n"
    )
    assert PluginManager(tmp_path, builtin=False).plugins()[0].state is PluginState.STOPPED
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = ["heavy"]\n')
    assert PluginManager(tmp_path, builtin=False).plugins()[0].state is PluginState.RUNNING
