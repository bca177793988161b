"""Hostile and broken plugins: each is reported in one line naming the plugin, its file and the fix,
and never takes down a command or a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from runlab.errors import UsageError
from runlab.plugins import PluginManager, PluginState, discover, register_plugin_commands
from runlab.plugins._config import load_plugin_config

HEADER = "from runlab.plugins import Plugin, hook\nimport sys\n"

BROKEN_FILES = [
    pytest.param(b"def oops(:\n", "import", "SyntaxError", id="syntax-error"),
    pytest.param(b"raise RuntimeError('boom at import')\n", "import", "RuntimeError: boom at import", id="raises"),
    pytest.param(b"import sys\nsys.exit(3)\n", "import", "SystemExit: 3", id="sys-exit-at-import"),
    pytest.param(b"X = 'caf\xe9'\n", "import", "SyntaxError", id="not-utf-8"),
    pytest.param(b"x = 1\x00\n", "import", "null bytes", id="null-bytes"),
    pytest.param(
        (HEADER + "class P(Plugin):\n    def initialize(self, context):\n        sys.exit(5)\n").encode(),
        "initialize",
        "SystemExit: 5",
        id="sys-exit-in-initialize",
    ),
    pytest.param(
        (
            HEADER + "class P(Plugin):\n    def initialize(self, context):\n"
            "        self.extra = hook('run_state_changed')(lambda run, neww: None)\n"
        ).encode(),
        "register its hooks",
        "argument 'neww' is not an argument of this hook",
        id="instance-hook-misspelt-argument",
    ),
]


@pytest.mark.parametrize(("source", "step", "error"), BROKEN_FILES)
def test_a_broken_folder_plugin_fails_alone_with_one_line_naming_its_file_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: bytes, step: str, error: str
) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "bad.py").write_bytes(source)
    (folder / "good.py").write_text(
        HEADER + "class G(Plugin):\n    @hook('before_run')\n    def b(self):\n        return 1\n"
    )
    pm = PluginManager(tmp_path, builtin=False)
    assert pm.load_all() == ["good"]
    assert pm.get("bad").state is PluginState.FAILED
    assert pm.registry.hooks_of("bad") == []
    lines = [line for line in capsys.readouterr().err.splitlines() if "'bad'" in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"runlab: plugin 'bad' could not {step}: ")
    assert error in lines[0]
    assert f'Fix {folder / "bad.py"}, or disable it with disabled = ["bad"] in [tool.runlab.plugins].' in lines[0]
    pm.close()


SCRIPT = """
import runlab
with runlab.start_run(params={"lr": 0.1}) as run:
    run.log_metric("loss", 1.0)
print("RUN", run.id, run.status)
"""

HOSTILE_HOOKS = [
    pytest.param("run_state_changed", "run, new", "if new == 'running': sys.exit(4)", "SystemExit: 4", id="sys-exit"),
    pytest.param("metrics_logged", "run, counts", "sys.exit(0)", "SystemExit: 0", id="sys-exit-0-in-writer"),
    pytest.param("run_finishing", "run", "raise SystemExit('bye')", "SystemExit: bye", id="raise-system-exit"),
    pytest.param("run_state_changed", "new", "raise ValueError(new)", "ValueError: created", id="value-error"),
]


@pytest.mark.parametrize(("hook_name", "arguments", "body", "error"), HOSTILE_HOOKS)
def test_a_hook_that_exits_or_raises_does_not_take_down_the_run(
    tmp_path: Path, hook_name: str, arguments: str, body: str, error: str
) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "bad.py").write_text(
        HEADER + f"class P(Plugin):\n    @hook({hook_name!r})\n    def h(self, {arguments}):\n        {body}\n"
    )
    (tmp_path / "ex.py").write_text(SCRIPT)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    env.pop("RUNLAB_PLUGIN_PATH", None)
    result = subprocess.run(
        [sys.executable, "ex.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    _, run_id, status = result.stdout.split()
    assert status == "completed"
    (path,) = (tmp_path / "runs" / "default").glob(f"*_{run_id}/run.json")
    record = json.loads(path.read_text())
    assert record["status"] == "completed" and record["params"]["lr"]["value"] == 0.1
    assert error in record["plugins"]["bad"]["errors"][0]["error"]
    assert (path.parent / "metrics.jsonl").read_text().count('"loss"') == 1
    assert f"plugin 'bad' failed in hook {hook_name!r}: {error}" in result.stderr


def test_a_plugin_command_calling_sys_exit_is_a_failed_result(tmp_path: Path) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "quits.py").write_text(
        HEADER + "class Q(Plugin):\n    def execute(self, context):\n        sys.exit(2)\n"
        "    def cleanup(self):\n        sys.exit(3)\n"
    )
    pm = PluginManager(tmp_path, builtin=False)
    result = pm.execute("quits")
    assert not result.success and result.error == "SystemExit: 2"
    pm.close()  # cleanup's sys.exit is reported, not raised
    assert pm.get("quits").state is PluginState.STOPPED


ADDS = (
    HEADER
    + """import click

