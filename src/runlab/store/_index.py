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

from ..errors import StorageError
from ._files import dumps_light
from ._runfile import DAMAGED, meta_fields

__all__ = ["SCHEMA_VERSION", "Index", "IndexEntry", "effective_status", "flatten_params", "param_values", "run_row"]

SCHEMA_VERSION = "3"

#: Seconds after which a heartbeat from another host counts as stale (the run crashed).
STALE_REMOTE = float(os.environ.get("RUNLAB_STALE_AFTER", "60"))
#: On this host a dead pid is decisive; a live pid with a heartbeat this old was reused.
STALE_LOCAL = 600.0

_HOST = os.uname().nodename

#: SQL for the status a query reports (``running`` becomes ``crashed`` when the process is gone).
STATUS_SQL = "(CASE WHEN r.status = 'running' THEN runlab_status(r.pid, r.host, r.heartbeat) ELSE r.status END)"

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

_INT64 = 2**63


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
    """The status a query reports: ``running`` becomes ``crashed`` when the process is gone.

    On this host a dead pid decides at once; elsewhere the heartbeat must be older than
    ``RUNLAB_STALE_AFTER`` seconds (60 by default).
    """
    if status != "running":
        return status
    age = time.time() - heartbeat if heartbeat else math.inf
    if host == _HOST and pid:
        if not _pid_alive(pid):
            return "crashed"
        return "crashed" if age > STALE_LOCAL else "running"
    return "crashed" if age > STALE_REMOTE else "running"


def _sql_status(pid: int | None, host: str | None, heartbeat: float | None) -> str:
    return effective_status("running", pid, host, heartbeat)


def _index_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, int) and not -_INT64 <= value < _INT64:
            return str(value)  # SQLite integers are 64-bit: a larger one is kept as its digits
        return value  # bool is an int subclass: stored as 0/1
    return dumps_light(value, indent=False, sort_keys=True).decode()


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(key, index value)`` for every parameter; nested dicts also as dotted keys."""
    for key, value in params.items():
        full = f"{prefix}{key}"
        yield full, _index_value(value)
        if isinstance(value, Mapping) and value:
            yield from flatten_params(value, prefix=f"{full}.")


def param_values(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameter values from ``run.json``'s param records (``{name: {"value": ..., "type": ...}}``)."""
    return {k: v["value"] if isinstance(v, Mapping) and "value" in v else v for k, v in (params or {}).items()}


class IndexEntry:
    """What the index holds of one run folder, checked once where it is read.

    Attributes:
        run_id: the run's ID (from ``run.json``, or derived from the folder when unreadable).
        meta: the ``run.json`` object (``{}`` when unreadable).
        folder: the run folder relative to the store's root, POSIX style.
        summaries: metric summaries (``{name: {last, min, max, count, step}}``), or None to
            keep the metric rows the index has.
        problems: what is wrong with the run's files; non-empty means ``damaged``.
        stat: ``(mtime_ns, size)`` of ``run.json`` when read (None for a live writer's entry).
    """

    __slots__ = ("_fields", "_rows", "folder", "meta", "problems", "run_id", "stat", "summaries")

    def __init__(
        self,
        run_id: str,
        meta: Mapping[str, Any],
        folder: str,
        summaries: Mapping[str, Any] | None,
        problems: Sequence[str] = (),
        stat: tuple[int, int] | None = None,
    ) -> None:
        self.run_id = run_id
        self.meta = meta
        self.folder = folder
        self.summaries = summaries
        self.problems = list(problems)
        self.stat = stat
        self._fields: dict[str, Any] | None = None
        self._rows: Any = None

    def check(self) -> IndexEntry:
        """Check the fields of ``meta`` now (adding to ``problems``); returns the entry."""
        if self._fields is None:
            self._fields, problems = meta_fields(self.meta)
            self.problems += problems
        return self

    @classmethod
    def of(cls, meta: Mapping[str, Any], folder: str, summaries: Mapping[str, Any] | None = None) -> IndexEntry:
        """The entry of a run that a live process writes (its ``meta`` holds its ``id``)."""
        return cls(meta["id"], meta, folder, summaries)

    def rows(self) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """``(runs row, params rows, tags rows, metrics rows)``; the fields are checked here (once:
        a rebuild computes the rows before it takes the write lock)."""
        if self._rows is None:
            self._rows = self._make_rows()
        return self._rows  # type: ignore[no-any-return]

    def _make_rows(self) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        f = self.check()._fields
        assert f is not None
        problems = self.problems
        rid = self.run_id
        summaries = self.summaries or {}
        row = (
            rid, f["name"], f["namespace"], f["experiment"], DAMAGED if problems else f["status"], f["created"],
            f["started"], f["ended"], f["duration"], f["heartbeat"], f["pid"], f["host"], self.folder,
            f["description"], f["error"], f["sweep"], f["study"], f["parent"], "; ".join(problems) or None,
            dumps_light(f["params"], indent=False).decode(), dumps_light(f["tags"], indent=False).decode(),
            dumps_light(summaries, indent=False).decode() if self.summaries is not None else None,
        )  # fmt: skip
        params = [(rid, k, v) for k, v in flatten_params(f["params"])]
        tags = [(rid, t) for t in dict.fromkeys(f["tags"])]
        return row, params, tags, _metric_rows(rid, summaries)


