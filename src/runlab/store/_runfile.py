"""Reading a run folder's files without trusting them: ``run.json``, ``data.json``.

Contract:
    * Reading never raises for a damaged ``run.json``: :func:`read_run_file` returns what
      could be read plus one line per problem (the file is empty, is not JSON, holds a list,
      a field has the wrong type). The index records such a run with status ``damaged`` and
      the problem text, so it is listed, shown and deletable, and never dropped. So is a
      folder whose ``run.json`` is missing but which still holds a run's files
      (:data:`RUN_FILES`: metrics, data or log), so that they are not lost from sight.
    * :func:`meta_fields` checks every field the index uses, once, where the file enters;
      a field of the wrong type is left out of the index and named in the problem.
    * Files are never modified here: a damaged file stays as it is for the user to look at.

Example:
    >>> import json, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "2026-01-01_00-00-00_0badc0de"
    >>> folder.mkdir()
    >>> _ = (folder / "run.json").write_text('{"id": "0badc0de", "params": [1]}')
    >>> found = read_run_file(folder)
    >>> found.run_id, record_problems(found)
    ('0badc0de', ["run.json: 'params' is a list, expected an object (name: value)"])
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

from ..errors import DamagedFileError

__all__ = [
    "RUN_FILES", "RunFile", "check_summaries", "fallback_id", "is_run_id", "meta_fields", "read_data",
    "read_json_file", "read_run_file", "record_problems", "run_files_in",
]  # fmt: skip

DAMAGED = "damaged"
WRITTEN_STATUSES = frozenset({"created", "running", "completed", "failed", "cancelled", "pruned"})
_TEXT_FIELDS = ("name", "experiment", "description", "sweep", "study", "parent")
_TIME_FIELDS = ("created", "started", "ended")
_FOLDER_ID = re.compile(r"(?:^|_)([0-9a-f]{8})$")
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
RUN_ID_RULE = "a run ID (letters, digits, '.', '_' and '-'; runlab's are 8 hex digits)"


def is_run_id(value: Any) -> TypeGuard[str]:
    """Whether ``value`` can be a run's ID: one plain name, safe in a path (``.runlab/envs/<id>``,
    ``.runlab/unindexed/<id>``) and a URL. An edited ``run.json`` saying ``"../../x"`` is not.

    Example:
        >>> is_run_id("3f2a9c1e"), is_run_id("../../project/.venv"), is_run_id("")
        (True, False, False)
    """
    return isinstance(value, str) and _RUN_ID.fullmatch(value) is not None


_INT64 = 2**63
_SHOWN = 60
RUN_FILES = ("metrics.jsonl", "data.json", "out.log")
"""Files only a run writes into its folder (after ``run.json``): a folder holding one is a run's."""


def run_files_in(names: Iterable[str]) -> list[str]:
    """Which of :data:`RUN_FILES` are among ``names`` (a folder's file names).

    Example:
        >>> run_files_in(["out.log", "notes.txt", "metrics.jsonl"])
        ['metrics.jsonl', 'out.log']
    """
    present = set(names)
    return [name for name in RUN_FILES if name in present]


