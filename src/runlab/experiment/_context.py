"""The context-manager style (Yanex): ``with runlab.run(...) as run:`` and module functions.

The current run is held in a :mod:`contextvars` variable, so each asyncio task and each
``with`` block sees its own run. A thread started inside a block has a fresh context; it
falls back to the process's only open run, and asks for ``contextvars.copy_context()``
when several are open.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from weakref import WeakKeyDictionary

from ..errors import (
    DirtyWorkingDirectoryError,
    ExperimentAlreadyRunningError,
    ExperimentContextError,
    ValidationError,
)
from ..lifecycle import Run, start_run
from ..lifecycle._run import open_runs
from ..store import RunStatus
from ..store._api import get_store
from ..store._store import Store

__all__ = [
    "RunContext",
    "cancel",
    "completed",
    "current_run",
    "fail",
    "get_param",
    "get_params",
    "get_status",
    "log_artifact",
    "log_matplotlib_figure",
    "log_results",
    "log_text",
    "run",
]

_current: ContextVar[Run | None] = ContextVar("runlab_current_run", default=None)
_result_steps: WeakKeyDictionary[Run, dict[str, set[int]]] = WeakKeyDictionary()  # for "step replaced" warnings
_MISSING = object()


class _EndRun(Exception):
    """Raised by :func:`completed`, :func:`fail` and :func:`cancel` to leave the block."""

    def __init__(self, status: RunStatus, message: str | None) -> None:
        super().__init__(message or status.value)
        self.status = status
        self.message = message


class RunContext:
    """What :func:`run` returns: enter it to start the run and make it current.

    Leaving the block normally completes the run; :func:`completed`, :func:`fail` and
    :func:`cancel` end it early with that state (and the block exits cleanly); any other
    exception fails the run and propagates; Ctrl-C and SIGTERM cancel it and propagate.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._run: Run | None = None
        self._token: Token[Run | None] | None = None

    def __enter__(self) -> Run:
        opts = dict(self._options)
        exclusive = opts.pop("exclusive")
        require_clean_git = opts.pop("require_clean_git")
        store = get_store(opts.pop("root"))
        if require_clean_git:
            _check_clean_git()
        if exclusive:
            running = store.runs(status="running", limit=5)
            if len(running):
                raise ExperimentAlreadyRunningError(
                    f"Run {running[0].id} is still running in {store.root}; exclusive mode allows one at a time. "
                    "Wait for it, cancel it, or drop exclusive=True."
                )
        from ..plugins import get_manager

        get_manager()  # plugins see every experiment-style run (loaded once per process)
        self._run = start_run(root=store, **opts)
        self._token = _current.set(self._run)
        return self._run

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        assert self._run is not None and self._token is not None
        _current.reset(self._token)
        if isinstance(exc, _EndRun):
            self._run.finish(exc.status, exc.message if exc.status is not RunStatus.COMPLETED else None)
            self._run.__exit__(None, None, None)  # restores signal handlers; the run is already closed
            return True
        return self._run.__exit__(exc_type, exc, tb)


def run(
    params: Mapping[str, Any] | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    namespace: str | None = None,
    root: str | os.PathLike[str] | Store | None = None,
    *,
    exclusive: bool = False,
    require_clean_git: bool = False,
) -> RunContext:
    """Start a run for the duration of a ``with`` block and make it the current run.

    Args:
        params: parameter values; read back with :func:`get_params` / :func:`get_param`.
        name, tags, description, namespace, root: as for :func:`runlab.start_run`.
        exclusive: refuse to start while another run of the store is running
            (:class:`~runlab.ExperimentAlreadyRunningError`).
        require_clean_git: refuse to start when the git tree has uncommitted changes
            (:class:`~runlab.DirtyWorkingDirectoryError`).

    Example:
        >>> import runlab, tempfile
        >>> with runlab.run(params={"model": {"lr": 0.1}}, root=tempfile.mkdtemp()) as r:
        ...     runlab.log_results({"loss": 0.5}, step=0)
        ...     lr = runlab.get_param("model.lr")
        >>> lr, r.status
        (0.1, 'completed')
    """
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError(f"Invalid params {params!r}: expected a mapping of names to values.")
    return RunContext(
        params=params,
        name=name,
        tags=tags,
        description=description,
        namespace=namespace,
        root=root,
        exclusive=exclusive,
        require_clean_git=require_clean_git,
    )


