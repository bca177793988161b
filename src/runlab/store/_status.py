"""Run states and the transitions between them."""

from __future__ import annotations

from enum import Enum

__all__ = ["FINISHED", "RunStatus", "TRANSITIONS"]


class RunStatus(str, Enum):
    """The state of a run.

    ``created -> running -> completed | failed | cancelled | pruned``. ``pruned``: a study
    trial's run stopped early by the study's pruner (see ``docs/optimize.md``). ``crashed`` is never
    written by a live process: it is what queries report for a run whose record says
    ``running`` while its process is gone (its heartbeat stopped or its pid is dead), or
    ``created`` while its creator's pid on this host is dead (it was never started).
    ``damaged`` is never written either: it is what the index records for a run whose
    ``run.json`` cannot be read or holds a field of the wrong type (``RunRecord.problem``
    says what is wrong); the run is kept and listed, never dropped.

    Example:
        >>> RunStatus("completed").finished
        True
    """

    CREATED = "created"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CRASHED = "crashed"
    PRUNED = "pruned"
    DAMAGED = "damaged"

    @property
    def finished(self) -> bool:
        """True for states a run never leaves (except by explicit user commands)."""
        return self in FINISHED

    def __str__(self) -> str:
        return self.value


FINISHED = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.CRASHED, RunStatus.PRUNED, RunStatus.DAMAGED}
)

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.CREATED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED}),
    RunStatus.RUNNING: frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.PRUNED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
    RunStatus.CRASHED: frozenset(),
    RunStatus.PRUNED: frozenset(),
    RunStatus.DAMAGED: frozenset(),
}
