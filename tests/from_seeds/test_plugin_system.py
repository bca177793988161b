"""The plugin system (seed 003): its usage examples, state, help, metadata, context, results, history, config.yml."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from runlab.plugins import (
    BasePlugin,
    PluginContext,
    PluginManager,
    PluginMetadata,
    PluginResult,
    PluginState,
    PluginStatus,
)

from .conftest import EXAMPLES, example_tree, run_example


def test_basic_usage_example_runs_with_the_custom_plugin(tmp_path: Path) -> None:
    before = example_tree()
    out = run_example([str(EXAMPLES / "deia_usage.py")], EXAMPLES, tmp_path / "store")
    assert out.stdout.splitlines() == [
        "Found 6 plugins",  # my_plugin and runlab's five built-in plugins
        "Plugin initialized: my_plugin",  # loading initialises it ...
        "Plugin initialized: my_plugin",  # ... and initialize_plugin() hands it the caller's context
        "Output: {'message': 'Plugin executed', 'args': ['arg1', 'arg2'], 'config': {'greeting': 'hello'}}",
        "my_plugin 1.0.0 (folder (.deia/plugins/my_plugin.py), running)",
        "",
        "My custom plugin description",
        "Status: running",
    ]
    assert example_tree() == before  # no __pycache__ or other leftovers beside the plugin


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


_PLUGIN = """
from runlab.plugins import BasePlugin, PluginResult
class P(BasePlugin):
    def execute(self, context):
        mode = context.args[0] if context.args else "ok"
        if mode == "raise":
            raise ValueError("bad input")
        if mode == "result":
            return PluginResult(success=False, error="told to fail", metadata={"why": "asked"})
        self.set_state("calls", self.get_state("calls", 0) + 1)
        return {"settings": context.config, "calls": self.get_state("calls")}
"""


def test_commands_results_history_and_metrics(tmp_path: Path) -> None:
    pm = PluginManager([_folder(tmp_path, **{"one.py": _PLUGIN})], builtin=False)
    assert pm.discover_plugins() == ["one"]
    assert pm.load_all() == ["one"]
    first = pm.execute_plugin("one")
    assert first.success and first.output == {"settings": {}, "calls": 1} and first.duration_ms >= 0
    failed = pm.execute_plugin("one", PluginContext(name="one", args=["raise"]))
    assert not failed.success and failed.error == "ValueError: bad input" and "Traceback" in (failed.traceback or "")
    own = pm.execute_plugin("one", PluginContext(name="one", args=["result"]))
    assert type(own.output) is not PluginResult and own.error == "told to fail" and own.metadata == {"why": "asked"}
    assert pm.execute_plugin("one").output["calls"] == 2  # set_state/get_state keep state across calls
    history = pm.get_execution_history("one")
    assert [h["success"] for h in history] == [True, False, False, True]
    assert history[1]["error"] == "ValueError: bad input" and all(h["plugin"] == "one" for h in history)
    metrics = pm.get_plugin_metrics("one")
    assert (metrics["executions"], metrics["successes"], metrics["failures"]) == (4, 2, 2)
    assert metrics["last"] == {k: v for k, v in history[-1].items() if k != "plugin"}
    assert metrics["max_ms"] >= metrics["mean_ms"] >= 0
    assert pm.get_plugin_status("one") is PluginState.RUNNING and PluginStatus is PluginState
    assert pm.get_plugin_status() == {"one": PluginState.RUNNING}
    pm.cleanup_plugin("one")
    assert str(pm.get_plugin_status("one")) == "stopped"
    after = pm.execute_plugin("one")
    assert not after.success and "not active: cleaned up" in (after.error or "")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"one.py": _PLUGIN}, {}),
        ({"one.py": _PLUGIN, "config.yml": "one:\n  greeting: hi\nother:\n  x: 1\n"}, {"greeting": "hi"}),
        (
            {
                "one/__init__.py": _PLUGIN,
                "one/config.yml": "greeting: own\n",
                "config.yml": "one: {greeting: shared, n: 2}",
            },
            {"greeting": "own", "n": 2},
        ),
    ],
)
def test_config_yml_beside_a_folder_plugin_is_its_settings(
    tmp_path: Path, files: dict[str, str], expected: dict[str, Any]
) -> None:
    pm = PluginManager([_folder(tmp_path, **files)], builtin=False)
    assert pm.execute_plugin("one").output["settings"] == expected


@pytest.mark.parametrize(
    ("config", "message"),
    [("one: [1, 2]\n", "expected a mapping such as 'one: {greeting: hello}'"),
     ("one: {a: [}\n", "Cannot read the settings of plugin 'one'"), ("- 1\n", "expected a mapping, got list")],
)  # fmt: skip
def test_a_bad_config_yml_fails_the_plugin_not_the_manager(
    tmp_path: Path, config: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, **{"one.py": _PLUGIN, "config.yml": config})
    pm = PluginManager([folder], builtin=False)
    assert pm.load_all() == []
    record = pm.get("one")
    assert record.state is PluginState.FAILED and message in record.notice
    assert not pm.execute_plugin("one").success
    said = capsys.readouterr().err
    assert f"Fix {folder / 'config.yml'}, or disable it" in said, said  # the settings file, not the plugin's code


def test_help_metadata_and_context() -> None:
    class Helped(BasePlugin):
        """Docstring help."""

        name = "helped"
        version = "2.1"

        def get_help(self) -> str:
            return "help from get_help"

    class Plain(BasePlugin):
        """Docstring help."""

        name = "plain"

    pm = PluginManager(builtin=False)
    pm.add(Helped)
    pm.add(Plain)
    assert pm.get_plugin_help("helped").endswith("\n\nhelp from get_help")
    assert pm.get_plugin_help("plain").endswith("\n\nDocstring help.")
    meta = pm.get_plugin_metadata("helped")
    assert (meta.name, meta.version, meta.entry_point) == ("helped", "2.1", Helped.__module__)
    pm.load_all({"plain": PluginMetadata(name="plain", version="9", author="me", entry_point="x:Y")})
    assert pm.get_plugin_metadata("plain").author == "me" and pm.get("plain").version == "9"
    assert pm.get_plugin_metadata("plain").entry_point == "x:Y"
    context = PluginContext(name="helped")
    assert isinstance(context.logger, logging.Logger) and context.logger.name == "runlab.plugins.helped"
    assert context.environment.get("PATH") and context.environment is not __import__("os").environ
    assert f"{PluginState.ERROR}" == "error"


def test_initialize_plugin_failure_is_isolated() -> None:
    class Fragile(BasePlugin):
        name = "fragile"

        def initialize(self, context: PluginContext) -> None:
            if context.args:
                raise RuntimeError("cannot start")

    pm = PluginManager(builtin=False)
    pm.add(Fragile)
    assert pm.initialize_plugin("fragile", PluginContext(name="fragile")) is True
    assert pm.initialize_plugin("fragile", PluginContext(name="fragile", args=[1])) is False
    assert pm.get_plugin_status("fragile") is PluginState.FAILED and "cannot start" in (pm.get("fragile").error or "")
