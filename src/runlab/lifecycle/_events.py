"""Run events: the run core's hook calls, through the process hook registry (:mod:`runlab.hooks`).

``lifecycle/`` must not import the plugin system; it fires its events as hooks of the
process registry, where plugins, listeners and every other implementation live, so a
plugin sees every run, however it was started. :func:`add_listener` registers one function
for all four events.

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

An implementation that raises does not disturb the run: a listener's error is reported once
per listener and event on stderr, a plugin's is handled by the plugin manager. Only an
implementation whose error policy re-raises (a *critical* plugin) reaches :func:`emit`,
which then fails the run if it has not finished yet; later logging calls raise
``RunFinishedError``.

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

from ..hooks import get_registry
from ..hooks._registry import HookImpl

__all__ = ["EVENTS", "RunListener", "add_listener", "emit"]

EVENTS = ("run_state_changed", "metrics_logged", "artifact_saved", "run_finishing")


class RunListener(Protocol):
    """Called as ``listener(event, run, **data)``; see the module docstring for the events."""

    def __call__(self, event: str, run: Any, **data: Any) -> None: ...


_lock = threading.Lock()
_reported: set[tuple[int, str]] = set()


def _reporter(listener: RunListener) -> Callable[[HookImpl, BaseException, dict[str, Any]], None]:
    def report(impl: HookImpl, exc: BaseException, kwargs: dict[str, Any]) -> None:
        key = (id(listener), impl.hook)
        with _lock:
            first = key not in _reported
            _reported.add(key)
        if first:
            name = getattr(listener, "__qualname__", repr(listener))
            print(f"runlab: listener {name} failed on {impl.hook}: {type(exc).__name__}: {exc}", file=sys.__stderr__)

    return report


def add_listener(listener: RunListener) -> Callable[[], None]:
    """Register ``listener`` for the events of every run in this process; returns a remover.

    It becomes one implementation per event in the process hook registry (priority 0).
    """
    registry = get_registry()
    on_error = _reporter(listener)

    def adapter(event: str) -> Callable[..., None]:
        def deliver(run: Any, **data: Any) -> None:
            listener(event, run, **data)

        deliver.__qualname__ = getattr(listener, "__qualname__", "listener")
        return deliver

    impls = [registry.register(event, adapter(event), on_error=on_error) for event in EVENTS]

    def remove() -> None:
        for impl in impls:
            registry.unregister(impl)

    return remove


def emit(event: str, run: Any, **data: Any) -> None:
    """Fire hook ``event`` for ``run``; an implementation's exception never reaches the run.

    An exception its error policy re-raises (a critical plugin's) fails the run when it is
    still created or running.
    """
    registry = get_registry()
    try:
        registry.activate()
        if not registry.has(event):
            return
        registry.apply(event, run=run, **data)
    except Exception as error:
        if getattr(run, "status", None) in ("created", "running"):
            try:
                run.fail(error)
            except Exception:  # finished meanwhile by its own thread
                pass
        else:
            print(f"runlab: hook {event} failed for run {getattr(run, 'id', '?')}: {error}", file=sys.__stderr__)
