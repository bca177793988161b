"""Rebuilding and checking a store's index from its run folders, streamed and in short chunks.

Contract:
    * The folders are the truth: a rebuild gives the index that the folders describe, with
      every run folder in it. A folder whose ``run.json`` is damaged is indexed with status
      ``damaged`` and the problem (never dropped); files are never modified.
    * Streaming: folders are read one at a time and written in chunks of
      :data:`CHUNK` runs, each in its own short write transaction, so memory stays flat
      (the IDs seen, not the runs) and writers in other processes wait milliseconds, not
      the whole rebuild.
    * Concurrent writers are safe: writers change a folder first and its index row second.
      Under each chunk's write lock every ``run.json`` is checked again (modification time
      and size) and read again when it changed; at the end, rows that the scan did not see
      are kept when their folder holds that run (created meanwhile) and removed otherwise.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._index import RUN_COLUMNS, CorruptIndexError, Index, IndexEntry, _is_corruption
from ._metrics_file import read_metrics, summaries_from_series
from ._runfile import check_summaries, fallback_id, read_run_file

if TYPE_CHECKING:
    from ._store import Store

__all__ = ["CHUNK", "IndexCheck", "RebuildReport", "check_index", "read_entry", "rebuild"]

#: Runs written per write transaction of a rebuild.
CHUNK = 200
_FINISHED = ("completed", "failed", "cancelled", "pruned")


class RebuildReport:
    """What :meth:`Store.rebuild_index` found.

    Attributes:
        indexed: runs in the new index.
        added: IDs that the old index did not have (folders copied in, for example).
        removed: IDs that the old index had but no folder holds any more.
        damaged: ``(folder, problem)`` per run indexed as ``damaged``.
        problems: one line per folder or file that could not be read fully (damaged runs
            included), for the user to look at.
        archive: the same for the archive (``<root>/.archive``), when the store has one.
    """

    def __init__(self) -> None:
        self.indexed = 0
        self.added: list[str] = []
        self.removed: list[str] = []
        self.damaged: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.archive: RebuildReport | None = None

    def __repr__(self) -> str:
        return (
            f"RebuildReport(indexed={self.indexed}, added={len(self.added)}, removed={len(self.removed)}, "
            f"damaged={len(self.damaged)}, problems={len(self.problems)})"
        )


class IndexCheck:
    """What :meth:`Store.check_index` found (nothing is changed).

    Attributes:
        runs: run folders on disk.
        problems: differences between the index and the folders; ``runlab index rebuild`` fixes them.
        damaged: ``(folder, problem)`` per run whose ``run.json`` is damaged (listed as
            ``damaged`` once indexed; a rebuild cannot repair the file).
        archive: the same for the archive, when the store has one.
    """

    def __init__(self) -> None:
        self.runs = 0
        self.problems: list[str] = []
        self.damaged: list[tuple[str, str]] = []
        self.archive: IndexCheck | None = None

    @property
    def ok(self) -> bool:
        """True when the index (and the archive's) matches the folders."""
        return not self.problems and (self.archive is None or self.archive.ok)


def read_entry(root: Path, folder: Path, warnings: list[str] | None = None, metrics: bool = True) -> IndexEntry | None:
    """One run folder as an index entry (None when the folder or its ``run.json`` is gone).

    A damaged ``run.json`` gives an entry with ``problems``. Metric summaries come from
    ``run.json`` for a finished run, else from ``metrics.jsonl`` (``metrics=False``: not read);
    its unreadable lines are added to ``warnings``.
    """
    try:
        found = read_run_file(folder, root)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        found = None
        problem = f"run.json cannot be read ({exc.strerror or exc})"
    meta = found.meta if found is not None else {}
    problems = found.problems if found is not None else [problem]
    summaries = meta.get("metrics")
    bad = check_summaries(summaries)
    if bad:
        problems.append(bad)
        summaries = None
    if metrics and (summaries is None or meta.get("status") not in _FINISHED):
        series, report = read_metrics(folder / "metrics.jsonl")
        if warnings is not None:
            path = folder / "metrics.jsonl"
            warnings += [f"{path}:{n}: unreadable line skipped ({why})." for n, why in report.skipped]
        summaries = summaries_from_series(series)
    run_id = found.run_id if found is not None else fallback_id(folder, root)
    rel = folder.relative_to(root).as_posix()
    return IndexEntry(run_id, meta, rel, summaries, problems, found.stat if found is not None else None).check()


def _stat(folder: str) -> tuple[int, int] | None:
    try:
        st = os.stat(f"{folder}/run.json")
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _entries(store: Store, report: RebuildReport) -> Iterator[IndexEntry]:
    seen: dict[str, str] = {}
    for folder in store.run_folders():
        entry = read_entry(store.root, folder, report.problems)
        if entry is None:
            continue
        if entry.run_id in seen:
            report.problems.append(f"{folder}: run ID {entry.run_id} is also used by {seen[entry.run_id]}; skipped.")
            continue
        seen[entry.run_id] = entry.folder
        entry.rows()  # the rows are made here, before the chunk takes the write lock
        yield entry


def rebuild(store: Store) -> RebuildReport:
    """Rebuild ``store``'s index (see the module's contract); the archive is not included."""
    report = RebuildReport()
    index = store._index or Index(store.meta_dir / "index.sqlite")
    store._index = index
    try:
        before = {row[0] for row in index.execute("SELECT id FROM runs")}
    except (CorruptIndexError, sqlite3.DatabaseError) as exc:
        if isinstance(exc, sqlite3.DatabaseError) and not _is_corruption(exc):
            raise
        moved = index.quarantine()
        report.problems.append(f"The index was damaged; moved it to {moved}.")
        before = set()
    root = store.root
    base = str(root)

    def refresh(entry: IndexEntry) -> IndexEntry | None:
        stat = _stat(f"{base}/{entry.folder}")
        if stat is not None and stat == entry.stat:
            return entry
        fresh = read_entry(root, root / entry.folder)  # None: deleted or moved since it was read
        return fresh if fresh is not None and fresh.run_id == entry.run_id else None

    seen: dict[str, str] = {}
    chunk: list[IndexEntry] = []

    def flush() -> None:
        for entry in index.write_chunk(chunk, refresh):
            seen[entry.run_id] = entry.folder
            if entry.problems:
                report.damaged.append((entry.folder, "; ".join(entry.problems)))
        chunk.clear()

    with index.bulk():
        for entry in _entries(store, report):
            chunk.append(entry)
            if len(chunk) >= CHUNK:
                flush()
        flush()

    def check(run_id: str, folder: str) -> IndexEntry | None:
        entry = read_entry(root, root / folder)
        return entry if entry is not None and entry.run_id == run_id else None

    removed, kept, report.indexed = index.finish_rebuild(seen, check)
    report.added = sorted((seen.keys() | kept) - before)
    report.removed = sorted(removed & before)
    for rel, problem in report.damaged:
        report.problems.append(f"{root / rel}: damaged, indexed with status 'damaged': {problem}.")
    return report


def _status(entry: IndexEntry) -> str:
    """The status the index records for ``entry`` (``damaged`` when its ``run.json`` has problems)."""
    return str(entry.rows()[0][RUN_COLUMNS.index("status")])


def check_index(store: Store) -> IndexCheck:
    """Compare ``store``'s index with its folders without changing anything."""
    result = IndexCheck()
    on_disk: dict[str, IndexEntry] = {}
    for folder in store.run_folders():
        entry = read_entry(store.root, folder, metrics=False)
        if entry is None:
            continue
        if entry.run_id in on_disk:
            result.problems.append(
                f"{entry.folder}: run ID {entry.run_id} is also used by {on_disk[entry.run_id].folder}"
            )
            continue
        on_disk[entry.run_id] = entry
        if entry.problems:
            result.damaged.append((entry.folder, "; ".join(entry.problems)))
    result.runs = len(on_disk)
    indexed: dict[str, tuple[str, str]] = {}
    if store.root.is_dir():
        rows = store._safe(lambda idx: idx.execute("SELECT id, folder, status FROM runs"))
        indexed = {rid: (folder, status) for rid, folder, status in rows}
    for rid, entry in on_disk.items():
        where = indexed.get(rid)
        if where is not None and where[0] == entry.folder and _status(entry) != where[1]:
            # writers change the folder first and the index second: read a changed folder once more
            fresh = read_entry(store.root, store.root / entry.folder, metrics=False)
            entry = fresh if fresh is not None and fresh.run_id == rid else entry
        if where is None:
            result.problems.append(f"{entry.folder}: run {rid} is not in the index")
        elif where[0] != entry.folder:
            result.problems.append(f"{entry.folder}: run {rid} is indexed at {where[0]}")
        elif bool(entry.problems) != (where[1] == "damaged"):
            state = "damaged" if entry.problems else "readable again"
            result.problems.append(f"{entry.folder}: run {rid} is {state} but indexed as {where[1]!r}")
        elif _status(entry) != where[1]:  # a process killed between writing run.json and its index row
            result.problems.append(
                f"{entry.folder}: run {rid} is {_status(entry)!r} in run.json but indexed as {where[1]!r}"
            )
    for rid, (rel, _) in indexed.items():
        if rid not in on_disk:
            result.problems.append(f"{rel}: run {rid} is in the index but its folder is gone")
    return result
