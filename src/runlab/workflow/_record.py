"""The workflow record: its steps, their dependencies, runs and states, under ``<root>/.runlab/workflows/``."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import UsageError
from ..store._files import read_json, write_json_atomic

__all__ = ["StepRecord", "WorkflowRecord", "load_workflow", "workflow_dir"]


def workflow_dir(root: Path) -> Path:
    """Where a store keeps its workflow records."""
    return root / ".runlab" / "workflows"


@value_class
class StepRecord:
    """A step's dependencies, runs (in order) and state: pending, running, completed, failed, skipped, cancelled."""

    after: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    state: str = "pending"
    error: str | None = None


@value_class
class WorkflowRecord:
    """A workflow run: id, kind (sequential, parallel, pipeline), steps and overall state."""

    root: Path
    kind: str
    steps: dict[str, StepRecord]
    name: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    state: str = "running"
    created: float = field(default_factory=time.time)
    ended: float | None = None

    @property
    def path(self) -> Path:
        return workflow_dir(self.root) / f"{self.id}.json"

    @property
    def run_ids(self) -> list[str]:
        """Every run of the workflow, step by step."""
        return [r for step in self.steps.values() for r in step.runs]

    def save(self) -> None:
        data = asdict(self)
        data.pop("root")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, data, fsync=False)


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
    return WorkflowRecord(root=root, steps=steps, **data)
