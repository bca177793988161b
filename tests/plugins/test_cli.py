"""``runlab plugins list|info|help`` and plugin commands, through CliRunner and a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli import _plugins_cmd  # noqa: F401  (registers `runlab plugins`)
from runlab.cli._main import _register, cli
from runlab.plugins import register_plugin_commands

_register()

COMMAND_PLUGIN = '''
import click
from runlab.plugins import Plugin, hook

class Greeter(Plugin):
    """Adds `runlab greet`.

    Example: runlab greet Ada
    """
    version = "0.3"

    @hook("cli_register_commands")
    def commands(self, cli):
        @click.command("greet")
        @click.argument("who")
        def greet(who):
            """Greet WHO (from the greeter plugin)."""
            click.echo(f"hello {who}")
        cli.add_command(greet)
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "greeter.py").write_text(COMMAND_PLUGIN)
    (folder / "broken.py").write_text("raise RuntimeError('cannot import me')\n")
    return tmp_path


def test_list_info_and_help(project: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["plugins", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "greeter" in lines and "0.3" in lines["greeter"] and "running" in lines["greeter"]
    assert "cli_register_commands" in lines["greeter"]
    assert "failed" in lines["broken"]
    assert "note: broken: failed to import: RuntimeError: cannot import me" in result.output
    assert "plot_track" in lines and "notify" in lines

    rows = json.loads(runner.invoke(cli, ["plugins", "list", "--json"]).output)
    assert {r["name"]: r["state"] for r in rows}["greeter"] == "running"

    info = runner.invoke(cli, ["plugins", "info", "greeter"])
    assert info.exit_code == 0
    assert "version:     0.3" in info.output and "history:" in info.output and "initialized" in info.output

    assert "Example: runlab greet Ada" in runner.invoke(cli, ["plugins", "help", "greeter"]).output
    summary = runner.invoke(cli, ["plugins", "help"]).output
    assert "greeter" in summary and "Adds `runlab greet`." in summary

    missing = runner.invoke(cli, ["plugins", "info", "greter"])
    assert missing.exit_code == 2 and "Did you mean 'greeter'" in missing.output


def test_plugin_commands_appear_in_runlab_help(project: Path) -> None:
    register_plugin_commands(cli)
    try:
        runner = CliRunner()
        assert "greet" in runner.invoke(cli, ["--help"]).output
        result = runner.invoke(cli, ["greet", "Ada"])
        assert result.exit_code == 0 and result.output == "hello Ada\n"
    finally:
        cli.commands.pop("greet", None)


BOOTSTRAP = """
import sys
from runlab.cli import _main
if "plugins" not in _main.cli.commands:
    from runlab.cli import _plugins_cmd
from runlab.plugins import register_plugin_commands
register_plugin_commands(_main.cli)
sys.argv[0] = "runlab"
_main.main()
"""


def test_plugins_list_in_a_subprocess(project: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(project / "xdg")}
    result = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, "plugins", "list"], capture_output=True, text=True, cwd=project, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "greeter" in result.stdout and "plot_track" in result.stdout
    assert "plugin 'broken' could not import" in result.stderr
    helped = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, "--help"], capture_output=True, text=True, cwd=project, env=env
    )
    assert "greet" in helped.stdout and "plugins" in helped.stdout


CRITICAL_BROKEN = """
from runlab.plugins import Plugin, hook

class Guard(Plugin):
    critical = True

    def initialize(self, context):
        raise RuntimeError("licence server unreachable")

    @hook("before_run")
    def check(self, experiment, run):
        pass
"""


@pytest.mark.parametrize("args", [["plugins", "list"], ["plugins", "info", "guard"], ["plugins", "help", "guard"]])
def test_a_critical_plugin_that_fails_to_load_can_still_be_looked_at(tmp_path: Path, args: list[str]) -> None:
    """The inspection commands exited 1 and showed nothing: the failing plugin could not be looked at."""
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "guard.py").write_text(CRITICAL_BROKEN)
    out = subprocess.run([sys.executable, "-m", "runlab", *args], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "licence server unreachable" in out.stdout + out.stderr
    if args[1] == "list":
        [line] = [ln for ln in out.stdout.splitlines() if ln.startswith("guard")]
        assert "failed" in line
    # a run still refuses to start without its critical plugin
    run = subprocess.run([sys.executable, "-c", "import runlab\nwith runlab.start_run(root='runs'): pass"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode != 0 and "Critical plugin 'guard'" in run.stderr
