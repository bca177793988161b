"""The workflow record: its steps, their dependencies, runs and states, under ``<root>/.runlab/workflows/``.

The process that runs the workflow (its driver) writes the record and, while it runs, a heartbeat
(pid, host, time) in it, as a run does in ``run.json``. A ``running`` record whose driver is gone
reads ``crashed`` (:func:`runlab.store.effective_status`, the rule runs use), and so does each
step it left ``running``; the file itself keeps what the driver last wrote.
"""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import UsageError
from ..lifecycle._run import HEARTBEAT_INTERVAL
from ..store import effective_status
from ..store._files import read_json, write_json_atomic

__all__ = ["BEAT_EVERY", "StepRecord", "WorkflowRecord", "load_workflow", "workflow_dir"]

#: Seconds between the heartbeats of a workflow's driver: as a run's (``RUNLAB_HEARTBEAT_INTERVAL``).
BEAT_EVERY = HEARTBEAT_INTERVAL
_HOST = os.uname().nodename  # as runs record it (runlab.store.effective_status compares with it)
_SAVING = threading.Lock()


def workflow_dir(root: Path) -> Path:
    """Where a store keeps its workflow records."""
    return root / ".runlab" / "workflows"


@value_class
class StepRecord:
    """A step's dependencies, runs (in order) and state: pending, running, completed, failed, skipped,
    cancelled, or crashed (read so when the workflow's driver died while the step ran)."""

    after: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    state: str = "pending"
    error: str | None = None


@value_class
class WorkflowRecord:
    """A workflow run: id, kind (sequential, parallel, pipeline), steps and overall state.

    ``state`` is running, completed, failed, cancelled, or crashed (read so when the driver died);
    ``heartbeat`` is the driver's ``{pid, host, time, every}`` as of its last write.
    """

    root: Path
    kind: str
    steps: dict[str, StepRecord]
    name: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    state: str = "running"
    created: float = field(default_factory=time.time)
    ended: float | None = None
    heartbeat: dict[str, Any] | None = None

    @property
    def path(self) -> Path:
        return workflow_dir(self.root) / f"{self.id}.json"

    @property
    def run_ids(self) -> list[str]:
        """Every run of the workflow, step by step."""
        return [r for step in self.steps.values() for r in step.runs]

    def save(self) -> None:
        """Write the record, with a fresh heartbeat of this process (its driver)."""
        with _SAVING:  # the heartbeat thread saves too: one write at a time, each of the record as it is
            self.heartbeat = {"pid": os.getpid(), "host": _HOST, "time": time.time(), "every": BEAT_EVERY}
            data = asdict(self)
            data.pop("root")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.path, data, fsync=False)

    @contextmanager
    def beating(self) -> Iterator[None]:
        """Save the record now and every ``BEAT_EVERY`` seconds until the block ends (the driver's heartbeat)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(BEAT_EVERY):
                self.save()

        self.save()
        thread = threading.Thread(target=beat, name="runlab-workflow-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def load_workflow(root: Path, ref: str) -> WorkflowRecord:
    """The workflow record ``ref`` (its id) of the store at ``root``.

    Raises:
        UsageError: no such workflow.
    """
    path = workflow_dir(root) / f"{ref}.json"
    if not path.is_file():
        raise UsageError(f"No workflow {ref!r} in {root}.")
    data: dict[str, Any] = read_json(path)
    steps = {name: StepRecord(**step) for name, step in data.pop("steps").items()}
    record = WorkflowRecord(root=root, steps=steps, **data)
    if record.state == "running" and _driver_status(record.heartbeat) == "crashed":
        record.state = "crashed"
        for step in record.steps.values():
            if step.state == "running":
                step.state = "crashed"
    return record


def _driver_status(beat: Any) -> str:
    """``running`` or ``crashed``: the status a run with this heartbeat would read (a malformed or
    missing one, as a record written before heartbeats has, is no live driver)."""
    if not isinstance(beat, dict):
        return "crashed"
    pid, host, when = beat.get("pid"), beat.get("host"), beat.get("time")
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 2**31 or not isinstance(host, str):
        return "crashed"
    if not isinstance(when, (int, float)) or isinstance(when, bool) or not math.isfinite(when):
        return "crashed"
    return effective_status("running", pid, host, float(when))
