"""What an executor ships and gets back: :class:`~runlab.request.RunRequest` and :class:`RunResult`.

This module is the only place where executors touch a request: :func:`execute_catching` runs
one in this process, :func:`crashed` and :func:`not_started` make the results of runs whose
process died or that never started.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..request import RunRequest, RunResult, execute
from ..store import RunStatus

__all__ = ["RunRequest", "RunResult", "crashed", "environment", "execute_catching", "not_started"]


def execute_catching(request: RunRequest) -> tuple[RunResult, BaseException | None]:
    """Run ``request`` here; its result and the exception that ended it (Ctrl-C included).

    Never raises for the run's own error or a bad request (a ``failed`` result without a run).
    """
    from ..lifecycle import RunTerminated, add_listener

    created: list[Any] = []

    def collect(event: str, run: Any, **data: Any) -> None:
        if event == "run_state_changed" and data.get("old") is None:
            created.append(run)

    remove = add_listener(collect)
    try:
        result = execute(request)
        return result, result.exception
    except (KeyboardInterrupt, RunTerminated, UsageError, Exception) as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, RunTerminated))  # Ctrl-C, or SIGTERM during a run
        if not created:
            return RunResult(None, RunStatus.CANCELLED if interrupted else RunStatus.FAILED,
                             None, error=_text(exc), exception=exc), exc  # fmt: skip
        run = created[-1]
        if interrupted and str(run.status) in ("created", "running"):
            try:  # interrupted between the run's start and its own Ctrl-C / SIGTERM handling
                run.cancel("cancelled: interrupted")
            except Exception:
                pass
        return RunResult.of(run, None, exc), exc
    finally:
        remove()


def _text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def crashed(run: Mapping[str, Any] | None, error: str) -> RunResult:
    """The result of a run whose process died: ``run`` is what the process announced (id, folder), if anything."""
    if not run:
        return RunResult(None, RunStatus.FAILED, None, error=error)
    return RunResult(run.get("id"), RunStatus.CRASHED, Path(run["folder"]) if run.get("folder") else None, error=error)


def not_started(reason: str = "the sweep was cancelled before this run started") -> RunResult:
    """The result of a request that was cancelled before it ran (no run exists)."""
    return RunResult(None, RunStatus.CANCELLED, None, error=reason)


def environment() -> dict[str, str]:
    """The environment a run process gets (this process's)."""
    return dict(os.environ)
