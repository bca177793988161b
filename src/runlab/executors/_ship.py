"""What an executor ships and gets back: run requests as JSON, run results.

This module is the only place where executors touch a request: :func:`dump` writes it as
JSON text, :func:`execute_text` executes such text in the current process, and
:func:`crashed` makes the result of a run whose process died.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["RunRequest", "RunResult", "crashed", "dump", "execute", "execute_catching", "execute_text"]


@dataclass
class RunRequest:
    """What to run (interim form until ``runlab.request`` lands): a file, overrides, options and links."""

    path: str
    argv: list[str] = field(default_factory=list)
    root: str | None = None
    links: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        return cls(**json.loads(text))


@dataclass
class RunResult:
    """How one request ended: its run (when one was created), final state, result value and error."""

    run_id: str | None
    status: str
    folder: str | None = None
    value: Any = None
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=repr)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls(**json.loads(text))


def dump(request: RunRequest) -> str:
    """The request as JSON text (what crosses a process or host boundary)."""
    return request.to_json()


def execute(request: RunRequest) -> RunResult:
    """Execute ``request`` in this process and return how it ended (never raises for the run's own error)."""
    return execute_catching(request)[0]


def execute_catching(request: RunRequest) -> tuple[RunResult, BaseException | None]:
    """Like :func:`execute`, also returning the exception that ended the run (Ctrl-C included)."""
    from ..experiment._dispatch import launch
    from ..lifecycle import add_listener

    created: list[Any] = []

    def collect(event: str, run: Any, **data: Any) -> None:
        if event == "run_state_changed" and data.get("old") is None:
            created.append(run)

    remove = add_listener(collect)
    error: BaseException | None = None
    try:
        launch(request.path, request.argv, root=request.root, links=request.links, **request.options)
    except KeyboardInterrupt as exc:
        error = exc
    except Exception as exc:
        error = exc
    finally:
        remove()
    if not created:
        return RunResult(None, "failed", error=_text(error) or "no run was created"), error
    run = created[0]
    if isinstance(error, KeyboardInterrupt) and str(run.status) in ("created", "running"):
        try:  # interrupted between the run's start and its own Ctrl-C handling
            run.cancel("cancelled: interrupted")
        except Exception:
            pass
    result = None
    try:
        from ..store import load

        result = load(run.id, root=run.store).data.get("result")
    except Exception:
        pass
    message = _text(error) if run.status != "completed" else None
    return RunResult(run.id, str(run.status), str(run.path), result, message), error


def _text(error: BaseException | None) -> str | None:
    if error is None:
        return None
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def execute_text(text: str) -> RunResult:
    """Execute a request given as JSON text."""
    return execute(RunRequest.from_json(text))


def crashed(run: Mapping[str, Any] | None, error: str) -> RunResult:
    """The result of a run whose process died: ``run`` is what the child reported when the run was created."""
    run = run or {}
    return RunResult(run.get("id"), "crashed" if run else "failed", run.get("folder"), None, error)


def environment() -> dict[str, str]:
    """The environment a child should see (this process's)."""
    return dict(os.environ)
