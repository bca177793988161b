"""Discovery through an installed distribution's entry point and through folders; reload."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from runlab.plugins import PluginManager, PluginState, discover

PLUGIN = """
from runlab.plugins import Plugin, hook

class {cls}(Plugin):
    '''{doc}'''
    version = "{version}"

    @hook("before_run")
    def before(self, run):
        return "{answer}"
"""


def write_plugin(path: Path, answer: str, version: str = "1.0", cls: str = "Demo") -> None:
    path.write_text(PLUGIN.format(cls=cls, doc=f"Answers {answer}.", version=version, answer=answer))


@pytest.fixture
def distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real (tiny) installed distribution: a module and its .dist-info with an entry point."""
    site = tmp_path / "site"
    site.mkdir()
    write_plugin(site / "runlab_demo_plugin.py", "from entry point", version="2.5")
    info = site / "runlab_demo_plugin-2.5.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runlab-demo-plugin\nVersion: 2.5\n")
    (info / "entry_points.txt").write_text("[runlab.plugins]\ndemo_ep = runlab_demo_plugin:Demo\n")
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("runlab_demo_plugin", None)


def test_discovery_through_an_entry_point(distribution: Path, tmp_path: Path) -> None:
    pm = PluginManager(tmp_path, builtin=False)
    record = pm.get("demo_ep")
    assert record.source.kind == "entry-point"
    assert record.source.describe() == "entry point (runlab-demo-plugin 2.5)"
    assert record.state is PluginState.DISCOVERED and "runlab_demo_plugin" not in sys.modules  # lazy
    assert pm.apply("before_run", run=None) == "from entry point"
    assert record.state is PluginState.RUNNING and record.version == "2.5"
    pm.close()


def test_discovery_through_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / ".runlab" / "plugins"
    project.mkdir(parents=True)
    write_plugin(project / "local.py", "from the project")
    write_plugin(project / "_helper.py", "never")
    (project / "notes.txt").write_text("not a plugin")
    package = project / "packaged"
    package.mkdir()
    write_plugin(package / "__init__.py", "from a package")
    user = tmp_path / "xdg" / "runlab" / "plugins"
    user.mkdir(parents=True)
    write_plugin(user / "personal.py", "from the user folder")
    extra = tmp_path / "extra"
    extra.mkdir()
    write_plugin(extra / "local.py", "from RUNLAB_PLUGIN_PATH")  # shadows the project's
    monkeypatch.setenv("RUNLAB_PLUGIN_PATH", str(extra))

    found, shadowed = discover(tmp_path)
    names = {s.name: s for s in found}
    assert {"local", "packaged", "personal"} <= set(names) and "_helper" not in names
    assert names["local"].target == str(extra / "local.py")
    assert [s.target for s in shadowed] == [str(project / "local.py")]

    pm = PluginManager(tmp_path, builtin=False)
    pm.load_all()
    answers = {impl.owner: impl.function(run=None) for impl in pm.registry.implementations("before_run")}
    assert answers == {
        "local": "from RUNLAB_PLUGIN_PATH",
        "packaged": "from a package",
        "personal": "from the user folder",
    }


def test_reload_reimports_a_folder_plugin_and_reregisters_its_hooks(tmp_path: Path) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    write_plugin(folder / "live.py", "v1")
    pm = PluginManager(tmp_path, builtin=False)
    assert pm.apply("before_run", run=None) == "v1"
    write_plugin(folder / "live.py", "v2", version="2.0")
    record = pm.reload("live")
    assert pm.apply("before_run", run=None) == "v2"
    assert len(pm.registry.implementations("before_run")) == 1
    assert record.version == "2.0"
    assert [c.state for c in record.history][-4:] == [
        PluginState.STOPPED,
        PluginState.LOADED,
        PluginState.INITIALIZED,
        PluginState.RUNNING,
    ]
    (folder / "live.py").write_text("raise ImportError('half-written file')\n")
    pm.reload("live")
    assert record.state is PluginState.FAILED and pm.apply("before_run", run=None) is None
    pm.close()


def test_reload_of_an_entry_point_plugin(distribution: Path, tmp_path: Path) -> None:
    pm = PluginManager(tmp_path, builtin=False)
    assert pm.apply("before_run", run=None) == "from entry point"
    write_plugin(distribution / "runlab_demo_plugin.py", "edited", version="2.6")
    pm.reload("demo_ep")
    assert pm.apply("before_run", run=None) == "edited"
    pm.close()


def test_a_module_without_plugin_class_fails_with_a_clear_notice(tmp_path: Path) -> None:
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    (folder / "empty.py").write_text(textwrap.dedent("X = 1\n"))
    pm = PluginManager(tmp_path, builtin=False)
    record = pm.plugins()[0]
    assert record.state is PluginState.FAILED
    assert "defines no runlab.plugins.Plugin subclass" in record.notice
