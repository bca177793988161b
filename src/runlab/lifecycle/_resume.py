"""Resuming a run that crashed or was cancelled: same ID and folder, metrics continue.

A run can be resumed when its process is gone before it completed: ``crashed`` (the
process died: SIGKILL, a node failure, preemption without warning), ``cancelled``
(Ctrl-C, SIGTERM from a scheduler) or ``created`` (it never started; one whose creator died
before starting it reads ``crashed``). A ``completed`` or ``failed`` run, or one whose process is
still running, is refused with :class:`~runlab.RunNotResumableError`.

Resuming reopens the run's record: the status becomes ``running`` again, ``error`` and
``ended`` are cleared, each metric's next step follows its last recorded step, the
summaries cover every attempt, ``data.json`` keeps its keys, ``out.log`` is appended to,
and ``attempts`` in ``run.json`` gets one entry per attempt (``start``, ``end``,
``status``, ``host``, ``pid``; an attempt that crashed ends at its last heartbeat).
``duration`` adds up the attempts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import RunNotResumableError, UsageError
from ..store._files import read_json
from ..store._metrics_file import read_metrics, summaries_from_series
from ..store._status import RunStatus
from ..store._store import Store
from ..store._text import tag_list
from ._data import RunData
from ._run import Run, _param_record

__all__ = ["RESUMABLE", "latest_resumable", "reopen", "resume_run"]

#: The (reported) states a run can be resumed from.
RESUMABLE = frozenset({RunStatus.CRASHED.value, RunStatus.CANCELLED.value, RunStatus.CREATED.value})


def latest_resumable(store: Store, name: str, namespace: str | None) -> str | None:
    """The ID of the newest run called ``name`` in ``namespace`` if it can be resumed, else None.

    What ``resume="auto"`` uses: only the newest run of the name counts, so a run that
    completed after an older one was cancelled starts a new run rather than reviving the
    old one.
    """
    runs = store.runs(name=name, namespace=namespace or "default", order_by="-created", limit=1)
    for record in runs:
        if record.status in RESUMABLE:
            return record.id
    return None


def reopen(
    store: Store,
    resume: str,
    *,
    name: str | None = None,
    namespace: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    capture: bool = True,
    capture_output: bool = True,
) -> Run | None:
    """The run that ``resume`` (an ID, prefix, name, or ``"auto"``) continues, reopened; None
    when ``"auto"`` finds nothing to continue (then a new run starts). See :func:`runlab.start_run`.

    Raises:
        UsageError: ``resume`` is empty, or ``"auto"`` without a ``name``.
        RunNotResumableError: the run completed or failed, or is still running.
    """
    if not isinstance(resume, str) or not resume.strip():
        raise UsageError(f"Invalid resume {resume!r}: expected a run ID, a run name or 'auto'.")
    target: str | None = resume
    if resume == "auto":
        if not name:
            raise UsageError(
                "resume='auto' needs a stable run name to find the run to continue: give name=... (--name on the "
                "command line)."
            )
        target = latest_resumable(store, name, namespace)
    if target is None:
        return None
    return resume_run(
        store, target, name=name, namespace=namespace, params=params, tags=tags, description=description,
        capture=capture, capture_output=capture_output,
    )  # fmt: skip


def resume_run(
    store: Store,
    ref: str,
    *,
    name: str | None = None,
    namespace: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    capture: bool = True,
    capture_output: bool = True,
) -> Run:
    """Reopen run ``ref`` (ID, prefix, name, or the run's folder) for a new attempt; the returned run is
    not started.

    ``name``, ``namespace`` and ``params``, when given, must match the run's (a resumed run
    keeps its parameters); ``tags`` are added; ``description`` replaces the old one.

    Raises:
        RunNotFoundError: no run matches ``ref``.
        RunNotResumableError: the run completed or failed, or is still running.
        UsageError: ``name``, ``namespace`` or ``params`` differ from the run's.
    """
    run_id, folder, status = _find(store, ref)
    if status not in RESUMABLE:
        raise RunNotResumableError(_refusal(run_id, status, folder))
    # one attempt at a time: the folder's lock is held until the final record is saved (or the process ends)
    if not store._locks.hold(folder):
        raise RunNotResumableError(
            f"Run {run_id} is being run by another process right now (it was resumed there); only one attempt "
            "of a run runs at a time. Wait until it ends, then resume it if it did not complete."
        )
    try:
        meta: dict[str, Any] = read_json(folder / "run.json")
        status = _status_of(meta)  # read again under the lock: another process may have resumed it meanwhile
        if status not in RESUMABLE:
            raise RunNotResumableError(_refusal(run_id, status, folder))
        _check_same(meta, name=name, namespace=namespace, params=params)
    except BaseException:
        store._locks.release(folder)
        raise
    previous = _close_previous_attempt(meta, status)
    meta["status"] = RunStatus.CREATED.value  # in memory: start() moves it to running and writes it
    meta["ended"] = None
    meta["error"] = None
    meta.pop("metrics", None)
    meta["resumed"] = int(meta.get("resumed") or 0) + 1
    if tags is not None:
        meta["tags"] = list(dict.fromkeys([*meta.get("tags", []), *tag_list(tags)]))
    if description is not None:
        meta["description"] = description
    repaired = _repair_metrics_file(folder / "metrics.jsonl")
    if repaired:
        previous["repaired"] = repaired
    run = Run(store, meta, folder)
    run._capture = capture
    run._capture_output = capture_output
    run._prior_duration = sum(_attempt_seconds(a) for a in meta["attempts"])
    _seed_metrics(run, folder / "metrics.jsonl")
    try:
        data = read_json(folder / "data.json")
    except (OSError, ValueError):
        data = {}
    if isinstance(data, dict):
        run.data = RunData(data)
    if meta.get("source"):
        run._source = Path(meta["source"])
    return run


def _find(store: Store, ref: str) -> tuple[str, Path, str]:
    """``(id, folder, reported status)`` of run ``ref``: an ID, prefix or name (from the index), or the
    run's folder (read directly: where the index is not written, e.g. a requeued SLURM job)."""
    path = Path(ref)
    if (path / "run.json").is_file():
        if not path.resolve().is_relative_to(store.root.resolve()):
            raise UsageError(f"Cannot resume the run in {path}: it is not in the store {store.root}.")
        try:
            meta = read_json(path / "run.json")
        except (OSError, ValueError) as exc:
            raise UsageError(f"Cannot resume the run in {path}: its run.json cannot be read ({exc}).") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
            raise UsageError(f"Cannot resume the run in {path}: its run.json is damaged (no run id).")
        return str(meta["id"]), store.root / path.resolve().relative_to(store.root.resolve()), _status_of(meta)
    run_id, folder = store.resolve(ref)
    return run_id, folder, store.load(run_id).status


