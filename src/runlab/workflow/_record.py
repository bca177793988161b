"""The workflow record: its steps, their dependencies, runs and states, under ``<root>/.runlab/workflows/``.

A record is ``<id>.json``; an id (:data:`WORKFLOW_ID`) is checked where it enters
(:func:`load_workflow`), so it never names a file outside that folder, and a record's fields are
checked once where they are read: a file that is empty, not JSON or has a field of the wrong type
is a :class:`DamagedWorkflowError` naming it and the way out (:func:`list_workflows` lists it).

The process that runs the workflow (its driver) writes the record and, while it runs, a heartbeat
(pid, host, time) in it, as a run does in ``run.json``. A ``running`` record whose driver is gone
reads ``crashed`` (:func:`runlab.store.effective_status`, the rule runs use), and so does each
step it left ``running``; the file itself keeps what the driver last wrote.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import AmbiguousRunError, DamagedFileError, UsageError
from ..lifecycle._run import HEARTBEAT_INTERVAL
from ..store import effective_status
from ..store._files import read_json_checked, write_json_atomic

__all__ = [
    "BEAT_EVERY",
    "WORKFLOW_ID",
    "DamagedWorkflowError",
    "StepRecord",
    "WorkflowNotFoundError",
    "WorkflowRecord",
    "list_workflows",
    "load_workflow",
    "workflow_dir",
]

#: Seconds between the heartbeats of a workflow's driver: as a run's (``RUNLAB_HEARTBEAT_INTERVAL``).
BEAT_EVERY = HEARTBEAT_INTERVAL
_HOST = os.uname().nodename  # as runs record it (runlab.store.effective_status compares with it)
_SAVING = threading.Lock()
#: A workflow id: the name of its record file without ``.json`` (runlab writes 8 hex digits; letters,
#: digits, ``_`` and ``-`` are read), never a path.
WORKFLOW_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


class WorkflowNotFoundError(UsageError, LookupError):
    """No workflow record of the store matches the given id or id prefix."""


class DamagedWorkflowError(DamagedFileError, UsageError):
    """A workflow record cannot be read: it is empty, not JSON, or has a field of the wrong type.

    A :class:`~runlab.DamagedFileError` (``path`` names the file) and a usage error: the CLI
    prints the message, which says what is wrong and what to do, and exits 2.

    Attributes:
        reason: what is wrong, in a few words (``workflow list`` shows it in the workflow's row).
        id: the workflow's id (the file's name).
    """

    def __init__(self, message: str, path: str = "", reason: str = "") -> None:
        super().__init__(message, path)
        self.reason = reason or message
        self.id = Path(path).stem


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
    ``error`` says why a workflow failed when its driver raised (an executor's error, a record it
    could not write; None otherwise, and in records written before it existed); ``heartbeat`` is
    the driver's ``{pid, host, time, every}`` as of its last write.
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
    error: str | None = None

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
    """The workflow record whose id is ``ref``, or starts with it, of the store at ``root``.

    Raises:
        UsageError: ``ref`` is not an id (a path, say: an id never names a file outside the folder).
        WorkflowNotFoundError: no workflow matches (a :class:`UsageError`; the message says how to list them).
        AmbiguousRunError: several workflows' ids start with ``ref``.
        DamagedWorkflowError: the record cannot be read (a :class:`UsageError` too).
    """
    folder = workflow_dir(root)
    if not isinstance(ref, str) or not WORKFLOW_ID.fullmatch(ref):
        raise UsageError(f"Invalid workflow id {ref!r}: an id is letters, digits, '_' and '-' (the name of a file in "
                         f"{folder} without .json). List them with 'runlab workflow list'.")  # fmt: skip
    path = folder / f"{ref}.json"
    if not path.is_file():
        ids = sorted(p.stem for p in _record_files(folder) if p.stem.startswith(ref))
        if not ids:
            raise WorkflowNotFoundError(f"No workflow {ref!r} in {root}. List the workflows with "
                                        "'runlab workflow list'.")  # fmt: skip
        if len(ids) > 1:
            raise AmbiguousRunError(
                f"Workflow {ref!r} is ambiguous: it matches {', '.join(ids[:5])}"
                f"{', ...' if len(ids) > 5 else ''}. Give more of the id.",
                ids,
            )
        path = folder / f"{ids[0]}.json"
    return _read(root, path)


def list_workflows(root: Path) -> list[WorkflowRecord | DamagedWorkflowError]:
    """Every workflow record of the store at ``root``, newest first; a record that cannot be read
    comes last, as the :class:`DamagedWorkflowError` saying why (its ``id`` and ``reason``)."""
    records: list[WorkflowRecord] = []
    damaged: list[DamagedWorkflowError] = []
    for path in _record_files(workflow_dir(root)):
        try:
            records.append(_read(root, path))
        except DamagedWorkflowError as exc:
            damaged.append(exc)
        except OSError:  # removed since the listing, or unreadable: not a record this reader can see
            continue
    records.sort(key=lambda r: r.created, reverse=True)
    return [*records, *sorted(damaged, key=lambda e: e.id)]


def _record_files(folder: Path) -> list[Path]:
    """The record files in ``folder`` whose names are ids (atomic writes' temporary files are not)."""
    if not folder.is_dir():
        return []
    return [p for p in folder.glob("*.json") if WORKFLOW_ID.fullmatch(p.stem) and p.is_file()]


_NUMBER = (int, float)
_NONE = type(None)
_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,), "kind": (str,), "steps": (dict,), "state": (str,), "created": _NUMBER,
    "name": (str, _NONE), "ended": (*_NUMBER, _NONE), "error": (str, _NONE),
}  # fmt: skip
"""The record's fields and their types; the first five are required (``save`` writes them all). The
heartbeat may be anything: one that is not a driver's reads as no live driver (crashed)."""
_REQUIRED = ("id", "kind", "steps", "state", "created")
_STEP_FIELDS: dict[str, tuple[type, ...]] = {"after": (list,), "runs": (list,), "state": (str,), "error": (str, _NONE)}


