"""The store: run folders under a root plus the SQLite index that makes them fast to query."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..errors import AmbiguousRunError, RunNotFoundError, StorageError, UsageError
from ._files import read_json, write_json_atomic
from ._index import RUN_COLUMNS, STATUS_SQL, CorruptIndexError, Index, IndexEntry, _is_corruption, run_row
from ._metrics_file import read_metrics, summaries_from_series
from ._records import RunRecord, RunSet
from ._root import resolve_root
from ._status import RunStatus

__all__ = ["RebuildReport", "RunlabWarning", "Store", "validate_namespace"]

T = TypeVar("T")

_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
_ID_ATTEMPTS = 10


def _claim(index: Index, meta: Mapping[str, Any], folder: str) -> bool:
    """Index a new run; True when its ID is ours (also if a concurrent rebuild indexed it first)."""
    if index.insert_new(meta, folder):
        return True
    return index.execute("SELECT folder FROM runs WHERE id = ?", (meta["id"],)) == [(folder,)]


class RunlabWarning(UserWarning):
    """Something runlab repaired or skipped on its own (a damaged index, a torn metrics line)."""


def validate_namespace(namespace: str) -> str:
    """Check a namespace: folder-safe segments separated by ``/``.

    Example:
        >>> validate_namespace("mnist/baselines")
        'mnist/baselines'
    """
    if not isinstance(namespace, str) or not _NAMESPACE_RE.match(namespace):
        raise UsageError(
            f"Invalid namespace {namespace!r}: use letters, digits, '_', '-' and '.', in segments separated "
            "by '/', not starting with '.' (for example 'mnist/baselines')."
        )
    return namespace


class RebuildReport:
    """What :meth:`Store.rebuild_index` found.

    Attributes:
        indexed: runs in the new index.
        added: IDs that the old index did not have (folders copied in, for example).
        removed: IDs that the old index had but no folder holds any more.
        problems: one line per folder or file that could not be read fully.
    """

    def __init__(self) -> None:
        self.indexed = 0
        self.added: list[str] = []
        self.removed: list[str] = []
        self.problems: list[str] = []

    def __repr__(self) -> str:
        return (
            f"RebuildReport(indexed={self.indexed}, added={len(self.added)}, removed={len(self.removed)}, "
            f"problems={len(self.problems)})"
        )


class Store:
    """A run store: ``<root>/<namespace>/<run folder>/`` plus ``<root>/.runlab/index.sqlite``.

    The folders are the truth; the index is rebuilt from them with :meth:`rebuild_index`.
    Many processes may create and finish runs in one store at once. A ``Store`` object
    may be shared by the threads of one process.

    Example:
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> len(store.runs())
        0
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_root(root)
        self.meta_dir = self.root / ".runlab"
        self._index: Index | None = None

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- index access -----------------------------------------------------------------
    @property
    def index(self) -> Index:
        """The SQLite index, opened (and rebuilt if missing or damaged) on first use."""
        if self._index is None:
            path = self.meta_dir / "index.sqlite"
            fresh = not path.exists()
            index = Index(path)
            self._index = index
            try:
                if (fresh and self._has_run_folders()) or index.needs_rebuild():
                    self.rebuild_index()
            except CorruptIndexError:
                self._recover()
        return self._index

    def _has_run_folders(self) -> bool:
        try:
            return any(not p.name.startswith(".") and p.is_dir() for p in self.root.iterdir())
        except FileNotFoundError:
            return False

    def _recover(self) -> None:
        assert self._index is not None
        moved = self._index.quarantine()
        warnings.warn(
            f"The run index was damaged; moved it to {moved} and rebuilt it from the run folders.",
            RunlabWarning,
            stacklevel=3,
        )
        self.rebuild_index()

    def _safe(self, fn: Callable[[Index], T]) -> T:
        index = self.index
        try:
            return fn(index)
        except (CorruptIndexError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and not _is_corruption(exc):
                raise StorageError(f"Cannot use the run index {index.path}: {exc}") from exc
            self._recover()
            return fn(self.index)

    def close(self) -> None:
        """Close the index connection (it reopens on next use)."""
        if self._index is not None:
            self._index.close()

    # -- writing runs -----------------------------------------------------------------
    def create(
        self, meta: dict[str, Any], folder_name: str | None = None, replace: bool = False
    ) -> tuple[dict[str, Any], Path]:
        """Give ``meta`` a fresh ID, create its folder and write ``run.json``; index it.

        Args:
            meta: the run's metadata without ``id``; ``namespace`` and ``created`` are used.
            folder_name: a fixed folder name (``debug`` runs) instead of ``{date}_{time}_{id}``,
                or a pattern holding ``{id}`` (and optionally ``{date}``, ``{time}``), such as
                ``"ablation_{date}_{time}_{id}"``; a pattern never replaces a folder.
            replace: with a fixed ``folder_name``, remove an existing folder of that name first.

        Returns:
            The metadata with its ``id`` set and the run's folder.
        """
        namespace = validate_namespace(meta.get("namespace") or "default")
        meta["namespace"] = namespace
        _ = self.index  # open (and if needed rebuild) the index before making a folder it would pick up
        parent = self.root / namespace
        parent.mkdir(parents=True, exist_ok=True)
        created = datetime.fromisoformat(meta["created"])
        stamp = created.strftime("%Y-%m-%d_%H-%M-%S")
        pattern = folder_name is not None and "{id}" in folder_name
        for _ in range(_ID_ATTEMPTS):
            run_id = os.urandom(4).hex()  # what secrets.token_hex(4) does, without importing hashlib
            if pattern:
                assert folder_name is not None
                name = folder_name.replace("{date}", created.strftime("%Y-%m-%d"))
                name = name.replace("{time}", created.strftime("%H-%M-%S")).replace("{id}", run_id)
                folder = parent / name
            else:
                folder = parent / (folder_name or f"{stamp}_{run_id}")
            if folder_name and not pattern and folder.exists():
                if not replace:
                    raise StorageError(f"Run folder {folder} exists; pass replace=True to reuse it.")
                self._drop_folder(folder)
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            meta["id"] = run_id
            rel = folder.relative_to(self.root).as_posix()
            write_json_atomic(folder / "run.json", meta, fsync=False)
            if self._safe(partial(_claim, meta=meta, folder=rel)):
                return meta, folder
            shutil.rmtree(folder, ignore_errors=True)
        raise StorageError(f"Could not find a free run ID in {self.root} after {_ID_ATTEMPTS} attempts.")

    def _drop_folder(self, folder: Path) -> None:
        try:
            old = read_json(folder / "run.json").get("id")
        except (OSError, ValueError):
            old = None
        shutil.rmtree(folder)
        if old:
            self._safe(lambda idx: idx.delete([old]))

    def save(self, folder: Path, meta: Mapping[str, Any], summaries: Mapping[str, Any] | None = None) -> None:
        """Write ``run.json`` atomically and update the index (metric summaries too, if given)."""
        write_json_atomic(folder / "run.json", meta)
        rel = folder.relative_to(self.root).as_posix()
        self._safe(lambda idx: idx.upsert(meta, rel, summaries))

    def forget(self, run_ids: Iterable[str]) -> None:
        """Remove runs' rows from the index (their folders are left alone: delete or move them first)."""
        ids = list(run_ids)
        if ids and self.root.is_dir():
            self._safe(lambda idx: idx.delete(ids))

    def adopt(self, folder: Path, meta: Mapping[str, Any], summaries: Mapping[str, Any] | None = None) -> None:
        """Index a run folder that was moved into this store (``run.json`` is not rewritten)."""
        rel = folder.relative_to(self.root).as_posix()
        self._safe(lambda idx: idx.upsert(meta, rel, summaries))

    def heartbeat(self, run_id: str, beat: Mapping[str, Any], summaries: Mapping[str, Any] | None) -> None:
        """Record a live run's heartbeat (and metric summaries so far) in the index."""
        self._safe(lambda idx: idx.update_progress(run_id, beat, summaries))

    # -- finding runs -----------------------------------------------------------------
    def resolve(self, ref: str) -> tuple[str, Path]:
        """Find a run by full ID, unique ID prefix or name: ``(id, folder)``.

        Raises:
            RunNotFoundError: nothing matches.
            AmbiguousRunError: a prefix or name matches several runs (they are listed).
        """
        ref = str(ref).strip()
        if not ref:
            raise RunNotFoundError("No run given: pass a run ID, an ID prefix or a run name.")
        rows = self._safe(lambda idx: idx.find(ref)) if self.root.is_dir() else []
        if not rows:
            raise RunNotFoundError(
                f"No run matches {ref!r} in {self.root}. Use 'runlab list' to see run IDs and names, "
                "or 'runlab index rebuild' if run folders were copied in."
            )
        if len(rows) > 1:
            listed = ", ".join(f"{rid} ({name})" if name else rid for rid, name, _ in rows[:10])
            more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
            raise AmbiguousRunError(
                f"{ref!r} matches {len(rows)} runs: {listed}{more}. Give more characters of the ID.",
                [r[0] for r in rows],
            )
        rid, _, folder = rows[0]
        return rid, self.root / folder

    def load(self, ref: str) -> RunRecord:
        """The record of one run, found by ID, unique ID prefix or name."""
        rid, _ = self.resolve(ref)
        rows = self._safe(lambda idx: idx.execute(f"SELECT {','.join(RUN_COLUMNS)} FROM runs WHERE id = ?", (rid,)))
        return RunRecord.from_row(rows[0], self.root)

    def _conditions(
        self,
        where: str | None,
        namespace: str | None,
        status: str | Iterable[str] | None,
        tags: str | Iterable[str] | None,
        name: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> tuple[str, list[Any]]:
        from ._filter import compile_where

        clauses: list[str] = []
        values: list[Any] = []
        if where:
            sql, bound = compile_where(where)
            clauses.append(f"({sql})")
            values.extend(bound)
        if namespace:
            clauses.append("r.namespace = ?")
            values.append(namespace)
        if status:
            wanted = [status] if isinstance(status, str) else list(status)
            valid = [s.value for s in RunStatus]
            for s in wanted:
                if s not in valid:
                    raise UsageError(f"Invalid status {s!r}; valid statuses: {', '.join(valid)}.")
            clauses.append(f"{STATUS_SQL} IN ({','.join('?' * len(wanted))})")
            values.extend(wanted)
        for tag in [tags] if isinstance(tags, str) else list(tags or ()):
            clauses.append("r.id IN (SELECT run_id FROM tags WHERE tag = ?)")
            values.append(tag)
        if name:
            clauses.append("r.name GLOB ?" if any(c in name for c in "*?[") else "r.name = ?")
            values.append(name)
        if since is not None:
            clauses.append("r.created >= ?")
            values.append(since)
        if until is not None:
            clauses.append("r.created < ?")
            values.append(until)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), values

    def runs(
        self,
        where: str | None = None,
        namespace: str | None = None,
        status: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        *,
        name: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> RunSet:
        """Query the index; see :func:`runlab.runs` for the arguments.

        ``name`` matches run names exactly, or as a glob when it holds ``*``, ``?`` or ``[``
        (``"lr-*"``); ``since``/``until`` bound the creation time (epoch seconds, ``until``
        exclusive).
        """
        from ._filter import compile_order

        where_sql, values = self._conditions(where, namespace, status, tags, name, since, until)
        order_sql, order_values = compile_order(order_by)
        if not self.root.is_dir():  # reading never creates a store
            return RunSet([], self.root)
        sql = f"SELECT {','.join('r.' + c for c in RUN_COLUMNS)} FROM runs r{where_sql} ORDER BY {order_sql}"
        values.extend(order_values)
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise UsageError(f"Invalid limit {limit!r}: expected a whole number >= 0.")
            sql += " LIMIT ?"
            values.append(limit)
        rows = self._safe(lambda idx: idx.execute(sql, values))
        return RunSet(rows, self.root)

    def count(
        self,
        where: str | None = None,
        namespace: str | None = None,
        status: str | Iterable[str] | None = None,
        tags: str | Iterable[str] | None = None,
        *,
        name: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> int:
        """Number of runs matching the same filters as :meth:`runs`."""
        where_sql, values = self._conditions(where, namespace, status, tags, name, since, until)
        if not self.root.is_dir():
            return 0
        return int(self._safe(lambda idx: idx.execute(f"SELECT count(*) FROM runs r{where_sql}", values))[0][0])

    # -- rebuilding -------------------------------------------------------------------
    def run_folders(self) -> Iterator[Path]:
        """Every folder under the root holding a ``run.json`` (hidden folders skipped)."""
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            if "run.json" in filenames:
                dirnames[:] = []
                yield Path(dirpath)
            else:
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))

    def _read_entry(self, folder: Path, report: RebuildReport) -> IndexEntry | None:
        """One run folder as an index entry (None, with a problem reported, when unreadable)."""
        try:
            meta = read_json(folder / "run.json")
            if not isinstance(meta.get("id"), str):
                raise KeyError("id")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            report.problems.append(f"{folder}: run.json is unreadable ({type(exc).__name__}: {exc}); skipped.")
            return None
        summaries = meta.get("metrics")
        if summaries is None or meta.get("status") not in ("completed", "failed", "cancelled", "pruned"):
            series, read_report = read_metrics(folder / "metrics.jsonl")
            for line, reason in read_report.skipped:
                report.problems.append(f"{folder / 'metrics.jsonl'}:{line}: unreadable line skipped ({reason}).")
            summaries = summaries_from_series(series)
        return meta, folder.relative_to(self.root).as_posix(), summaries

    def _scan(self, report: RebuildReport) -> dict[str, tuple[IndexEntry, Path]]:
        """Read every run folder: ``{id: (entry, folder)}``; duplicate IDs are reported."""
        found: dict[str, tuple[IndexEntry, Path]] = {}
        for folder in self.run_folders():
            entry = self._read_entry(folder, report)
            if entry is None:
                continue
            run_id = entry[0]["id"]
            if run_id in found:
                report.problems.append(f"{folder}: run ID {run_id} is also used by {found[run_id][1]}; skipped.")
                continue
            found[run_id] = (entry, folder)
        return found

    def _reconcile(
        self, scanned: dict[str, tuple[IndexEntry, Path]], current: dict[str, tuple[Any, ...]], report: RebuildReport
    ) -> Iterator[IndexEntry]:
        """Under the write lock: the scan, with what writers changed while it ran read again.

        Writers update a run's folder first and its index row second. So an index row that
        differs from the scanned one was written after the scan read that folder: the folder
        is read again. A writer still waiting for the lock updates its row after us.
        """
        for entry, folder in scanned.values():
            row = current.get(entry[0]["id"])
            if row is not None and row != run_row(*entry):
                fresh = self._read_entry(folder, report)
                if fresh is None:
                    continue  # deleted since the scan
                entry = fresh
            yield entry
        for run_id, row in current.items():  # runs created while the scan ran
            if run_id not in scanned:
                fresh = self._read_entry(self.root / row[RUN_COLUMNS.index("folder")], report)
                if fresh is not None and fresh[0]["id"] == run_id:
                    yield fresh

    def rebuild_index(self) -> RebuildReport:
        """Recreate the index from the run folders and return what was found.

        Folders copied in from elsewhere are added; index rows whose folder is gone are
        dropped; unreadable files are listed in the report's ``problems``.
        """
        report = RebuildReport()
        index = self._index or Index(self.meta_dir / "index.sqlite")
        self._index = index
        scanned = self._scan(report)  # the slow part, without holding the write lock
        try:
            before, after = index.replace_all(lambda current: self._reconcile(scanned, current, report))
        except (CorruptIndexError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and not _is_corruption(exc):
                raise
            moved = index.quarantine()
            report.problems.append(f"The index was damaged; moved it to {moved}.")
            before, after = index.replace_all(lambda current: self._reconcile(scanned, current, report))
            before = set()
        report.indexed = len(after)
        report.added = sorted(after - before)
        report.removed = sorted(before - after)
        return report