def _kind(value: Any) -> str:
    """How a JSON value is described in messages: 'a list', 'the text 'x''."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[: _SHOWN + 11]
    if isinstance(value, str):
        shown = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
        return f"the text {shown!r}"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _epoch(value: Any) -> float:
    """Epoch seconds of an ISO time or a number; ValueError otherwise."""
    if _number(value):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    raise ValueError(value)


def fallback_id(folder: Path, root: Path | None = None) -> str:
    """The ID of a run whose ``run.json`` does not say: from a ``..._<8 hex>`` folder name,
    else 8 hex characters derived from the folder's path (stable across rebuilds).

    Example:
        >>> from pathlib import Path
        >>> fallback_id(Path("runs/default/2026-01-01_00-00-00_3f2a9c1b"))
        '3f2a9c1b'
    """
    match = _FOLDER_ID.search(folder.name)
    if match:
        return match.group(1)
    import hashlib

    rel = folder.relative_to(root).as_posix() if root is not None else folder.as_posix()
    return hashlib.sha1(rel.encode()).hexdigest()[:8]


def meta_fields(meta: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fields of ``run.json`` the index uses, checked: ``(fields, problems)``.

    ``fields`` holds ``id``, ``namespace``, ``status``, the text fields, times as epoch
    seconds, ``duration``, ``heartbeat``/``pid``/``host``, ``error`` (the exception type),
    ``params`` (name: value) and ``tags`` (a list of text). A field of the wrong type is
    left out (None, or empty) and described in ``problems``.

    Example:
        >>> meta_fields({"id": "ab", "status": "completed", "created": "notadate"})[1]
        ["run.json: 'created' is the text 'notadate', expected an ISO date-time"]
    """
    problems: list[str] = []

    def bad(key: str, value: Any, expected: str) -> None:
        problems.append(f"run.json: {key!r} is {_kind(value)}, expected {expected}")

    out: dict[str, Any] = {}
    rid = meta.get("id")
    if not is_run_id(rid):
        bad("id", rid, RUN_ID_RULE)
        rid = None
    out["id"] = rid
    for key in _TEXT_FIELDS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            bad(key, value, "text or null")
            value = None
        out[key] = value
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        bad("namespace", namespace, "text")
        namespace = None
    out["namespace"] = namespace or "default"
    status = meta.get("status")
    if status is None:
        status = "created"
    elif not isinstance(status, str) or status not in WRITTEN_STATUSES:
        bad("status", status, f"one of {', '.join(sorted(WRITTEN_STATUSES))}")
        status = DAMAGED
    out["status"] = status
    for key in _TIME_FIELDS:
        value = meta.get(key)
        if value is not None:
            try:
                value = _epoch(value)
            except (ValueError, TypeError, OverflowError, OSError):
                bad(key, value, "an ISO date-time")
                value = None
        out[key] = value
    duration = meta.get("duration")
    if duration is not None and not _number(duration):
        bad("duration", duration, "a number of seconds")
        duration = None
    out["duration"] = duration
    out["heartbeat"] = out["pid"] = out["host"] = None
    beat = meta.get("heartbeat")
    if isinstance(beat, Mapping):
        when, pid, host = beat.get("time"), beat.get("pid"), beat.get("host")
        if when is not None and not _number(when):
            bad("heartbeat.time", when, "epoch seconds")
        elif pid is not None and (not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < _INT64):
            bad("heartbeat.pid", pid, "a process ID")
        elif host is not None and not isinstance(host, str):
            bad("heartbeat.host", host, "a host name")
        else:
            out["heartbeat"], out["pid"], out["host"] = when, pid, host
    elif beat is not None:
        bad("heartbeat", beat, "an object (pid, host, time) or null")
    error = meta.get("error")
    out["error"] = None
    if isinstance(error, Mapping):
        kind = error.get("type")
        out["error"] = kind if isinstance(kind, str) else None
    elif error is not None:
        bad("error", error, "an object (type, message, traceback) or null")
    params = meta.get("params")
    if params is None:
        params = {}
    elif not isinstance(params, Mapping):
        bad("params", params, "an object (name: value)")
        params = {}
    out["params"] = {str(k): v["value"] if isinstance(v, Mapping) and "value" in v else v for k, v in params.items()}
    tags = meta.get("tags")
    if tags is None:
        tags = []
    elif not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        bad("tags", tags, "a list of text")
        tags = []
    out["tags"] = tags
    return out, problems