class {cls}(Plugin):
    @hook("cli_register_commands")
    def commands(self, cli):
        for name in {names!r}:
            cli.add_command(click.Command(name, callback=lambda: click.echo("{cls}")))
"""
)

CLASHES = [
    pytest.param(
        {"a": ["list"]},
        {"list": "builtin", "greet": "builtin"},
        ["'a' cannot replace the command 'runlab list' (runlab's own)"],
        id="replaces-a-builtin",
    ),
    pytest.param(
        {"a": ["hello"], "b": ["hello"]},
        {"hello": "A"},
        ["'b' cannot replace the command 'runlab hello' (plugin 'a''s)"],
        id="two-plugins-one-name",
    ),
    pytest.param(
        {"a": ["hello", "list"]},
        {"hello": "A", "list": "builtin"},
        ["'a' cannot replace the command 'runlab list'"],
        id="one-of-two-clashes",
    ),
    pytest.param({"a": ["hello"]}, {"hello": "A", "list": "builtin"}, [], id="no-clash"),
]


@pytest.mark.parametrize(("plugins", "expected", "messages"), CLASHES)
def test_a_plugin_command_never_replaces_an_existing_command(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    plugins: dict[str, list[str]],
    expected: dict[str, str],
    messages: list[str],
) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    for name, names in plugins.items():
        (folder / f"{name}.py").write_text(ADDS.format(cls=name.upper(), names=names))
    group = click.Group("runlab")
    for name in ("list", "greet"):
        group.add_command(click.Command(name, callback=lambda: click.echo("builtin")))
    pm = PluginManager(tmp_path, builtin=False).activate()
    try:
        register_plugin_commands(group)
    finally:
        pm.close()
    assert {name: CliRunner().invoke(group, [name]).output.strip() for name in expected} == expected
    err = capsys.readouterr().err
    for message in messages:
        assert message in err, err
    assert err.count("cannot replace") == len(messages)


def test_runlab_help_keeps_the_builtin_commands_a_plugin_tries_to_replace(tmp_path: Path) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "clash.py").write_text(ADDS.format(cls="CLASH", names=["list", "plugins", "greet"]))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    result = subprocess.run(
        [sys.executable, "-m", "runlab", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    commands = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert "greet" in commands
    assert "List runs" in commands["list"] and "Inspect the plugins" in commands["plugins"]
    assert result.stderr.count("plugin 'clash' cannot replace the command") == 2


CONFIGS = [
    pytest.param(
        'disable = ["notify"]',
        "Unknown key 'disable' in [tool.runlab.plugins]",
        "Did you mean 'disabled'?",
        id="misspelt-disabled",
    ),
    pytest.param('enable = ["mlflow"]', "Unknown key 'enable'", "Did you mean 'enabled'?", id="misspelt-enabled"),
    pytest.param(
        "notify = false",
        "Invalid value for 'notify' in [tool.runlab.plugins]",
        'disabled = ["notify"]',
        id="switch-as-boolean",
    ),
    pytest.param("system = 3", "3 is not a table of settings", "[tool.runlab.plugins.system]", id="settings-not-table"),
]


@pytest.mark.parametrize(("line", "error", "fix"), CONFIGS)
def test_a_malformed_plugins_table_is_a_usage_error_and_exits_2_with_one_line(
    tmp_path: Path, line: str, error: str, fix: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "p"\n\n[tool.runlab.plugins]\n{line}\n')
    with pytest.raises(UsageError) as info:
        load_plugin_config(tmp_path)
    assert error in str(info.value) and fix in str(info.value)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    result = subprocess.run(
        [sys.executable, "-m", "runlab", "plugins", "list"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"Error: {info.value}"]
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no plugin could act but for the bad table: a run still refuses it
    bare = subprocess.run(
        [sys.executable, "-c", "import runlab\nrunlab.start_run().finish()"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bare.returncode == 1 and f"UsageError: {info.value}" in bare.stderr
    assert not (tmp_path / "runs").exists()


NAMES = [
    pytest.param('enabled = ["mlfow"]', ['enabled = ["mlfow"]', "Did you mean 'mlflow'?"], id="misspelt-enabled"),
    pytest.param('enabled = ["nothing_like_it"]', ['enabled = ["nothing_like_it"]'], id="unknown-enabled"),
    pytest.param('disabled = ["notfy"]', ['disabled = ["notfy"]', "Did you mean 'notify'?"], id="misspelt-disabled"),
    pytest.param('disabled = ["elsewhere_only"]', [], id="disabled-not-installed-here"),
    pytest.param('enabled = ["local"]\ndisabled = ["mlflow"]', [], id="all-known"),
]


@pytest.mark.parametrize(("lines", "expected"), NAMES)
def test_names_in_enabled_and_disabled_that_match_no_plugin_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: str, expected: list[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.runlab.plugins]\n{lines}\n")
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "local.py").write_text(HEADER + "class L(Plugin):\n    pass\n")
    PluginManager(tmp_path, builtin=False).load_all()
    reported = [line for line in capsys.readouterr().err.splitlines() if "names no plugin" in line]
    assert len(reported) == (1 if expected else 0), reported
    for part in expected:
        assert part in reported[0]


FOLDERS = [
    pytest.param(lambda tmp: tmp / "plugin.py", "is a file, so no plugin is loaded from it", id="a-file"),
    pytest.param(lambda tmp: tmp / ("x" * 300), "File name too long", id="unreadable"),
    pytest.param(lambda tmp: tmp / "missing", None, id="absent-is-fine"),
]


@pytest.mark.parametrize(("make", "problem"), FOLDERS)
def test_a_plugin_path_entry_that_is_no_readable_folder_is_reported_not_fatal(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    problem: str | None,
) -> None:
    (tmp_path / "plugin.py").write_text(HEADER + "class P(Plugin):\n    pass\n")
    good = tmp_path / "good"
    good.mkdir()
    (good / "fine.py").write_text(HEADER + "class F(Plugin):\n    pass\n")
    entry = make(tmp_path)
    monkeypatch.setenv("RUNLAB_PLUGIN_PATH", os.pathsep.join([str(entry), str(good)]))
    found, _ = discover(tmp_path)
    assert [s.name for s in found if s.kind == "folder"] == ["fine"]
    assert PluginManager(tmp_path, builtin=False).load_all() == ["fine"]
    err = capsys.readouterr().err
    if problem is None:
        assert "plugin folder" not in err
    else:
        (line,) = [line for line in err.splitlines() if "plugin folder" in line]
        assert str(entry) in line and problem in line
