"""Changing runs on a user's explicit request: tags, notes, archive, delete, garbage collection.

Contract:
    * A run's record only changes through these functions (and the live run itself while it
      runs). Each rewrites ``run.json`` atomically and then updates the index, so the
      folders stay the truth and ``runlab index rebuild`` gives the same result.
    * A run that is still running (its process is alive) is never changed: its own process
      rewrites ``run.json`` and a change made here would be lost or would break it.
      :class:`RunIsLiveError` says so.
    * Archived runs live in ``<root>/.archive/<namespace>/<run folder>/``. The archive is a
      store of its own (:attr:`Store.archive`, with its index in
      ``<root>/.archive/.runlab/index.sqlite``), so archived runs can be queried and rebuilt
      like any others; ``Store.runs(archived=None)`` queries both at once.
    * A run whose ``run.json`` is damaged can be deleted; other changes are refused with a
      :class:`~runlab.DamagedFileError` naming the file and what is wrong.
    * Safe for many processes at once: changes take turns (:func:`_changing`), and each finds
      its run and reads its ``run.json`` again once it is its turn, so no change is lost and a
      run archived or deleted meanwhile gives :class:`~runlab.RunNotFoundError`.

Example:
    >>> import runlab, tempfile
    >>> root = tempfile.mkdtemp()
    >>> with runlab.start_run(name="a", root=root, capture=False) as run:
    ...     pass
    >>> store = runlab.Store(root)
    >>> set_tags(store, "a", add=["best"]).tags
    ('best',)
    >>> _ = archive(store, "a")
    >>> len(store.runs()), len(store.archive.runs())
    (0, 1)
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import RunlabError, RunNotFoundError, UsageError
from ._files import remove_folder
from ._folder_locks import hold_changes, stale_locks
from ._index import RUN_COLUMNS, effective_status
from ._metrics_file import read_metrics, summaries_from_series
from ._records import RunRecord, RunSet
from ._runfile import read_run_file, record_problems
from ._store import ARCHIVE_DIR, Store
from ._text import check_tag, check_text

__all__ = [
    "ARCHIVE_DIR",
    "RunIsLiveError",
    "archive",
    "archive_store",
    "delete",
    "find_record",
    "gc_candidates",
    "gc_locks",
    "parse_age",
    "parse_since",
    "query",
    "query_count",
    "set_description",
    "set_tags",
    "unarchive",
]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 86400.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


class RunIsLiveError(UsageError, RuntimeError):
    """The run is still running; its record cannot be changed safely now."""


# -- the archive --------------------------------------------------------------------------
def archive_store(store: Store) -> Store:
    """The store of archived runs, ``<root>/.archive``: :attr:`Store.archive`."""
    return store.archive


def find_record(store: Store, ref: str, archived: bool | None = None) -> tuple[Store, RunRecord]:
    """Find a run in the store and, when it is not there, in the archive: ``(its store, record)``.

    Args:
        archived: True to look in the archive only, False in the store only, None for both.
    """
    if archived is not True:
        try:
            return store, store.load(ref)
        except RunNotFoundError:
            if archived is False or not store.archive.root.is_dir():
                raise
    arch = store.archive
    try:
        return arch, arch.load(ref)
    except RunNotFoundError:
        where = "archive" if archived else "store or its archive"
        raise RunNotFoundError(
            f"No run matches {ref!r} in the {where} ({store.root}). Use 'runlab list -a' to see run IDs and names."
        ) from None


# -- queries with the CLI's extra filters ----------------------------------------------------
def parse_age(text: str) -> float:
    """Seconds in an age such as ``'30m'``, ``'12h'``, ``'7d'``, ``'2w'`` (a bare number is days).

    Example:
        >>> parse_age("12h"), parse_age("2")
        (43200.0, 172800.0)
    """
    match = _AGE.match(str(text))
    if not match:
        raise UsageError(f"Invalid age {text!r}: expected a number with a unit s, m, h, d or w (for example '7d').")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_since(text: str, now: float | None = None) -> float:
    """Epoch seconds of a moment: an ISO date or datetime, or an age ago (``'3d'``).

    Example:
        >>> parse_since("1h", now=7200.0)
        3600.0
    """
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        pass
    try:
        return (time.time() if now is None else now) - parse_age(text)
    except UsageError:
        raise UsageError(
            f"Invalid time {text!r}: expected an ISO date or datetime ('2026-11-23', '2026-11-23T14:00') "
            "or an age such as '3d' or '12h'."
        ) from None


def query(
    store: Store,
    where: str | None = None,
    namespace: str | None = None,
    status: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    name: str | None = None,
    since: float | None = None,
    until: float | None = None,
    order_by: str | None = None,
    limit: int | None = None,
    archived: bool | None = False,
) -> RunSet:
    """:meth:`Store.runs` with the CLI's conventions: empty filters ignored, ``limit`` 0 means all."""
    return store.runs(where, namespace, status or None, tags or None, order_by, limit or None,
                      name=name, since=since, until=until, archived=archived)  # fmt: skip