def check_summaries(summaries: Any) -> str | None:
    """None when ``run.json``'s ``metrics`` (name: summary) can be indexed, else the problem."""
    if summaries is None:
        return None
    if not isinstance(summaries, Mapping):
        return f"run.json: 'metrics' is {_kind(summaries)}, expected an object (name: summary)"
    for name, s in summaries.items():
        if not isinstance(s, Mapping):
            return f"run.json: 'metrics.{name}' is {_kind(s)}, expected an object (last, min, max, count, step)"
        for key in ("count", "step"):
            value = s.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or abs(value) >= _INT64):
                return f"run.json: 'metrics.{name}.{key}' is {_kind(value)}, expected a whole number"
    return None


class RunFile:
    """What :func:`read_run_file` found in a run folder.

    Attributes:
        meta: the ``run.json`` object (``{}`` when it could not be read).
        run_id: its ID, or :func:`fallback_id` when it has none.
        problems: one line per problem; empty when the file is fine.
        stat: ``(mtime_ns, size)`` of ``run.json`` when it was read (to notice a rewrite);
            None when it is missing.
    """

    __slots__ = ("meta", "problems", "run_id", "stat")

    def __init__(
        self, meta: dict[str, Any], run_id: str, problems: list[str], stat: tuple[int, int] | None = None
    ) -> None:
        self.meta = meta
        self.run_id = run_id
        self.problems = problems
        self.stat = stat


def _describe_json_error(data: bytes, exc: Exception) -> str:
    if not data.strip():
        return "is empty"
    text = str(exc).split("\n")[0]
    return f"is not valid JSON ({text})"


def read_run_file(folder: Path, root: Path | None = None) -> RunFile:
    """Read ``folder/run.json`` tolerantly (see the module's contract).

    Raises:
        FileNotFoundError: the folder is gone, or its ``run.json`` and every run file
            (:data:`RUN_FILES`); with run files left, the missing ``run.json`` is the problem.
    """
    path = folder / "run.json"
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        try:
            left = run_files_in(os.listdir(folder))
        except OSError:
            left = []
        if not left:
            raise
        return RunFile({}, fallback_id(folder, root), [f"run.json is missing (the folder holds {', '.join(left)})"])
    stat = (st.st_mtime_ns, st.st_size)
    import orjson

    try:
        meta = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return RunFile({}, fallback_id(folder, root), [f"run.json {_describe_json_error(data, exc)}"], stat)
    if not isinstance(meta, dict):
        return RunFile({}, fallback_id(folder, root), [f"run.json holds {_kind(meta)}, expected an object"], stat)
    rid = meta.get("id")
    if is_run_id(rid):
        return RunFile(meta, rid, [], stat)
    return RunFile(meta, fallback_id(folder, root), [], stat)  # a bad ID is one of meta_fields' problems


def record_problems(found: RunFile) -> list[str]:
    """Everything wrong with a ``run.json`` as read: its form, its fields, its metric summaries."""
    if found.problems:
        return found.problems
    bad = check_summaries(found.meta.get("metrics"))
    return meta_fields(found.meta)[1] + ([bad] if bad else [])


def read_json_file(path: Path, what: str, run_id: str, missing: Any = None) -> Any:
    """Read a run's JSON file, or raise :class:`DamagedFileError` naming it and what is wrong.

    ``missing`` is returned when the file does not exist (``None``: raise FileNotFoundError).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if missing is None:
            raise
        return missing
    import orjson

    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DamagedFileError(
            f"The {what} of run {run_id} is damaged: {path} {_describe_json_error(data, exc)}. "
            "Restore it from a backup, or delete the file to drop its content.",
            str(path),
        ) from None


def read_data(folder: Path, run_id: str) -> dict[str, Any]:
    """A run's ``data.json`` (``{}`` when absent).

    Raises:
        DamagedFileError: the file is empty, not JSON, or not an object.
    """
    path = folder / "data.json"
    data = read_json_file(path, "data file", run_id, missing={})
    if not isinstance(data, dict):
        raise DamagedFileError(
            f"The data file of run {run_id} is damaged: {path} holds {_kind(data)}, expected an object. "
            "Restore it from a backup, or delete the file to drop its content.",
            str(path),
        )
    return data
