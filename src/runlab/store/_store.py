"""The store: run folders under a root plus the SQLite index that makes them fast to query."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..errors import AmbiguousRunError, RunNotFoundError, StorageError, UsageError, ValidationError
from ._files import read_json, remove_folder, write_json_atomic
from ._folder_locks import FolderLocks
from ._index import RUN_COLUMNS, STATUS_SQL, CorruptIndexError, Index, _is_corruption
from ._rebuild import IndexCheck, RebuildReport
from ._records import RunRecord, RunSet
from ._remote import mark_unindexed
from ._root import resolve_root
from ._runfile import run_files_in
from ._status import RunStatus

__all__ = ["ARCHIVE_DIR", "IndexCheck", "RebuildReport", "RunlabWarning", "Store", "validate_namespace"]

T = TypeVar("T")

#: The folder under a store's root that holds its archive (a store of its own).
ARCHIVE_DIR = ".archive"
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
_ID_ATTEMPTS = 10
MAX_NAMESPACE = 200  # characters in a whole namespace
MAX_SEGMENT = 100  # characters in one of its folder names
_FINAL = ("completed", "failed", "cancelled", "pruned")


def _check_folder(root: Path) -> None:
    """Refuse a store root that is a file, or lies under one (nothing could be written there)."""
    for path in (root, *root.parents):
        try:
            mode = os.stat(path).st_mode  # one look: a folder another process creates meanwhile is no "file"
        except (FileNotFoundError, NotADirectoryError):  # missing, or under a file: look at the parent
            continue
        except OSError:
            return  # unreadable: the first real use says why
        if stat.S_ISDIR(mode):
            return
        raise UsageError(
            f"The store folder {root} cannot be used: {path} is a file. Give a folder with --root, "
            "RUNLAB_ROOT or root in [tool.runlab]."
        )


_SQL_INT_MAX = 2**63 - 1


def _claim(index: Index, meta: Mapping[str, Any], folder: str) -> bool:
    """Index a new run; True when its ID is ours (also if a concurrent rebuild indexed it first)."""
    if index.insert_new(meta, folder):
        return True
    return index.execute("SELECT folder FROM runs WHERE id = ?", (meta["id"],)) == [(folder,)]


class RunlabWarning(UserWarning):
    """Something runlab repaired or skipped on its own (a damaged index, a torn metrics line)."""


def validate_namespace(namespace: str) -> str:
    """Check a namespace: folder-safe segments separated by ``/``.

    Each segment is 1-100 characters of letters, digits, ``_``, ``-`` and ``.`` (not
    starting with ``.``); the whole namespace is at most 200 characters. Anything else
    (control characters such as a newline, spaces, ``..``) is refused here, before any
    folder is made.

    Raises:
        ValidationError: the namespace breaks a rule; the message says which.

    Example:
        >>> validate_namespace("mnist/baselines")
        'mnist/baselines'
    """
    if not isinstance(namespace, str):
        raise ValidationError(f"Invalid namespace {namespace!r}: expected a string such as 'mnist/baselines'.")
    if len(namespace) > MAX_NAMESPACE:
        raise ValidationError(
            f"Invalid namespace {namespace[:40]!r}... ({len(namespace)} characters): at most {MAX_NAMESPACE} "
            "characters are allowed. Choose a shorter namespace."
        )
    if not _NAMESPACE_RE.fullmatch(namespace):
        bad = next((c for c in namespace if not c.isprintable()), None)
        what = f"it contains the control character {bad!r}; " if bad is not None else ""
        raise ValidationError(
            f"Invalid namespace {namespace!r}: {what}use letters, digits, '_', '-' and '.', in segments separated "
            "by '/', not starting with '.' (for example 'mnist/baselines')."
        )
    longest = max(namespace.split("/"), key=len)
    if len(longest) > MAX_SEGMENT:
        raise ValidationError(
            f"Invalid namespace {namespace[:40]!r}...: the segment {longest[:20]!r}... has {len(longest)} characters; "
            f"at most {MAX_SEGMENT} are allowed per segment. Choose shorter names."
        )
    return namespace


def namespace_of(name: str) -> str:
    """A namespace made from a file's name, for runs whose namespace nobody chose: what
    :func:`validate_namespace` refuses becomes ``_`` (accents are dropped first), so ``"my exp"``,
    ``"é"`` or ``".hidden"`` still name a folder.

    Example:
        >>> namespace_of("my exp"), namespace_of("résumé"), namespace_of(".hidden")
        ('my_exp', 'resume', '_hidden')
    """
    import unicodedata

    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9_.\-]", "_", text)[:MAX_SEGMENT]
    if text[:1] in (".", "-"):
        text = "_" + text[1:]
    return text or "default"


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

    def __init__(self, root: str | os.PathLike[str] | None = None, *, _archive_of: Store | None = None) -> None:
        self.root = resolve_root(root)
        _check_folder(self.root)
        self.meta_dir = self.root / ".runlab"
        self._index: Index | None = None
        #: True for the store of another store's archived runs (:attr:`archive`).
        self.is_archive = _archive_of is not None
        self._archive: Store | None = None
        self._locks = FolderLocks(self.root)  # fixed run folders (debug) held by runs of this process
        #: False where ``RUNLAB_INDEX_WRITES=0``: runs write their folders only, not the SQLite index
        #: (runs on other hosts: the submitting process or ``runlab index rebuild`` indexes them).
        self.index_writes = os.environ.get("RUNLAB_INDEX_WRITES") != "0"
        self._unindexed_seen: dict[str, Any] = {}  # marked runs' file stats at their last reading

    @property
    def archive(self) -> Store:
        """The store of archived runs, ``<root>/.archive`` (a store of its own, with its own index;
        the folder appears when the first run is archived).

        Example:
            >>> import tempfile
            >>> store = Store(tempfile.mkdtemp())
            >>> store.archive.root.name, store.archive.is_archive
            ('.archive', True)
        """
        if self.is_archive:
            raise UsageError(f"{self.root} is an archive already; it has no archive of its own.")
        if self._archive is None:
            self._archive = Store(self.root / ARCHIVE_DIR, _archive_of=self)
        return self._archive

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- index access -----------------------------------------------------------------
    @property
    def index(self) -> Index:
        """The SQLite index, opened (and rebuilt if missing or damaged) on first use."""
        if self._index is None:
            path = self.meta_dir / "index.sqlite"
            index = Index(path)
            self._index = index
            try:
                if index.needs_rebuild():  # a new, emptied, damaged-schema or older index
                    self.rebuild_index(archive=False)
            except CorruptIndexError:
                self._recover()
        return self._index

    def _recover(self) -> None:
        assert self._index is not None
        moved = self._index.quarantine()
        warnings.warn(
            f"The run index was damaged; moved it to {moved} and rebuilt it from the run folders.",
            RunlabWarning,
            stacklevel=3,
        )
        self.rebuild_index(archive=False)

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
            replace: with a fixed ``folder_name``, remove an existing folder of that name first,
                unless a live run holds it: then this run takes a fresh folder
                ``<folder_name>-<id>`` and a :class:`RunlabWarning` says so (two debug runs at
                once never share or delete each other's folder). A fixed folder is held, with
                a lock under ``.runlab/locks/``, until the run's final record is saved or its
                process ends.

        Returns:
            The metadata with its ``id`` set and the run's folder.
        """
        namespace = validate_namespace(meta.get("namespace") or "default")
        meta["namespace"] = namespace
        if self.index_writes:
            _ = self.index  # open (and if needed rebuild) the index before making a folder it would pick up
        parent = self.root / namespace
        top = self.root / namespace.split("/")[0]
        if not top.exists():  # a folder runlab makes: git (and ruff, in a repository) leave it alone
            top.mkdir(parents=True, exist_ok=True)
            _ignore_all(top)
        parent.mkdir(parents=True, exist_ok=True)
        if not (self.meta_dir / ".gitignore").exists():
            _ignore_all(self.meta_dir)
        created = datetime.fromisoformat(meta["created"])
        stamp = created.strftime("%Y-%m-%d_%H-%M-%S")
        pattern = folder_name is not None and "{id}" in folder_name
        busy: Path | None = None
        if folder_name and not pattern and replace and not self._locks.hold(parent / folder_name):
            busy, folder_name, pattern = parent / folder_name, f"{folder_name}-{{id}}", True
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
            if not self.index_writes:
                mark_unindexed(self, run_id, folder)
            if not self.index_writes or self._safe(partial(_claim, meta=meta, folder=rel)):
                if busy is not None:
                    warnings.warn(
                        f"The run folder {busy} belongs to a run that is still running; this run uses {folder} "
                        "instead ('runlab gc' removes old debug folders).",
                        RunlabWarning,
                        stacklevel=3,
                    )
                return meta, folder
            shutil.rmtree(folder, ignore_errors=True)
        raise StorageError(f"Could not find a free run ID in {self.root} after {_ID_ATTEMPTS} attempts.")

    def _drop_folder(self, folder: Path) -> None:
        try:
            old = read_json(folder / "run.json").get("id")
        except (OSError, ValueError):
            old = None
        remove_folder(folder)
        if old and self.index_writes:
            self._safe(lambda idx: idx.delete([old]))

    def save(
        self, folder: Path, meta: Mapping[str, Any], summaries: Mapping[str, Any] | None = None, fsync: bool = True
    ) -> None:
        """Write ``run.json`` atomically and update the index (metric summaries too, if given).

        ``fsync=False`` skips forcing the file to disk (for records a later one supersedes):
        a process crash still leaves the old or the new file, only a power loss may not.
        """
        write_json_atomic(folder / "run.json", meta, fsync=fsync)
        rel = folder.relative_to(self.root).as_posix()
        if self.index_writes:
            self._safe(lambda idx: idx.upsert(meta, rel, summaries))
        elif meta.get("status") in ("created", "running"):  # resumed: readers index it again
            mark_unindexed(self, str(meta["id"]), folder)
        if meta.get("status") in _FINAL:
            self._locks.release(folder)

    def forget(self, run_ids: Iterable[str]) -> None:
        """Remove runs' rows from the index (their folders are left alone: delete or move them first)."""
        ids = list(run_ids)
        if ids and self.root.is_dir():
            self._safe(lambda idx: idx.delete(ids))

    def adopt(self, folder: Path, meta: Mapping[str, Any], summaries: Mapping[str, Any] | None = None) -> None:
        """Index a run folder that was moved into this store, or written on another host (``run.json`` is
        not rewritten); this writes the index also where :attr:`index_writes` is off."""
        rel = folder.relative_to(self.root).as_posix()
        self._safe(lambda idx: idx.upsert(meta, rel, summaries))

    def index_folder(self, folder: Path) -> None:
        """Index a run folder written where the index was not (a run on another host, with
        ``RUNLAB_INDEX_WRITES=0``); a missing folder is skipped. Its marker goes once its final
        record is indexed (see :mod:`runlab.store._remote`)."""
        from ._remote import index_folder

        index_folder(self, Path(folder))

    def reconcile(self) -> int:
        """Index the folders of runs that write their folders only (see :mod:`runlab.store._remote`):
        running ones with their latest heartbeat and metrics, finished ones once. Queries call it;
        returns how many folders were read.

        Example:
            >>> import tempfile
            >>> Store(tempfile.mkdtemp()).reconcile()
            0
        """
        if not self.index_writes or self.is_archive:
            return 0
        from ._remote import reconcile

        return reconcile(self)

    def heartbeat(self, run_id: str, beat: Mapping[str, Any], summaries: Mapping[str, Any] | None) -> None:
        """Record a live run's heartbeat (and metric summaries so far) in the index."""
        if self.index_writes:
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
        if self.root.is_dir():
            self.reconcile()
        rows = self._safe(lambda idx: idx.find(ref)) if self.root.is_dir() else []
        if not rows:
            raise self._not_found(ref)
        if len(rows) > 1:
            listed = ", ".join(f"{rid} ({name})" if name else rid for rid, name, _ in rows[:10])
            more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
            raise AmbiguousRunError(
                f"{ref!r} matches {len(rows)} runs: {listed}{more}. Give more characters of the ID.",
                [r[0] for r in rows],
            )
        rid, _, folder = rows[0]
        return rid, self.root / folder

    def _not_found(self, ref: str) -> RunNotFoundError:
        return RunNotFoundError(
            f"No run matches {ref!r} in {self.root}. Use 'runlab list' to see run IDs and names, "
            "or 'runlab index rebuild' if run folders were copied in."
        )

    def load(self, ref: str) -> RunRecord:
        """The record of one run, found by ID, unique ID prefix or name."""
        rid, _ = self.resolve(ref)
        rows = self._safe(lambda idx: idx.execute(f"SELECT {','.join(RUN_COLUMNS)} FROM runs WHERE id = ?", (rid,)))
        if not rows:  # deleted or archived by another process since it was found
            raise self._not_found(ref)
        return RunRecord(rows[0], self.root, self.is_archive)

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
        archived: bool | None = False,
        offset: int = 0,
    ) -> RunSet:
        """Query the index; see :func:`runlab.runs` for the arguments.

        ``name`` matches run names exactly, or as a glob when it holds ``*``, ``?`` or ``[``
        (``"lr-*"``); ``since``/``until`` bound the creation time (epoch seconds, ``until``
        exclusive). ``archived``: False (the default) for the store's runs, True for the
        archived ones only, None for both in one ordered result (``RunRecord.archived`` tells).
        ``offset`` skips that many runs of the ordered result first (SQL ``OFFSET``: a page
        of a large result costs one page, e.g. ``offset=100, limit=50``).
        """
        from ._filter import compile_order

        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise UsageError(f"Invalid offset {offset!r}: expected a whole number >= 0.")
        if archived is True and not self.is_archive:
            return self.archive.runs(where, namespace, status, tags, order_by, limit,
                                     name=name, since=since, until=until, offset=offset)  # fmt: skip
        where_sql, values = self._conditions(where, namespace, status, tags, name, since, until)
        order_sql, order_values = compile_order(order_by)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise UsageError(f"Invalid limit {limit!r}: expected a whole number >= 0.")
        if not self.root.is_dir():  # reading never creates a store
            return RunSet([], self.root, self.is_archive)
        self.reconcile()
        union = archived is None and self._has_archive()
        cols = ",".join("r." + c for c in RUN_COLUMNS) + (",r.archived" if union else "")
        sql = f"SELECT {cols} FROM runs r{where_sql} ORDER BY {order_sql}"
        values.extend(order_values)
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"  # LIMIT -1: no limit, as SQLite needs a LIMIT before OFFSET
            # beyond SQLite's integers a page is empty, as it is past the last run: clamped, not an error
            values.extend((-1 if limit is None else min(limit, _SQL_INT_MAX), min(offset, _SQL_INT_MAX)))
        if union:
            return RunSet(self._union_query(sql, values), self.root, None)
        rows = self._safe(lambda idx: idx.execute(sql, values))
        return RunSet(rows, self.root, self.is_archive)

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
        archived: bool | None = False,
    ) -> int:
        """Number of runs matching the same filters as :meth:`runs`."""
        if archived is True and not self.is_archive:
            return self.archive.count(where, namespace, status, tags, name=name, since=since, until=until)
        where_sql, values = self._conditions(where, namespace, status, tags, name, since, until)
        if not self.root.is_dir():
            return 0
        self.reconcile()
        sql = f"SELECT count(*) FROM runs r{where_sql}"
        if archived is None and self._has_archive():
            return int(self._union_query(sql, values)[0][0])
        return int(self._safe(lambda idx: idx.execute(sql, values))[0][0])

    def _has_archive(self) -> bool:
        return not self.is_archive and self.archive.root.is_dir()

    def _union_query(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run a query over the store's runs and the archive's at once.

        A private in-memory connection attaches both indexes and defines temporary views
        ``runs`` (with an ``archived`` column and archived folders under ``.archive/``),
        ``params``, ``tags`` and ``metrics`` as the union of both, so the compiled filter
        and order apply unchanged and SQLite orders and limits the merged result.
        """
        from ._index import effective_status

        for store in (self, self.archive):  # open (rebuild or repair if needed) both indexes first
            store._safe(lambda idx: idx.count())
        conn = sqlite3.connect(":memory:", isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.create_function("runlab_status", 4, effective_status)
            conn.execute("ATTACH DATABASE ? AS s", (str(self.meta_dir / "index.sqlite"),))
            conn.execute("ATTACH DATABASE ? AS a", (str(self.archive.meta_dir / "index.sqlite"),))
            cols = ",".join(RUN_COLUMNS)
            moved = ",".join(f"'{ARCHIVE_DIR}/' || folder" if c == "folder" else c for c in RUN_COLUMNS)
            conn.execute(
                f"CREATE TEMP VIEW runs AS SELECT {cols}, 0 AS archived FROM s.runs "
                f"UNION ALL SELECT {moved}, 1 AS archived FROM a.runs"
            )
            for table in ("params", "tags", "metrics"):
                conn.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM s.{table} UNION ALL SELECT * FROM a.{table}")
            return conn.execute(sql, tuple(values)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"Cannot query the runs of {self.root} with its archive: {exc}") from exc
        finally:
            conn.close()

    # -- rebuilding -------------------------------------------------------------------
    def run_folders(self) -> Iterator[Path]:
        """Every folder under the root holding a ``run.json``, or a run's files without it
        (:data:`~runlab.store._runfile.RUN_FILES`: indexed as damaged); hidden folders skipped."""
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            if "run.json" in filenames or run_files_in(filenames):
                dirnames[:] = []
                yield Path(dirpath)
            else:
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))

    def rebuild_index(self, archive: bool = True) -> RebuildReport:
        """Recreate the index from the run folders and return what was found.

        Folders copied in from elsewhere are added; index rows whose folder is gone are
        dropped; a folder whose ``run.json`` is damaged is kept with status ``damaged`` and
        listed in the report. The work is streamed and written in short chunks (see
        :mod:`runlab.store._rebuild`). With ``archive`` (the default), the archive's index is
        rebuilt too (``report.archive``).

        Example:
            >>> import runlab, tempfile
            >>> root = tempfile.mkdtemp()
            >>> with runlab.start_run(root=root, capture=False):
            ...     pass
            >>> runlab.Store(root).rebuild_index().indexed
            1
        """
        from ._rebuild import rebuild

        report = rebuild(self)
        if archive and not self.is_archive and self.archive.root.is_dir():
            report.archive = rebuild(self.archive)
        return report

    def check_index(self, archive: bool = True) -> IndexCheck:
        """Compare the index (and the archive's) with the run folders; nothing is changed.

        Example:
            >>> import tempfile
            >>> Store(tempfile.mkdtemp()).check_index().ok
            True
        """
        from ._rebuild import check_index

        result = check_index(self)
        if archive and not self.is_archive and self.archive.root.is_dir():
            result.archive = check_index(self.archive)
        return result


def _ignore_all(folder: Path) -> None:
    """A ``.gitignore`` of ``*`` in ``folder``, which runlab owns: run folders never dirty a work tree."""
    try:
        (folder / ".gitignore").write_text("# runlab run folders: not source code\n*\n", encoding="utf-8")
    except OSError:
        pass
