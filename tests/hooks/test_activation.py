"""Plugins for every run: one activation path for start_run, run blocks, functional experiments and
scripts (real subprocesses, through ``runlab run`` too), and no plugin machinery where none can act."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import runlab
from runlab import UsageError
from runlab._activation import plugins_configured

REPO = Path(__file__).resolve().parents[2]
STYLES = REPO / "examples" / "styles"

RECORDER = '''
"""Record, per run, the hooks it saw, into the run's own record."""
from runlab.plugins import Plugin, hook


class Recorder(Plugin):
    def initialize(self, context):
        self.seen = {}

    def note(self, run, what):
        self.seen.setdefault(run.id, []).append(what)

    @hook("run_state_changed")
    def changed(self, run, new):
        self.note(run, "state:" + new)

    @hook("metrics_logged")
    def metrics(self, run):
        if "metrics_logged" not in self.seen.get(run.id, []):
            self.note(run, "metrics_logged")

    @hook("before_run")
    def before(self, run):
        self.note(run, "before_run")

    @hook("after_run")
    def after(self, run):
        self.note(run, "after_run")

    @hook("run_finishing")
    def finishing(self, run, status):
        self.note(run, "run_finishing")
        run.record_plugin("recorder", seen=self.seen[run.id])
'''

START_RUN = """
import runlab
with runlab.start_run(params={"lr": 0.1}) as run:
    run.log_metric("loss", 0.5)
"""

CORE = ["state:created", "state:running", "run_finishing"]
EXPERIMENT = ["state:created", "state:running", "before_run", "after_run", "run_finishing"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a folder plugin that records what it sees into each run."""
    project = tmp_path / "project"
    (project / ".runlab" / "plugins").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / ".runlab" / "plugins" / "recorder.py").write_text(RECORDER)
    return project


def _env(tmp_path: Path, root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RUNLAB_PLUGIN_PATH", "DBUS_SESSION_BUS_ADDRESS")}
    return {**env, "RUNLAB_ROOT": str(root), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def _only_run(root: Path) -> dict[str, object]:
    [path] = root.glob("*/*/run.json")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(w == s for s in it) for w in wanted)


RUNLAB_RUN = [sys.executable, "-m", "runlab", "run"]
# (how the run starts, command line, hooks the recorder must see in that order, whether it logs metrics)
STARTS = [
    ("start_run", [sys.executable, "-c", START_RUN], CORE, True),
    ("run block", [sys.executable, str(STYLES / "context.py")], EXPERIMENT, True),
    ("runlab run: run block", [*RUNLAB_RUN, str(STYLES / "context.py")], EXPERIMENT, True),
    ("runlab run: functional", [*RUNLAB_RUN, str(STYLES / "functional.py")], EXPERIMENT, True),
    # the script returns {"w": ..., "b": ...}: numeric results become the metrics result/w, result/b
    ("runlab run: plain script", [*RUNLAB_RUN, str(STYLES / "script.py")], EXPERIMENT, True),
]


@pytest.mark.parametrize(("how", "command", "wanted", "metrics"), STARTS, ids=[s[0] for s in STARTS])
def test_plugins_see_every_run_however_it_starts(
    tmp_path: Path, project: Path, how: str, command: list[str], wanted: list[str], metrics: bool
) -> None:
    root = tmp_path / "store"
    out = subprocess.run(command, cwd=project, env=_env(tmp_path, root), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    record = _only_run(root)
    plugins = record["plugins"]
    assert isinstance(plugins, dict)
    recorder = plugins["recorder"]
    assert recorder["state"] == "active" and recorder["source"].startswith("folder")  # noted when the run was created
    assert _subsequence(wanted, recorder["seen"]), recorder["seen"]
    assert recorder["seen"][0] == "state:created" and "state:completed" not in recorder["seen"]
    assert ("metrics_logged" in recorder["seen"][:-1]) is metrics  # before run_finishing


PROBE = """
import sys, runlab
with runlab.start_run(params={"a": 1}) as run:
    run.log_metric("m", 1.0)
print(sorted(m for m in sys.modules if m.startswith("runlab.plugins")))
"""


def test_no_plugin_machinery_is_imported_where_no_plugin_can_act(tmp_path: Path, project: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    env = _env(tmp_path, tmp_path / "store")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=bare, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    out = _runlab_run(
        bare / "plain.py", "import sys\nprint(sorted(m for m in sys.modules if m.startswith('runlab.plugins')))\n", env
    )
    # runlab run of a plain script: only the built-in system plugin (on by default for the
    # experiment styles, psutil installed) could act; it samples runs that last, so the plugins
    # load LATE_DELAY seconds into the run: a short run imports nothing ...
    assert out.stdout.splitlines()[0] == "[]"
    waits = (
        "import sys, time\n"
        "deadline = time.monotonic() + 60\n"
        "while 'runlab.plugins.builtin.system' not in sys.modules and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "print(sorted(m for m in sys.modules if m.startswith('runlab.plugins')))\n"
    )
    out = _runlab_run(bare / "waits.py", waits, env)
    assert "runlab.plugins.builtin.system" in out.stdout.splitlines()[0]  # ... a longer one loads them
    [record_file] = (tmp_path / "store").glob("waits/*/run.json")
    plugins = json.loads(record_file.read_text())["plugins"]
    assert "system" in plugins  # and the system plugin joined the run
    (bare / "pyproject.toml").write_text('[tool.runlab.plugins]\ndisabled = ["system"]\n')
    lasts = "import sys, time\ntime.sleep(1.5)\nprint(sorted(m for m in sys.modules if 'runlab.plugins' in m))\n"
    out = _runlab_run(bare / "lasts.py", lasts, env)
    assert out.stdout.splitlines()[0] == "[]"  # disabled: never loaded, however long the run
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    assert "runlab.plugins._manager" in out.stdout  # the same run where a plugin is configured loads it


def _runlab_run(script: Path, source: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Write ``script`` and run it with ``runlab run`` in its folder; it must succeed."""
    script.write_text(source)
    out = subprocess.run(
        [sys.executable, "-m", "runlab", "run", str(script)], cwd=script.parent, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out


def _plugin_file(folder: Path, name: str = "p.py") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("")


# (what the environment holds, whether a plugin could act)
CASES = [
    ("nothing", lambda tmp, mp: None, False),
    ("a private file in the project folder", lambda tmp, mp: _plugin_file(tmp / ".runlab" / "plugins", "_x.py"), False),
    ("a plugin in the project folder", lambda tmp, mp: _plugin_file(tmp / ".runlab" / "plugins"), True),
    (
        "a package plugin in the project folder",
        lambda tmp, mp: _plugin_file(tmp / ".runlab" / "plugins" / "pkg", "__init__.py"),
        True,
    ),
    ("a plugin in the user folder", lambda tmp, mp: _plugin_file(tmp / "xdg" / "runlab" / "plugins"), True),
    (
        "a plugin on RUNLAB_PLUGIN_PATH",
        lambda tmp, mp: (_plugin_file(tmp / "extra"), mp.setenv("RUNLAB_PLUGIN_PATH", str(tmp / "extra"))),
        True,
    ),
    (
        "a plugin enabled in pyproject",
        lambda tmp, mp: (tmp / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = ["mlflow"]\n'),
        True,
    ),
    (
        "a plugin enabled and disabled",
        lambda tmp, mp: (tmp / "pyproject.toml").write_text(
            '[tool.runlab.plugins]\nenabled = ["mlflow"]\ndisabled = ["mlflow"]\n'
        ),
        False,
    ),
    (
        "a malformed plugin section (the manager reports it)",
        lambda tmp, mp: (tmp / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = "mlflow"\n'),
        True,
    ),
    (
        "a desktop session (the notify plugin)",
        lambda tmp, mp: (mp.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/x"), mp.setenv("DISPLAY", ":0")),
        True,
    ),
    (
        "a desktop session with notify disabled",
        lambda tmp, mp: (
            mp.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/x"),
            mp.setenv("DISPLAY", ":0"),
            (tmp / "pyproject.toml").write_text('[tool.runlab.plugins]\ndisabled = ["notify"]\n'),
        ),
        False,
    ),
    (
        "an installed distribution with a runlab.plugins entry point",
        lambda tmp, mp: (
            _plugin_file(tmp / "site" / "thing-1.0.dist-info", "entry_points.txt"),
            (tmp / "site" / "thing-1.0.dist-info" / "entry_points.txt").write_text("[runlab.plugins]\nx = thing:X\n"),
            mp.syspath_prepend(str(tmp / "site")),
        ),
        True,
    ),
]


@pytest.mark.parametrize(("case", "setup", "expected"), CASES, ids=[c[0] for c in CASES])
def test_when_a_plugin_could_act(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, setup: object, expected: bool
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert callable(setup)
    setup(tmp_path, monkeypatch)
    assert plugins_configured(tmp_path) is expected


def test_a_bad_plugin_configuration_stops_start_run_before_anything_is_written(tmp_path: Path, root: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = "mlflow"\n')
    with pytest.raises(UsageError, match=r"plugins\.enabled"):
        runlab.start_run(root=root, capture=False)
    assert not list(root.glob("*/*/run.json"))
