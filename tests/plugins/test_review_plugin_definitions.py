"""Plugin definitions refused where they enter: ``@hook`` arguments, metadata attributes, a failing ``help()``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runlab.errors import ValidationError
from runlab.hooks import HookRegistry
from runlab.plugins import Plugin, PluginManager, PluginState, hook
from runlab.plugins._discovery import folder_problem

BAD_PRIORITIES: list[Any] = [1.5, "10", "high", float("nan"), float("inf"), True, None]
BAD_NAMES: list[Any] = [None, 3, "", "  ", lambda run: None]


@pytest.mark.parametrize("priority", BAD_PRIORITIES)
def test_hook_refuses_a_priority_that_is_not_an_integer(priority: Any) -> None:
    with pytest.raises(ValidationError, match="Invalid priority for hook 'before_run'"):
        hook("before_run", priority=priority)
    with pytest.raises(ValidationError, match="Invalid priority for hook 'before_run'"):
        HookRegistry().register("before_run", lambda run: None, priority=priority)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_hook_refuses_a_name_that_is_not_a_string(name: Any) -> None:
    with pytest.raises(ValidationError, match="Invalid hook name"):
        hook(name)
    with pytest.raises(ValidationError, match="Invalid hook name"):
        HookRegistry().register(name, lambda run: None)


@pytest.mark.parametrize(("priority", "expected"), [(5, 5), (-3, -3), (7.0, 7)])
def test_integral_priorities_are_kept(priority: Any, expected: int) -> None:
    impl = HookRegistry().register("before_run", lambda run: None, priority=priority)
    assert impl.priority == expected and type(impl.priority) is int


def test_bare_hook_decorator_is_refused_with_the_fix() -> None:
    """``@hook`` without a name used to make the method a no-op decorator: the plugin loaded with no hooks."""
    with pytest.raises(ValidationError, match=r"write @hook\('before_run'\), not @hook"):

        class Bare(Plugin):
            @hook  # type: ignore[arg-type]
            def before_run(self, run: Any) -> None: ...


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("tags", 5),
        ("tags", "gpu"),
        ("dependencies", "desktop-notifier"),
        ("requires", "mlflow"),
        ("requires", ("mlflow", 3)),
        ("author", None),
        ("critical", "yes"),
        ("enabled_by_default", 0),
    ],
)
def test_bad_metadata_is_refused_when_the_plugin_loads(tmp_path: Path, attribute: str, value: Any) -> None:
    cls = type("Odd", (Plugin,), {"__doc__": "Odd.", attribute: value})
    with pytest.raises(ValidationError, match=f"Invalid '{attribute}' of plugin 'odd'"):
        PluginManager(tmp_path, builtin=False).add(cls, name="odd")

    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "odd.py").write_text(
        f"from runlab.plugins import Plugin\nclass Odd(Plugin):\n    '''Odd.'''\n    {attribute} = {value!r}\n"
    )
    manager = PluginManager(tmp_path, builtin=False, inspecting=True)  # critical = "yes" would raise
    record = manager.get("odd")
    manager.load_all()
    assert record.state is PluginState.FAILED
    assert f"Invalid '{attribute}'" in record.notice
    assert "Odd." in manager.help() and "Odd." in manager.help("odd")


def _runlab(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(cwd / "xdg")}
    env.pop("RUNLAB_PLUGIN_PATH", None)
    return subprocess.run(
        [sys.executable, "-m", "runlab", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    def help(self):\n        raise RuntimeError('boom')\n", "(its help() failed: RuntimeError: boom)"),
        ("    def help(self):\n        raise SystemExit(3)\n", "(its help() failed: SystemExit: 3)"),
    ],
)
def test_plugins_help_survives_a_failing_help_method(tmp_path: Path, body: str, expected: str) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (folder / "helpless.py").write_text(
        f"from runlab.plugins import Plugin\nclass Helpless(Plugin):\n    '''The docstring.'''\n{body}"
    )
    result = _runlab(tmp_path, "plugins", "help", "helpless")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert expected in result.stdout and "The docstring." in result.stdout


@pytest.mark.parametrize("file_name", ["mine.py", "pyproject.toml", "plugins"])
def test_a_plugin_folder_that_is_a_file_points_at_its_folder(tmp_path: Path, file_name: str) -> None:
    """The hint named ``pyproject.toml/NAME.py`` for a file that is not a ``.py``."""
    path = tmp_path / file_name
    path.write_text("")
    problem = folder_problem(path)
    assert problem is not None and f"as {tmp_path}/NAME.py" in problem