def query_count(
    store: Store,
    where: str | None = None,
    namespace: str | None = None,
    status: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    name: str | None = None,
    since: float | None = None,
    until: float | None = None,
    archived: bool | None = False,
) -> int:
    """The number of runs :func:`query` would return without a limit."""
    return store.count(where, namespace, status or None, tags or None, name=name, since=since, until=until,
                       archived=archived)  # fmt: skip


# -- changing a run ---------------------------------------------------------------------------
@contextmanager
def _changing(store: Store, ref: str | RunRecord, dry_run: bool = False) -> Iterator[str | RunRecord]:
    """One change of a run, one process at a time (:func:`hold_changes`): yields the run to change,
    a record found again under the lock (another process may have moved, removed or changed it
    since it was listed). A dry run changes nothing and takes no lock."""
    if dry_run:
        yield ref
        return
    with hold_changes(store.root.parent if store.is_archive else store.root):
        if isinstance(ref, RunRecord):
            owner = store.archive if ref.archived and not store.is_archive else store
            ref = owner.load(ref.id)
        yield ref


def _editable(store: Store, ref: str | RunRecord, action: str) -> tuple[Store, RunRecord, dict[str, Any]]:
    owner, record = (store, ref) if isinstance(ref, RunRecord) else find_record(store, ref)
    if isinstance(ref, RunRecord) and record.archived:
        owner = store.archive
    meta = _readable(record, action)
    live = meta.get("status") == "running" and _is_live(meta)
    if live:
        raise RunIsLiveError(
            f"Cannot {action} run {record.id}: it is still running (pid {(meta.get('heartbeat') or {}).get('pid')}) "
            "and rewrites its own record. Wait until it finishes, or stop it first."
        )
    return owner, record, meta


def _readable(record: RunRecord, action: str) -> dict[str, Any]:
    """The run's ``run.json``, or a DamagedFileError saying what is wrong and what to do."""
    from ..errors import DamagedFileError

    path = record.path / "run.json"
    try:
        found = read_run_file(record.path)
    except FileNotFoundError:
        raise DamagedFileError(
            f"Cannot {action} run {record.id}: {path} is gone. Run 'runlab index rebuild' to update the index.",
            str(path),
        ) from None
    problems = record_problems(found)
    if problems:
        raise DamagedFileError(
            f"Cannot {action} run {record.id}: its record is damaged ({'; '.join(problems)}; file {path}). "
            f"Repair the file, or remove the run with 'runlab delete {record.id}'.",
            str(path),
        )
    return found.meta


def _is_live(meta: dict[str, Any]) -> bool:
    beat = meta.get("heartbeat") or {}
    return effective_status("running", beat.get("pid"), beat.get("host"), beat.get("time")) == "running"


def _save(owner: Store, record: RunRecord, meta: dict[str, Any]) -> RunRecord:
    owner.save(record.path, meta)  # run.json atomically, then the index (metric rows kept)
    return owner.load(record.id)


def set_tags(
    store: Store, ref: str | RunRecord, add: Iterable[str] = (), remove: Iterable[str] = (), dry_run: bool = False
) -> RunRecord:
    """Add and remove tags of a run (order kept, no duplicates); returns the updated record."""
    adding = [check_tag(t) for t in add]
    removing = {check_tag(t) for t in remove}
    with _changing(store, ref, dry_run) as ref:
        owner, record, meta = _editable(store, ref, "tag")
        tags = [t for t in meta.get("tags") or [] if t not in removing]
        tags += [t for t in dict.fromkeys(adding) if t not in tags]
        if dry_run or tags == list(meta.get("tags") or []):
            return record
        meta["tags"] = tags
        return _save(owner, record, meta)


def set_description(store: Store, ref: str | RunRecord, text: str | None, dry_run: bool = False) -> RunRecord:
    """Set (or with ``None`` or ``''``, clear) a run's description; returns the updated record."""
    with _changing(store, ref, dry_run) as ref:
        owner, record, meta = _editable(store, ref, "change the description of")
        if dry_run:
            return record
        if text is not None and not isinstance(text, str):
            raise UsageError(f"Invalid description {text!r}: expected text (a str), or None to clear it.")
        check_text("description", text)
        meta["description"] = text or None
        return _save(owner, record, meta)


