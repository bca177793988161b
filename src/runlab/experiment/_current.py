"""The current run of this thread or task, shared by the three experiment styles.

The current run is held in a :mod:`contextvars` variable, so each asyncio task and each
``with`` block sees its own run. A thread started inside a run has a fresh context; it
falls back to the process's only open run, and asks for ``contextvars.copy_context()``
when several are open.

A run that ``runlab run`` (or :func:`runlab.run_script`) created is *attachable*: a
``with runlab.run()`` block inside the script joins it instead of starting a second run.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from weakref import WeakSet

from ..errors import ExperimentContextError
from ..lifecycle import Run
from ..lifecycle._run import open_runs

__all__ = ["attachable", "current_run", "mark_attachable", "reset_current", "set_current"]

_current: ContextVar[Run | None] = ContextVar("runlab_current_run", default=None)
_attachable: WeakSet[Run] = WeakSet()


def set_current(run: Run) -> Token[Run | None]:
    """Make ``run`` the current run of this context; give the token to :func:`reset_current`."""
    return _current.set(run)


def reset_current(token: Token[Run | None]) -> None:
    """Undo :func:`set_current`."""
    _current.reset(token)


def mark_attachable(run: Run) -> None:
    """Let a ``with runlab.run()`` block inside the running code join ``run`` (once)."""
    _attachable.add(run)


def attachable() -> Run | None:
    """The current run if a ``with runlab.run()`` block may join it (and claims it), else None."""
    run = _current.get()
    if run is not None and run in _attachable and run.status == "running":
        _attachable.discard(run)
        return run
    return None


def current_run() -> Run:
    """The run of the enclosing ``with runlab.run()`` block, functional experiment or script run.

    Outside of them, in a thread, the process's only open run.

    Raises:
        ExperimentContextError: there is none, or several runs are open and this context
            has none of them.

    Example:
        >>> import runlab, tempfile
        >>> with runlab.run(root=tempfile.mkdtemp()) as run:
        ...     runlab.experiment.current_run() is run
        True
    """
    active = _current.get()
    if active is not None:
        return active
    candidates = open_runs()
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ExperimentContextError(
            "No active run: call this inside 'with runlab.run(...):' or in a script started with 'runlab run'. "
            "(In a worker process, return the values to the run's process and log them there.)"
        )
    raise ExperimentContextError(
        f"{len(candidates)} runs are open and this thread has none of them as its current run; start the thread "
        "with contextvars.copy_context().run(...) inside the 'with runlab.run()' block it belongs to."
    )
