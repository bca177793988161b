"""Shared fixtures: every test gets its own store folder and a clean runlab environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import runlab
from runlab.store import _api

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's RUNLAB_ROOT or leaves a shared Store behind."""
    monkeypatch.delenv("RUNLAB_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    forget_stores()
    if "runlab.plugins" in sys.modules:  # a test that activated plugins must not leak them into the next
        sys.modules["runlab.plugins"].reset_manager()
    from runlab.hooks import get_registry

    get_registry().reset_activation()  # the next test's first run looks for plugins again (its own cwd)


def forget_stores() -> None:
    """Close and drop the per-process Store cache (as a new process would start)."""
    for store in _api._STORES.values():
        store.close()
    _api._STORES.clear()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fresh store folder."""
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> runlab.Store:
    return runlab.Store(root)


def run_python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
               check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run ``code`` in a fresh interpreter (the installed runlab) and return the result."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=full_env,
                            timeout=timeout, check=False)  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