def _move(src: Path, dest: Path) -> None:
    if dest.exists():
        raise RunlabError(f"Cannot move {src} to {dest}: the destination exists. Move or remove it first.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(dest))
    parent = src.parent
    try:  # drop namespace folders left empty
        while parent.name and parent.is_dir() and _left_empty(parent):
            parent.rmdir()
            parent = parent.parent
    except OSError:
        pass


def _summaries(folder: Path, meta: dict[str, Any]) -> dict[str, Any]:
    summaries = meta.get("metrics")
    if summaries is None:
        summaries = summaries_from_series(read_metrics(folder / "metrics.jsonl")[0])
    return dict(summaries)


def archive(store: Store, ref: str | RunRecord, dry_run: bool = False) -> Path:
    """Move a run to ``<root>/.archive/`` (hidden from queries of the store); returns the new folder."""
    with _changing(store, ref, dry_run) as ref:
        owner, record, meta = _editable(store, ref, "archive")
        if owner is not store:
            raise UsageError(f"Run {record.id} is already archived ({record.path}).")
        rel = record.path.relative_to(store.root)
        arch = store.archive
        dest = arch.root / rel
        if dry_run:
            return dest
        _ = arch.index  # open the archive's index before the folder appears in it
        _move(record.path, dest)
        store.forget([record.id])
        arch.adopt(dest, meta, _summaries(dest, meta))
        return dest


def unarchive(store: Store, ref: str | RunRecord, dry_run: bool = False) -> Path:
    """Move an archived run back into the store; returns its folder."""
    arch = store.archive
    with _changing(store, ref, dry_run) as ref:
        record = ref if isinstance(ref, RunRecord) else find_record(store, ref, archived=True)[1]
        rel = record.path.relative_to(arch.root)
        dest = store.root / rel
        if dry_run:
            return dest
        meta = _readable(record, "unarchive")
        _ = store.index
        _move(record.path, dest)
        arch.forget([record.id])
        store.adopt(dest, meta, _summaries(dest, meta))
        return dest


def delete(store: Store, ref: str | RunRecord, dry_run: bool = False) -> Path:
    """Remove a run's folder and its index rows; returns the folder removed.

    A run whose ``run.json`` is damaged can be deleted (a live run cannot).
    """
    from ..errors import DamagedFileError

    with _changing(store, ref, dry_run) as ref:
        owner, record = (store, ref) if isinstance(ref, RunRecord) else find_record(store, ref)
        if record.archived:
            owner = store.archive
        try:
            owner, record, _ = _editable(store, record, "delete")
        except DamagedFileError:
            pass  # a damaged record can always be deleted (no live process writes it)
        if not dry_run:
            remove_folder(record.path)
            owner.forget([record.id])
            owner._locks.drop(record.path)  # its resume or debug lock file, unless a process holds it
            parent = record.path.parent
            try:
                while parent != owner.root and parent.is_dir() and _left_empty(parent):
                    parent.rmdir()
                    parent = parent.parent
            except OSError:
                pass
        return record.path


def gc_candidates(
    store: Store, older_than: float, crashed: bool = True, debug: bool = True, now: float | None = None
) -> list[tuple[RunRecord, str]]:
    """Runs that garbage collection would remove, with the reason: crashed runs and debug runs
    (folder named ``debug``, or ``debug-<id>`` when a debug run found ``debug`` busy) created
    more than ``older_than`` seconds ago.
    """
    cutoff = (time.time() if now is None else now) - older_than
    found: list[tuple[RunRecord, str]] = []
    if crashed:
        for rec in query(store, status=["crashed"], until=cutoff):
            if _still_running_in_its_folder(rec):  # else the index is behind the folder: not a crashed run
                found.append((rec, "crashed"))
    if debug:
        seen = {r.id for r, _ in found}
        rows = store._safe(
            lambda idx: idx.execute(
                f"SELECT {','.join(RUN_COLUMNS)} FROM runs WHERE created < ? AND (folder = 'debug' OR folder LIKE "
                "'%/debug' OR folder GLOB '*/debug-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]') "
                "ORDER BY created",
                (cutoff,),
            )
        ) if store.root.is_dir() else []  # fmt: skip
        for rec in RunSet(rows, store.root):
            if rec.id not in seen and rec.status != "running":
                found.append((rec, "debug"))
    return found


def gc_locks(store: Store, dry_run: bool = False) -> list[Path]:
    """The lock files in ``<root>/.runlab/locks/`` that processes killed while holding one left (no process
    holds them, their folder is gone or holds no live run), removed unless ``dry_run``. Locks held now and
    ``changes.lock`` stay.
    """
    return stale_locks(store.root, remove=not dry_run)


def _still_running_in_its_folder(record: RunRecord) -> bool:
    """Whether the run's ``run.json`` reads ``crashed`` too, as the index does (a process killed after
    writing its final ``run.json`` and before its index row leaves the row behind)."""
    try:
        meta = read_run_file(record.path).meta
    except OSError:
        return False
    beat: dict[str, Any] = meta["heartbeat"] if isinstance(meta.get("heartbeat"), dict) else {}
    status = meta.get("status")
    if status not in ("running", "created"):
        return False
    return effective_status(status, beat.get("pid"), beat.get("host"), beat.get("time")) == "crashed"


def _left_empty(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but runlab's ``.gitignore`` (which is then removed)."""
    entries = list(folder.iterdir())
    if any(entry.name != ".gitignore" for entry in entries):
        return False
    for entry in entries:
        entry.unlink()
    return True
