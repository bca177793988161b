"""Hook tests: no user plugin folder, no plugin path, no desktop session, no process-wide manager left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runlab.plugins import reset_manager


@pytest.fixture(autouse=True)
def _isolated_plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RUNLAB_PLUGIN_PATH", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    reset_manager()
    yield
    reset_manager()
