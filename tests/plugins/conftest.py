"""Plugin tests: no user plugin folder, no plugin path, no process-wide manager left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runlab.plugins import PluginManager, reset_manager


@pytest.fixture(autouse=True)
def _isolated_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RUNLAB_PLUGIN_PATH", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    reset_manager()
    yield
    reset_manager()


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[PluginManager]:
    """A manager without built-in plugins, subscribed to run events; closed afterwards."""
    pm = PluginManager(tmp_path, builtin=False)
    yield pm
    pm.close()
