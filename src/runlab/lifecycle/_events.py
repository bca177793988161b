"""Run events: how the layers above ``run/`` (plugins, UI) observe runs.

``run/`` must not import the plugin system, so it publishes events to listeners instead;
the plugin manager registers one listener and turns events into hook calls.

Events and their keyword arguments (every event also gets ``run``):

``run_state_changed``
    ``old`` (None for a new run) and ``new``: state names. Fired after the new state is
    written to ``run.json`` and the index.
``metrics_logged``
    ``counts``: ``{metric name: points}`` of one batch just appended to
    ``metrics.jsonl``. Fired from the run's background writer thread.
``artifact_saved``
    ``name`` (relative to ``artifacts/``) and ``path``.
``run_finishing``
    ``status``: the final state. Fired once while a run finishes, after its metrics,
    data and capture are written and before its final record is: files a listener adds to
    the folder and records it adds with ``run.record_plugin`` are part of the final record.
    The run no longer accepts logging calls.

A listener that raises does not disturb the run: the error is reported once per listener
and event on stderr. Listeners that need more isolation (the plugin manager) catch their
own errors.

Example:
    >>> import runlab, tempfile
    >>> from runlab.lifecycle import add_listener
    >>> seen = []
    >>> remove = add_listener(lambda event, run, **data: seen.append((event, data.get("new"))))
    >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
    ...     pass
    >>> remove()
    >>> [s for s in seen if s[0] == "run_state_changed"]
    [('run_state_changed', 'created'), ('run_state_changed', 'running'), ('run_state_changed', 'completed')]
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["EVENTS", "RunListener", "add_listener", "emit"]

EVENTS = ("run_state_changed", "metrics_logged", "artifact_saved", "run_finishing")


class RunListener(Protocol):
    """Called as ``listener(event, run, **data)``; see the module docstring for the events."""

    def __call__(self, event: str, run: Any, **data: Any) -> None: ...


_listeners: list[RunListener] = []
_lock = threading.Lock()
_reported: set[tuple[int, str]] = set()


def add_listener(listener: RunListener) -> Callable[[], None]:
    """Register ``listener`` for the events of every run in this process; returns a remover."""
    with _lock:
        _listeners.append(listener)

    def remove() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def emit(event: str, run: Any, **data: Any) -> None:
    """Tell every listener about ``event``; a listener's exception never reaches the run."""
    if not _listeners:
        return
    for listener in list(_listeners):
        try:
            listener(event, run, **data)
        except Exception as exc:
            key = (id(listener), event)
            if key not in _reported:
                _reported.add(key)
                name = getattr(listener, "__qualname__", repr(listener))
                print(f"runlab: listener {name} failed on {event}: {type(exc).__name__}: {exc}", file=sys.__stderr__)