def _read(root: Path, path: Path) -> WorkflowRecord:
    """The record in ``path``, its fields checked once here, read with its driver's heartbeat.

    Raises:
        DamagedWorkflowError: the file is empty, not JSON or not what :meth:`WorkflowRecord.save` writes.
        OSError: the file cannot be read at all.
    """
    data, what = read_json_checked(path, lambda data: _problem(data, path.stem))
    if what is not None:
        raise DamagedWorkflowError(
            f"The workflow record {path} is damaged: it {what}. Remove it or restore it from a backup (the "
            "workflow's runs keep their links; run the workflow again for a new record).",
            str(path),
            what,
        )
    steps = {
        name: StepRecord(**{k: step[k] for k in _STEP_FIELDS if k in step}) for name, step in data["steps"].items()
    }
    fields = {k: data[k] for k in _FIELDS if k in data and k != "steps"}
    beat = data.get("heartbeat")
    record = WorkflowRecord(root=root, steps=steps, heartbeat=beat if isinstance(beat, dict) else None, **fields)
    if record.state == "running" and _driver_status(record.heartbeat) == "crashed":
        record.state = "crashed"
        for step in record.steps.values():
            if step.state == "running":
                step.state = "crashed"
    return record


def _problem(data: Any, stem: str) -> str | None:
    """What is wrong with a record's content (None: nothing); unknown fields are left to a newer runlab."""
    if not isinstance(data, dict):
        return f"holds {type(data).__name__}, not an object"
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        return f"has no field {missing[0]!r}"
    for key, types in _FIELDS.items():
        if key in data and (problem := _wrong_type(key, data[key], types)):
            return problem
    if data["id"] != stem:
        return f"has the id {data['id']!r:.60}, not its file's name {stem!r}"
    steps: dict[str, Any] = data["steps"]
    for name, step in steps.items():
        if not isinstance(step, dict):
            return _wrong_type(f"steps[{name!r}]", step, (dict,))
        for key, types in _STEP_FIELDS.items():
            if key in step and (problem := _wrong_type(f"steps[{name!r}].{key}", step[key], types)):
                return problem
        for key in ("after", "runs"):
            bad = [v for v in step.get(key, ()) if not isinstance(v, str)]
            if bad:
                return f"has a field of the wrong type: steps[{name!r}].{key} holds {bad[0]!r:.60}, not str"
        unknown = [d for d in step.get("after", ()) if d not in steps]
        if unknown:
            return f"has step {name!r} after {unknown[0]!r:.60}, which is not one of its steps"
    return None


def _wrong_type(key: str, value: Any, types: tuple[type, ...]) -> str | None:
    if isinstance(value, types) and (bool in types or not isinstance(value, bool)):
        return None
    return f"has a field of the wrong type: {key} is {value!r:.60}, not {' or '.join(t.__name__ for t in types)}"


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
