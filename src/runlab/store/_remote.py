"""Runs that write their folders only: markers, and indexing their folders when the store is read.

A run started with ``RUNLAB_INDEX_WRITES=0`` (on another host: SQLite locking is unsafe over NFS)
writes its folder, never the index. So that readers still see it while it runs, it also leaves a
marker, ``<root>/.runlab/unindexed/<run id>`` (the file holds the run's folder), from its creation
(and again when it is resumed) until a process that writes the index has indexed its final state.

Contract:
    * Every query of a store that writes the index (:meth:`Store.runs`, :meth:`Store.count`,
      :meth:`Store.resolve`) first calls :func:`reconcile`: the marked folders are read and their
      rows replaced, so a running run on another host shows up with its latest heartbeat and
      metric summaries (computed from ``metrics.jsonl``), and a finished one with its final record.
    * Cheap: one listing of a folder that is usually empty or small, then per marked run a stat
      of ``run.json`` and ``metrics.jsonl``; a folder is read again only when one of them changed,
      and then only the lines ``metrics.jsonl`` gained since (:class:`LiveSummaries`, kept by the
      ``Store`` object: a reader that lives on, such as the UI, reads a long run's file once).
    * A finished run's rows are never replaced by an unfinished state (a reader that read the
      folder before the run ended, writing after a reader that read its end).
    * A marker goes when the run's final record is indexed, when its folder is gone, or when the
      run crashed long ago (its heartbeat stopped :data:`~runlab.store._index.STALE_LOCAL` seconds
      before, or its pid on this host is dead: also a created run's creator); resuming the run marks it again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._files import atomic_write_bytes
from ._index import STALE_LOCAL, effective_status
from ._status import FINISHED, RunStatus

if TYPE_CHECKING:
    from ._store import Store

__all__ = ["MARKERS", "LiveSummaries", "index_folder", "mark_unindexed", "reconcile"]

#: The folder under ``<root>/.runlab`` that holds one marker per run the index may not know yet.
MARKERS = "unindexed"
_WRITTEN_FINAL = frozenset(s.value for s in FINISHED) - {RunStatus.CRASHED.value, RunStatus.DAMAGED.value}
_Stat = tuple[int, int, int]  # mtime_ns, size, inode


def mark_unindexed(store: Store, run_id: str, folder: Path) -> None:
    """Leave the marker of run ``run_id`` (its folder under ``store.root``), unless it is there."""
    marker = store.meta_dir / MARKERS / run_id
    if marker.exists():
        return
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(marker, folder.relative_to(store.root).as_posix().encode(), fsync=False)
    except OSError as exc:  # the run goes on: its folder is written, only live listing is lost
        import warnings

        from ._store import RunlabWarning

        warnings.warn(f"Cannot leave the marker {marker} ({exc}): readers list run {run_id} only once "
                      "the sweep's process or 'runlab index rebuild' indexes its folder.", RunlabWarning,
                      stacklevel=3)  # fmt: skip


def _stat(path: Path) -> _Stat | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def index_folder(store: Store, folder: Path, run_id: str | None = None, seen: dict[str, Any] | None = None) -> str:
    """Index one run folder written where the index was not; what became of its marker.

    Returns ``"gone"`` (no ``run.json``), ``"same"`` (``run_id``'s files did not change since
    ``seen`` recorded them: nothing read), ``"running"`` (indexed, marker kept) or ``"final"``
    (indexed, marker removed: the run finished, or crashed for good).
    """
    from ._rebuild import read_entry

    stats = (_stat(folder / "run.json"), _stat(folder / "metrics.jsonl"))
    if stats[0] is None:
        return "gone"
    known = seen.get(run_id) if seen is not None and run_id is not None else None
    if known is not None and known[0] == stats:
        status, beat = known[1], known[2]
    else:
        live = known[3] if known is not None else None
        entry = read_entry(store.root, folder, metrics=False)
        if entry is None:
            return "gone"
        if entry.problems:  # caught mid-write, or damaged: the next look (or a rebuild) takes it
            return "running"
        status = str(entry.meta.get("status"))
        if entry.summaries is None or status not in _WRITTEN_FINAL:  # from metrics.jsonl, as read_entry would
            metrics = stats[1]
            if live is None or not live.current(metrics):
                live = LiveSummaries(folder / "metrics.jsonl", metrics[2] if metrics is not None else None)
            entry.summaries = live.update()
        store._safe(lambda idx: idx.refresh([entry]))
        run_id = entry.run_id
        beat = entry.meta.get("heartbeat") if isinstance(entry.meta.get("heartbeat"), dict) else {}
        if seen is not None:
            seen[run_id] = (stats, status, beat, live)
    if status in _WRITTEN_FINAL or _crashed_for_good(status, beat):
        _drop(store.meta_dir / MARKERS / str(run_id))
        return "final"  # nobody writes the folder any more
    return "same" if known is not None and known[0] == stats else "running"


class LiveSummaries:
    """The metric summaries of a running run's ``metrics.jsonl``, brought up to date by reading only
    what was appended since (a reader that lives, such as the UI, reads a long run's file once).

    Example:
        >>> import runlab, tempfile
        >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
        ...     run.log_metric("loss", 0.5); run.log_metric("loss", 0.25)
        >>> live = LiveSummaries(run.path / "metrics.jsonl")
        >>> live.update()["loss"]["min"], live.update()["loss"]["count"]
        (0.25, 2)
    """

    def __init__(self, path: Path, inode: int | None = None) -> None:
        from ._follow import MetricsTail

        self.tail = MetricsTail(path, times=False)
        self.inode = inode if inode is not None else _inode(path)
        self.summaries: dict[str, dict[str, Any]] = {}

    def current(self, stat: _Stat | None = None) -> bool:
        """Whether the file is still the one read so far (not replaced, not shrunk); ``stat``: its
        :func:`_stat` when the caller has it."""
        if stat is None:
            stat = _stat(self.tail.path)
        if stat is None:
            return self.tail.offset == 0
        return (self.inode is None or stat[2] == self.inode) and stat[1] >= self.tail.offset

    def update(self) -> dict[str, dict[str, Any]]:
        """The summaries with every complete line appended since the last call."""
        from ._metrics_file import merge_summary, summarize

        if self.inode is None:
            self.inode = _inode(self.tail.path)
        while True:
            before = self.tail.offset
            for name, series in self.tail.poll().items():
                if series.steps:
                    batch = summarize(series.steps, series.values)
                    self.summaries[name] = merge_summary(self.summaries.get(name), batch)
            if self.tail.offset == before:
                return dict(self.summaries)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _crashed_for_good(status: str, beat: dict[str, Any]) -> bool:
    """A running (or created) run's process is gone: its pid on this host is dead, or its heartbeat
    stopped long ago."""
    when = beat.get("time") if isinstance(beat.get("time"), (int, float)) else None
    pid = beat.get("pid") if isinstance(beat.get("pid"), int) else None
    host = beat.get("host") if isinstance(beat.get("host"), str) else None
    if status not in (RunStatus.RUNNING.value, RunStatus.CREATED.value):
        return False
    if effective_status(status, pid, host, when) != RunStatus.CRASHED.value:
        return False
    return when is None or time.time() - when > STALE_LOCAL or host == os.uname().nodename


def reconcile(store: Store) -> int:
    """Index the folders of the marked runs (see the module's contract); how many were read."""
    markers = store.meta_dir / MARKERS
    try:
        names = [n for n in os.listdir(markers) if not n.startswith(".")]
    except OSError:  # no run wrote its folder only
        return 0
    read = 0
    for run_id in names:
        marker = markers / run_id
        try:
            rel = marker.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError:
            rel = ""  # damaged: not a folder name (the folder stays; 'runlab index rebuild' indexes it)
        except OSError:
            continue  # removed meanwhile by another reader
        if not _folder_name(rel):
            _drop(marker)
            continue
        outcome = index_folder(store, store.root / rel, run_id, store._unindexed_seen)
        read += outcome in ("running", "final")
        if outcome == "gone":
            _drop(marker)
        if outcome in ("gone", "final"):
            store._unindexed_seen.pop(run_id, None)
    return read


def _folder_name(rel: str) -> bool:
    """Whether a marker's text can name a run folder inside the store: relative, no ``..`` part, no NUL
    or other control character (a damaged marker must not break every query, nor point outside).

    Example:
        >>> _folder_name("default/2026-01-01_00-00-00_0badc0de"), _folder_name("a/../../etc"), _folder_name("a\\x00")
        (True, False, False)
    """
    return bool(rel) and not rel.startswith("/") and rel.isprintable() and ".." not in rel.split("/")


def _drop(marker: Path) -> None:
    try:
        marker.unlink()
    except OSError:
        pass