def _status_of(meta: Any) -> str:
    """The reported state of the run whose ``run.json`` holds ``meta`` (``crashed`` when its process died)."""
    from ..store import effective_status

    if not isinstance(meta, dict):
        return "damaged"
    beat: dict[str, Any] = meta["heartbeat"] if isinstance(meta.get("heartbeat"), dict) else {}
    return effective_status(str(meta.get("status")), beat.get("pid"), beat.get("host"), beat.get("time"))


def _refusal(run_id: str, status: str, folder: Path) -> str:
    if status == RunStatus.RUNNING.value:
        beat: dict[str, Any] = {}
        try:
            beat = read_json(folder / "run.json").get("heartbeat") or {}
        except (OSError, ValueError):
            pass
        return (
            f"Run {run_id} is still running (pid {beat.get('pid', '?')} on {beat.get('host', '?')}); only a run "
            "whose process is gone can be resumed. Stop it first, or wait until it is reported as crashed."
        )
    return (
        f"Run {run_id} {status}; a {status} run cannot be resumed (only crashed, cancelled or never started "
        f"runs can). Start a new run instead, e.g. 'runlab rerun {run_id}'."
    )


def _check_same(
    meta: dict[str, Any], *, name: str | None, namespace: str | None, params: Mapping[str, Any] | None
) -> None:
    run_id = meta.get("id")
    if name is not None and name != meta.get("name"):
        raise UsageError(f"Cannot resume run {run_id} as {name!r}: it is called {meta.get('name')!r}.")
    if namespace is not None and namespace != meta.get("namespace"):
        raise UsageError(
            f"Cannot resume run {run_id} in namespace {namespace!r}: it belongs to {meta.get('namespace')!r}."
        )
    if params is None:
        return
    if not isinstance(params, Mapping):
        raise UsageError(f"Invalid params {params!r}: expected a mapping of parameter names to values.")
    recorded = meta.get("params") or {}
    for key, value in params.items():
        old = recorded.get(str(key))
        new = _param_record(str(key), value, None)["value"]
        if old is None:
            raise UsageError(
                f"Cannot resume run {run_id} with a new parameter {key!r}: a resumed run keeps its parameters "
                f"({', '.join(recorded) or 'none'}). Start a new run to change them."
            )
        if old.get("value") != new:
            raise UsageError(
                f"Cannot resume run {run_id} with {key}={new!r}: it ran with {key}={old.get('value')!r}, and a "
                "resumed run keeps its parameters. Start a new run to change them."
            )