def _metric_rows(run_id: str, summaries: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (run_id, name, _index_value(s.get("last")), _index_value(s.get("min")), _index_value(s.get("max")),
         _index_value(s.get("count")), _index_value(s.get("step")))
        for name, s in summaries.items()
    ]  # fmt: skip


def run_row(meta: Mapping[str, Any], folder: str, summaries: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """The ``runs`` row of a run (columns in ``RUN_COLUMNS`` order)."""
    return IndexEntry.of(meta, folder, summaries if summaries is not None else {}).rows()[0]


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
        conn.create_function("runlab_status", 3, _sql_status)
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

    def update_progress(self, run_id: str, heartbeat: Mapping[str, Any], summaries: Mapping[str, Any] | None) -> None:
        """Record a heartbeat and, when given, the metric summaries so far."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET heartbeat = ?, pid = ?, host = ? WHERE id = ?",
                (heartbeat.get("time"), heartbeat.get("pid"), heartbeat.get("host"), run_id),
            )
            if summaries is not None:
                conn.execute(
                    "UPDATE runs SET metrics = ? WHERE id = ?", (dumps_light(summaries, indent=False).decode(), run_id)
                )
                conn.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
                conn.executemany(_INSERT_METRIC, _metric_rows(run_id, summaries))

    def delete(self, run_ids: Iterable[str]) -> None:
        """Remove runs from the index (their folders are not touched)."""
        ids = [(i,) for i in run_ids]
        with self.transaction() as conn:
            for table, col in (("runs", "id"), ("params", "run_id"), ("tags", "run_id"), ("metrics", "run_id")):
                conn.executemany(f"DELETE FROM {table} WHERE {col} = ?", ids)

    # -- rebuilding in chunks -----------------------------------------------------------
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
    ) -> tuple[set[str], set[str]]:
        """End a rebuild: rows the scan did not see are checked with ``check(id, folder)``
        (a run created while the scan ran is kept, one whose folder is gone is removed).

        Returns:
            The IDs removed, and the IDs in the index now.
        """
        with self.transaction() as conn:
            unseen = [(rid, folder) for rid, folder in conn.execute("SELECT id, folder FROM runs") if rid not in seen]
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
            after = {row[0] for row in conn.execute("SELECT id FROM runs")}
        return removed, after

    # -- reads ------------------------------------------------------------------------
    def execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.conn.execute(sql, tuple(params)).fetchall()

    def count(self) -> int:
        return int(self.execute("SELECT count(*) FROM runs")[0][0])

    def has(self, run_id: str) -> bool:
        return bool(self.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)))

    def find(self, ref: str) -> list[tuple[str, str | None, str]]:
        """Runs whose ID equals or starts with ``ref``, else whose name equals it: ``(id, name, folder)``."""
        exact = self.execute("SELECT id, name, folder FROM runs WHERE id = ?", (ref,))
        if exact:
            return exact  # type: ignore[return-value]
        if ref and all(c in "0123456789abcdef" for c in ref.lower()):
            lo = ref.lower()
            rows = self.execute(
                "SELECT id, name, folder FROM runs WHERE id >= ? AND id < ? ORDER BY created", (lo, lo + "g")
            )
            if rows:
                return rows  # type: ignore[return-value]
        return self.execute("SELECT id, name, folder FROM runs WHERE name = ? ORDER BY created", (ref,))  # type: ignore[return-value]
