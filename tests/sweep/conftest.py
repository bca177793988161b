"""The sweep tests run the executors' trivial experiment script (modes ok, fail, die, flaky)."""

from __future__ import annotations

from ..executors.conftest import SCRIPT, script

__all__ = ["SCRIPT", "script"]