def _close_previous_attempt(meta: dict[str, Any], status: str) -> dict[str, Any]:
    """The last attempt's entry, ended with ``status`` (created from the record if runlab wrote none)."""
    attempts = meta.setdefault("attempts", [])
    beat = meta.get("heartbeat") or {}
    if not attempts:
        if meta.get("started") is None:  # never started: no attempt to record
            return {}
        host, pid = beat.get("host"), beat.get("pid")
        attempts.append({"start": meta.get("started"), "end": None, "status": status, "host": host, "pid": pid})
    last: dict[str, Any] = attempts[-1]
    if last.get("end") is None:
        last["end"] = meta.get("ended") or _iso(beat.get("time"))
    last["status"] = status
    error = meta.get("error")
    if error and not last.get("error"):  # why it ended (the run's error is cleared for the new attempt)
        last["error"] = (error.get("message") or error.get("type")) if isinstance(error, dict) else str(error)
    return last


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, (int, float)):
        return None
    return datetime.fromtimestamp(epoch).astimezone().isoformat()


def _attempt_seconds(attempt: Mapping[str, Any]) -> float:
    try:
        start = datetime.fromisoformat(attempt["start"])
        end = datetime.fromisoformat(attempt["end"])
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max((end - start).total_seconds(), 0.0)


def _repair_metrics_file(path: Path) -> str | None:
    """Drop a torn last line (a crash mid-write), so new lines do not join it; say what was dropped."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "rb+") as handle:
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            return None
        keep = 0
        position = size
        while position > 0:  # find the last newline, reading backwards in blocks
            start = max(0, position - 65536)
            handle.seek(start)
            block = handle.read(position - start)
            found = block.rfind(b"\n")
            if found >= 0:
                keep = start + found + 1
                break
            position = start
        handle.truncate(keep)
        os.fsync(handle.fileno())
    return f"dropped a torn last line of metrics.jsonl ({size - keep} bytes) left by the crash"


def _seed_metrics(run: Run, path: Path) -> None:
    """Let each metric's steps continue after its last recorded one, and summaries cover every attempt."""
    series, _ = read_metrics(path)
    buffer = run._metrics
    for name, points in series.items():
        if points.steps:
            buffer.names.add(name)
            buffer.next_step[name] = max(points.steps) + 1
    buffer.summaries.update(summaries_from_series(series))