def _check_clean_git() -> None:
    from ..lifecycle._capture import capture_git

    info, _ = capture_git(Path.cwd())
    if info.get("dirty"):
        raise DirtyWorkingDirectoryError(
            f"The git working tree at {info.get('repository')} has uncommitted changes and require_clean_git "
            "is set. Commit or stash them, or drop require_clean_git."
        )


def current_run() -> Run:
    """The run of the enclosing ``with runlab.run()`` block (or the process's only open run).

    Raises:
        ExperimentContextError: there is none, or several runs are open and this context
            has none of them.
    """
    active = _current.get()
    if active is not None:
        return active
    candidates = open_runs()
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ExperimentContextError(
            "No active run: call this inside 'with runlab.run(...):' or in a script started with 'runlab run'."
        )
    raise ExperimentContextError(
        f"{len(candidates)} runs are open and this thread has none of them as its current run; start the thread "
        "with contextvars.copy_context().run(...) inside the 'with runlab.run()' block it belongs to."
    )


def get_params() -> dict[str, Any]:
    """The current run's parameters (a copy)."""
    return current_run().params


def get_param(key: str, default: Any = _MISSING) -> Any:
    """One parameter; dotted keys reach into nested dicts (``"model.lr"``).

    Raises:
        KeyError: the key is missing and no default was given.
    """
    node: Any = current_run().params
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif default is _MISSING:
            raise KeyError(f"No parameter {key!r}; parameters: {', '.join(current_run().params) or 'none'}.")
        else:
            return default
    return node


def get_status() -> str:
    """The current run's state."""
    return current_run().status


def log_results(data: Mapping[str, Any], step: int | None = None) -> None:
    """Log a step's results: numbers become metrics, other values go to ``data.json`` under ``results/``.

    Logging a step that was already logged warns that its values are replaced (the later
    point is the one summaries and the UI show).
    """
    if not isinstance(data, Mapping):
        raise ValidationError(f"Invalid results {data!r}: expected a mapping such as {{'loss': 0.1}}.")
    current = current_run()
    seen = _result_steps.setdefault(current, {})
    for key, value in data.items():
        name = str(key)
        if isinstance(value, (int, float)) or (hasattr(value, "item") and not isinstance(value, (str, bytes))):
            if step is not None:
                steps = seen.setdefault(name, set())
                if step in steps:
                    warnings.warn(f"Replacing the result {name!r} of step {step}.", UserWarning, stacklevel=2)
                steps.add(step)
            current.log_metric(name, value, step)
        else:
            current.data[f"results/{step if step is not None else 'final'}/{name}"] = value


def log_artifact(name: str, path: str | os.PathLike[str]) -> Path:
    """Copy the file or folder at ``path`` into the current run's artifacts as ``name``."""
    return current_run().log_artifact(path, name)


def log_matplotlib_figure(figure: Any, filename: str, **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure into the current run's artifacts."""
    return current_run().log_figure(figure, filename, **savefig_kwargs)


def log_text(content: str, filename: str) -> Path:
    """Write text into the current run's artifacts."""
    return current_run().save_text(filename, content)


def _end(status: RunStatus, message: str | None) -> Literal[False]:
    current_run()  # raises outside a run
    raise _EndRun(status, message)


def completed() -> None:
    """End the current ``with runlab.run()`` block now, as completed."""
    _end(RunStatus.COMPLETED, None)


def fail(message: str) -> None:
    """End the current ``with runlab.run()`` block now, as failed with ``message``."""
    _end(RunStatus.FAILED, message)


def cancel(message: str) -> None:
    """End the current ``with runlab.run()`` block now, as cancelled with ``message``."""
    _end(RunStatus.CANCELLED, message)
