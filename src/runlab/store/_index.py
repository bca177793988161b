"""The SQLite index: a derived cache of the run folders for fast queries.

Contract:
    * The folders are the truth. Everything here can be recreated by
      :meth:`Index.rebuild` from the ``run.json`` and ``metrics.jsonl`` files.
    * Safe for many processes at once (WAL journal, busy timeout) and for many threads
      of one process (one connection guarded by a lock).
    * Times are stored as epoch seconds (REAL); parameter values keep their SQLite type
      (integers, reals and text compare as such; booleans are 0/1; lists and dicts are
      JSON text, and nested dicts are also flattened to dotted keys).
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .._settings import env_number
from ..errors import StorageError
from ._entry import IndexEntry, _metric_rows, flatten_params, param_values, run_row
from ._files import dumps_light
from ._metrics_file import summary_json

__all__ = ["SCHEMA_VERSION", "Index", "IndexEntry", "effective_status", "flatten_params", "param_values", "run_row"]

SCHEMA_VERSION = "3"

#: Seconds after which a heartbeat from another host counts as stale (the run crashed).
STALE_REMOTE = env_number("RUNLAB_STALE_AFTER", 60.0, 0.01)
#: On this host a dead pid is decisive; a live pid with a heartbeat this old was reused.
STALE_LOCAL = 600.0

_HOST = os.uname().nodename

#: SQL for the status a query reports (:func:`effective_status`, as ``runlab_status``: a ``running`` or
#: ``created`` run becomes ``crashed`` when its process is gone).
STATUS_SQL = (
    "(CASE WHEN r.status IN ('running', 'created') THEN runlab_status(r.status, r.pid, r.host, r.heartbeat) "
    "ELSE r.status END)"
)

RUN_COLUMNS = (
    "id", "name", "namespace", "experiment", "status", "created", "started", "ended", "duration",
    "heartbeat", "pid", "host", "folder", "description", "error", "sweep", "study", "parent", "problem",
    "params", "tags", "metrics",
)  # fmt: skip

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT, namespace TEXT NOT NULL, experiment TEXT,
    status TEXT NOT NULL, created REAL, started REAL, ended REAL, duration REAL,
    heartbeat REAL, pid INTEGER, host TEXT, folder TEXT NOT NULL, description TEXT,
    error TEXT, sweep TEXT, study TEXT, parent TEXT, problem TEXT, params TEXT, tags TEXT, metrics TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created, id);
CREATE INDEX IF NOT EXISTS runs_name ON runs(name);
CREATE INDEX IF NOT EXISTS runs_namespace ON runs(namespace, created);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE TABLE IF NOT EXISTS params (
    run_id TEXT NOT NULL, key TEXT NOT NULL, value, PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS params_key_value ON params(key, value);
CREATE TABLE IF NOT EXISTS tags (
    run_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, name TEXT NOT NULL, last, min, max, count INTEGER, step INTEGER,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metrics_name_last ON metrics(name, last);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '{SCHEMA_VERSION}');
"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:  # a zombie (killed, not yet reaped) is dead for our purposes
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"
    except (OSError, ValueError):
        return True


def effective_status(status: str, pid: int | None, host: str | None, heartbeat: float | None) -> str:
    """The status a query reports: a ``running`` or ``created`` run becomes ``crashed`` when its
    process is gone; ``pid``, ``host`` and ``heartbeat`` are the run's ``heartbeat`` record.

    ``running``: on this host a dead pid decides at once; elsewhere the heartbeat must be older than
    ``RUNLAB_STALE_AFTER`` seconds (60 by default). ``created``: the heartbeat is its creator's
    (written once by ``Run.create``, never refreshed), so only a dead pid on this host decides; a run
    created on another host, or with no creator recorded (a run staged for another process to start,
    or one written by an older runlab), stays ``created``.

    Example:
        >>> import os
        >>> effective_status("created", os.getpid(), os.uname().nodename, 0.0)
        'created'
        >>> effective_status("created", None, None, None), effective_status("completed", 1, None, None)
        ('created', 'completed')
    """
    if status == "created":
        return "crashed" if host == _HOST and pid and not _pid_alive(pid) else "created"
    if status != "running":
        return status
    age = time.time() - heartbeat if heartbeat else math.inf
    if host == _HOST and pid:
        if not _pid_alive(pid):
            return "crashed"
        return "crashed" if age > STALE_LOCAL else "running"
    return "crashed" if age > STALE_REMOTE else "running"


_BULK_CACHE_KIB = 32 * 1024
_BULK_CHECKPOINT_PAGES = 16 * 1024
_INSERT_RUN = f"INSERT INTO runs VALUES ({','.join('?' * len(RUN_COLUMNS))})"
_UPSERT_FULL = (
    f"INSERT INTO runs VALUES ({','.join('?' * len(RUN_COLUMNS))}) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in RUN_COLUMNS[1:])
)
_UPSERT_PARTIAL = (  # every column but the metric summaries, which the index keeps
    f"INSERT INTO runs ({','.join(RUN_COLUMNS[:-1])}) VALUES ({','.join('?' * (len(RUN_COLUMNS) - 1))}) "
    f"ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in RUN_COLUMNS[1:-1])
)
_INSERT_PARAM = "INSERT OR REPLACE INTO params VALUES (?, ?, ?)"
_INSERT_TAG = "INSERT OR IGNORE INTO tags VALUES (?, ?)"
_INSERT_METRIC = "INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)"


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "disk image", "file is encrypted"))


class CorruptIndexError(StorageError):
    """The index file is not a readable SQLite database (it is recreated from the folders)."""


class Index:
    """One store's SQLite index at ``<root>/.runlab/index.sqlite``.

    Example:
        >>> import tempfile, pathlib
        >>> idx = Index(pathlib.Path(tempfile.mkdtemp()) / "index.sqlite")
        >>> idx.count()
        0
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    # -- connection -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + 60.0
        delay = 0.01
        while True:
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
            try:
                self._prepare(conn)
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                # switching a new file to WAL needs an exclusive lock and does not wait on the busy
                # timeout: several processes opening a fresh store at once retry here instead
                if ("locked" in str(exc) or "busy" in str(exc)) and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.25)
                    continue
                raise
            except sqlite3.DatabaseError as exc:
                conn.close()
                if _is_corruption(exc):
                    raise CorruptIndexError(f"The index {self.path} is damaged: {exc}") from exc
                raise

    @staticmethod
    def _schema_ok(conn: sqlite3.Connection) -> bool:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            return False
        columns = tuple(r[1] for r in conn.execute("PRAGMA table_info(runs)"))
        return row is not None and row[0] == SCHEMA_VERSION and columns == RUN_COLUMNS

    @classmethod
    def _prepare(cls, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA busy_timeout = 60000")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.create_function("runlab_status", 4, effective_status)
        if cls._schema_ok(conn):
            return
        # a new file, an empty (0-byte) one, another schema version or tables that are not ours:
        # start afresh (checked again under the write lock: another process may have just done it)
        # and flag the index, so that the store rebuilds the rows from the folders
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not cls._schema_ok(conn):
                for table in ("runs", "params", "tags", "metrics", "meta"):
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('needs_rebuild', '1')")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            with self._lock:
                if self._conn is None:
                    self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def quarantine(self) -> Path:
        """Move a damaged index file aside (``index.sqlite.damaged-<time>``) and return its new path."""
        self.close()
        target = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                os.replace(src, f"{target}{suffix}")
        return target

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error), under the thread lock."""
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def needs_rebuild(self) -> bool:
        """True when the schema was upgraded and the rows must be recreated from the folders."""
        with self._lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'needs_rebuild'").fetchone()
        return row is not None

    # -- writes -----------------------------------------------------------------------
    def insert_new(self, meta: Mapping[str, Any], folder: str) -> bool:
        """Index a new run; False when its ID is already taken (the caller picks another)."""
        row, params, tags, _ = IndexEntry.of(meta, folder, {}).rows()
        try:
            with self.transaction() as conn:
                conn.execute(_INSERT_RUN, row)
                conn.executemany(_INSERT_PARAM, params)
                conn.executemany(_INSERT_TAG, tags)
        except sqlite3.IntegrityError:
            return False
        return True

    def upsert(self, meta: Mapping[str, Any], folder: str, summaries: Mapping[str, Any] | None = None) -> None:
        """Write (or replace) one run's rows; ``summaries=None`` keeps the metric rows as they are."""
        with self.transaction() as conn:
            self._write(conn, [IndexEntry.of(meta, folder, summaries)])

    @staticmethod
    def _write(conn: sqlite3.Connection, entries: Sequence[IndexEntry]) -> None:
        """Replace the rows of ``entries`` (inside the caller's transaction)."""
        full: list[tuple[Any, ...]] = []
        partial: list[tuple[Any, ...]] = []
        params: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
        metrics: list[tuple[Any, ...]] = []
        ids = [(e.run_id,) for e in entries]
        with_metrics: list[tuple[str]] = []
        for entry in entries:
            row, p, t, m = entry.rows()
            params += p
            tags += t
            if entry.summaries is None:
                partial.append(row[:-1])
            else:
                full.append(row)
                metrics += m
                with_metrics.append((entry.run_id,))
        conn.executemany("DELETE FROM params WHERE run_id = ?", ids)
        conn.executemany("DELETE FROM tags WHERE run_id = ?", ids)
        conn.executemany("DELETE FROM metrics WHERE run_id = ?", with_metrics)
        if full:
            conn.executemany(_UPSERT_FULL, full)
        if partial:
            conn.executemany(_UPSERT_PARTIAL, partial)
        conn.executemany(_INSERT_PARAM, params)
        conn.executemany(_INSERT_TAG, tags)
        conn.executemany(_INSERT_METRIC, metrics)

    def refresh(self, entries: Sequence[IndexEntry]) -> None:
        """Write the rows of ``entries`` read from folders that others write, except where the index
        holds a finished run and the entry an unfinished state read before it ended (a resumed run's
        heartbeat is newer than its last end: that one is written)."""
        final = ("completed", "failed", "cancelled", "pruned")
        with self.transaction() as conn:
            keep = []
            for entry in entries:
                row = conn.execute("SELECT status, ended FROM runs WHERE id = ?", (entry.run_id,)).fetchone()
                beat = entry.meta.get("heartbeat")
                when = beat.get("time") if isinstance(beat, Mapping) else None
                resumed = isinstance(when, (int, float)) and row is not None and (row[1] is None or when > row[1])
                if row is None or row[0] not in final or entry.meta.get("status") in final or resumed:
                    keep.append(entry)
            self._write(conn, keep)

    def update_progress(self, run_id: str, heartbeat: Mapping[str, Any], summaries: Mapping[str, Any] | None) -> None:
        """Record a heartbeat and, when given, the metric summaries so far."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET heartbeat = ?, pid = ?, host = ? WHERE id = ?",
                (heartbeat.get("time"), heartbeat.get("pid"), heartbeat.get("host"), run_id),
            )
            if summaries is not None:
                text = dumps_light({k: summary_json(v) for k, v in summaries.items()}, indent=False).decode()
                conn.execute("UPDATE runs SET metrics = ? WHERE id = ?", (text, run_id))
                conn.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
                conn.executemany(_INSERT_METRIC, _metric_rows(run_id, summaries))

    def delete(self, run_ids: Iterable[str]) -> None:
        """Remove runs from the index (their folders are not touched)."""
        ids = [(i,) for i in run_ids]
        with self.transaction() as conn:
            for table, col in (("runs", "id"), ("params", "run_id"), ("tags", "run_id"), ("metrics", "run_id")):
                conn.executemany(f"DELETE FROM {table} WHERE {col} = ?", ids)

    # -- rebuilding in chunks -----------------------------------------------------------
    @contextmanager
    def bulk(self) -> Iterator[None]:
        """For a rebuild: a larger page cache (kept between its transactions) and fewer WAL
        checkpoints, so that chunk after chunk does not re-read and re-write the same pages."""
        with self._lock:
            conn = self.conn
            conn.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {_BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            with self._lock:
                if self._conn is not None:
                    self._conn.execute("PRAGMA cache_size = -2000")
                    self._conn.execute("PRAGMA wal_autocheckpoint = 1000")

    def write_chunk(
        self, entries: Iterable[IndexEntry], refresh: Callable[[IndexEntry], IndexEntry | None]
    ) -> list[IndexEntry]:
        """Write one chunk of a rebuild in one short write transaction; returns what was written.

        Under the write lock, ``refresh(entry)`` is called for every entry: it returns the
        entry, a fresh one when the folder changed since it was read (a writer updates the
        folder first and the index second, so whatever it wrote before the lock is seen),
        or None when the folder is gone.
        """
        with self.transaction() as conn:
            written = [e for e in (refresh(entry) for entry in entries) if e is not None]
            self._write(conn, written)
        return written

    def finish_rebuild(
        self, seen: Mapping[str, str], check: Callable[[str, str], IndexEntry | None]
    ) -> tuple[set[str], set[str], int]:
        """End a rebuild: rows the scan did not see are checked with ``check(id, folder)``
        (a run created while the scan ran is kept, one whose folder is gone is removed).

        The rows are listed before the write lock is taken (a row added after that is a
        new run, kept anyway); under the lock only the unseen ones are checked.

        Returns:
            The IDs removed, the unseen IDs kept, and the number of runs in the index now.
        """
        unseen = [(rid, folder) for rid, folder in self.execute("SELECT id, folder FROM runs") if rid not in seen]
        with self.transaction() as conn:
            removed: set[str] = set()
            kept: list[IndexEntry] = []
            for rid, folder in unseen:
                entry = check(rid, folder)
                if entry is None:
                    removed.add(rid)
                else:
                    kept.append(entry)
            ids = [(i,) for i in removed]
            for table, col in (("runs", "id"), ("params", "run_id"), ("tags", "run_id"), ("metrics", "run_id")):
                conn.executemany(f"DELETE FROM {table} WHERE {col} = ?", ids)
            self._write(conn, kept)
            conn.execute("DELETE FROM meta WHERE key = 'needs_rebuild'")
            count = int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
        return removed, {e.run_id for e in kept}, count

    # -- reads ------------------------------------------------------------------------
    def execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def count(self) -> int:
        return int(self.execute("SELECT count(*) FROM runs")[0][0])

    def has(self, run_id: str) -> bool:
        return bool(self.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)))

    def find(self, ref: str) -> list[tuple[str, str | None, str]]:
        """Runs whose ID equals ``ref``, else whose name equals it, else whose ID starts with it:
        ``(id, name, folder)``. A name wins over an ID prefix, as in docker: ``d0`` is the run named
        ``d0`` even when another run's ID happens to start with ``d0``."""
        exact = self.execute("SELECT id, name, folder FROM runs WHERE id = ?", (ref,))
        if exact:
            return exact  # type: ignore[return-value]
        named = self.execute("SELECT id, name, folder FROM runs WHERE name = ? ORDER BY created", (ref,))
        if named or not ref or any(c not in "0123456789abcdef" for c in ref.lower()):
            return named  # type: ignore[return-value]
        lo = ref.lower()
        return self.execute(  # type: ignore[return-value]
            "SELECT id, name, folder FROM runs WHERE id >= ? AND id < ? ORDER BY created", (lo, lo + "g")
        )
