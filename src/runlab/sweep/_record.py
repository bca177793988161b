"""The sweep record: what a sweep runs, which run did each config, and how far it got.

One JSON file per sweep under ``<root>/.runlab/sweeps/<id>.json``, replaced atomically on
every change. The id is a hash of the sweep's definition, so starting the same sweep again
finds its record and resumes it.
"""

from __future__ import annotations

import os
import re
import socket
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import asdict, field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import AmbiguousRunError, SweepNotFoundError, UsageError
from ..store._files import read_json, write_json_atomic
from ..store._store import RunlabWarning

__all__ = ["SweepEntry", "SweepRecord", "list_sweeps", "load_sweep", "sweep_dir"]

FINAL_STATES = ("completed", "failed", "cancelled")
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def sweep_dir(root: Path) -> Path:
    """Where a store keeps its sweep records."""
    return root / ".runlab" / "sweeps"


@value_class
class SweepEntry:
    """One config of a sweep: its id, the overrides that make it and the run(s) that did it.

    Attributes:
        config: the config id (a hash of the config's overrides).
        argv: the overrides of this config.
        run_id: the latest run of this config (None until one was created).
        status: that run's final state, ``pending`` before, ``crashed`` when its process died.
        attempts: runs made for this config (retries and resumes included).
        error: the latest run's error text.
    """

    config: str
    argv: list[str]
    run_id: str | None = None
    status: str = "pending"
    attempts: int = 0
    error: str | None = None


@value_class
class SweepRecord:
    """A sweep: id, definition, state, and one :class:`SweepEntry` per config.

    ``state`` is ``running`` while the sweep's process works on it, then ``completed`` (every
    config completed), ``failed`` (some did not) or ``cancelled``. A ``running`` record whose
    process is gone reads as ``interrupted``; starting the sweep again resumes it.
    """

    id: str
    root: Path
    definition: dict[str, Any]
    entries: list[SweepEntry]
    name: str | None = None
    state: str = "running"
    executor: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    ended: float | None = None
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)

    @property
    def path(self) -> Path:
        return sweep_dir(self.root) / f"{self.id}.json"

    @property
    def run_ids(self) -> list[str]:
        """The runs of this sweep's configs (the latest run of each), in config order."""
        return [e.run_id for e in self.entries if e.run_id]

    @property
    def effective_state(self) -> str:
        """``state``, or ``interrupted`` for a running sweep whose process died."""
        if self.state == "running" and self.host == socket.gethostname() and not _alive(self.pid):
            return "interrupted"
        return self.state

    def counts(self) -> dict[str, int]:
        """How many configs are in each state."""
        out: dict[str, int] = {}
        for entry in self.entries:
            out[entry.status] = out.get(entry.status, 0) + 1
        return out

    def save(self) -> None:
        """Write the record atomically."""
        data = asdict(self)
        data["root"] = None
        data["run_ids"] = self.run_ids
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, {k: v for k, v in data.items() if k != "root"}, fsync=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], root: Path) -> SweepRecord:
        """The record that ``data`` (a sweep file's JSON) holds.

        Raises:
            ValueError: ``data`` is not a JSON object with a list of entries (a damaged file).
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("entries", []), list):
            raise ValueError("a sweep record is a JSON object with a list of entries")
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k not in ("root", "entries")}
        _check_types(fields, _RECORD_TYPES, "")
        if not _ID.fullmatch(str(fields.get("id", ""))):  # saving it again writes <id>.json: never out of the folder
            raise ValueError(f"id {fields.get('id')!r} is not a sweep id")
        entries = []
        for i, entry in enumerate(data.get("entries", [])):
            if not isinstance(entry, Mapping):
                raise ValueError(f"entries[{i}] is not a JSON object")
            _check_types(entry, _ENTRY_TYPES, f"entries[{i}].")
            entries.append(SweepEntry(**entry))
        return cls(root=root, entries=entries, **fields)


_NUMBER = (int, float)
_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,), "definition": (dict,), "name": (str, type(None)), "state": (str,), "executor": (dict,),
    "created": _NUMBER, "ended": (*_NUMBER, type(None)), "pid": (int,), "host": (str,),
}  # fmt: skip
_ENTRY_TYPES: dict[str, tuple[type, ...]] = {
    "config": (str,), "argv": (list,), "run_id": (str, type(None)), "status": (str,), "attempts": (int,),
    "error": (str, type(None)),
}  # fmt: skip


def _check_types(data: Mapping[str, Any], types: Mapping[str, tuple[type, ...]], where: str) -> None:
    """Refuse a field of a sweep file that is not what :meth:`SweepRecord.save` writes (a damaged file)."""
    for key, value in data.items():
        expected = types.get(key)
        if expected is None:
            if where:  # an entry's unknown key would be an unexpected argument
                raise ValueError(f"{where}{key} is not a field of a sweep entry")
            continue
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            raise ValueError(f"{where}{key} is {value!r}, not {' or '.join(t.__name__ for t in expected)}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_sweeps(root: Path) -> Iterator[SweepRecord]:
    """Every sweep record of the store at ``root``, newest first (an unreadable file is skipped, with a
    :class:`~runlab.store.RunlabWarning` naming it)."""
    folder = sweep_dir(root)
    records = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            records.append(SweepRecord.from_dict(read_json(path), root))
        except (OSError, ValueError, TypeError) as exc:
            warnings.warn(f"Skipped the sweep record {path}: it cannot be read ({exc}); remove it or restore it.",
                          RunlabWarning, stacklevel=2)  # fmt: skip
    yield from sorted(records, key=lambda r: r.created, reverse=True)


def load_sweep(root: Path, ref: str) -> SweepRecord:
    """The sweep whose id starts with ``ref`` (or whose name is ``ref``).

    Raises:
        SweepNotFoundError: no sweep matches (a :class:`~runlab.errors.UsageError`);
        AmbiguousRunError: several do.
    """
    exact = sweep_dir(root) / f"{ref}.json"
    if _ID.fullmatch(ref) and exact.is_file():  # a plain id only: never a path out of the sweeps folder
        try:
            return SweepRecord.from_dict(read_json(exact), root)
        except (OSError, ValueError, TypeError) as exc:
            raise UsageError(f"Sweep record {exact} cannot be read ({exc}); remove it or restore it.") from None
    matches = [r for r in list_sweeps(root) if ref and (r.id.startswith(ref) or r.name == ref)]
    if not matches:
        raise SweepNotFoundError(f"No sweep {ref!r} in {root}. List the sweeps with 'runlab sweep list'.")
    if len(matches) > 1:
        raise AmbiguousRunError(
            f"Sweep {ref!r} is ambiguous: it matches {', '.join(r.id for r in matches[:5])}. Give more of the id.",
            [r.id for r in matches],
        )
    return matches[0]
