"""Metric series the UI has read, kept in memory and brought up to date by reading only what was appended.

``metrics.jsonl`` is append-only, so a series read once stays valid: the next request reads
the bytes added since (:class:`~runlab.store._follow.MetricsTail`), which makes a live run's
chart refresh, a zoom and a second visit of the compare page cost almost nothing. A file
that shrank or was replaced (another inode) is read again from the start. The cache holds
at most :data:`BUDGET_POINTS` points (least recently used first out); nothing is written
anywhere.

Example:
    >>> import runlab, tempfile
    >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
    ...     run.log_metrics({"loss": 0.5, "acc": 0.1})
    >>> cache = SeriesCache()
    >>> cache.get(run.path / "metrics.jsonl", ["loss"])
    {'loss': ([0], [0.5])}
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from stat import S_ISREG

from ..store._follow import MetricsTail

__all__ = ["BUDGET_POINTS", "SERIES", "SeriesCache"]

#: Points (all series together) kept in memory: about 70 bytes each.
BUDGET_POINTS = 3_000_000

Series = tuple[list[int], list[float]]


class _Entry:
    __slots__ = ("inode", "lock", "points", "series", "tail")

    def __init__(self, path: Path, names: Sequence[str], inode: int) -> None:
        self.tail = MetricsTail(path, names, times=False)
        self.inode = inode
        self.series: dict[str, Series] = {}
        self.points = 0
        self.lock = threading.Lock()

    def catch_up(self, size: int) -> int:
        """Read what was appended up to ``size`` bytes; returns the points added."""
        added = 0
        while self.tail.offset < size:
            before = self.tail.offset
            for name, new in self.tail.poll().items():
                steps, values = self.series.setdefault(name, ([], []))
                steps.extend(new.steps)
                values.extend(new.values)
                added += len(new.steps)
            if self.tail.offset == before:  # an unfinished last line: the rest comes later
                break
        self.points += added
        return added


class SeriesCache:
    """Steps and values of metrics by file, read incrementally; safe to share between threads.

    Args:
        budget: the most points kept (entries used least recently are dropped first).
    """

    def __init__(self, budget: int = BUDGET_POINTS) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple[str, tuple[str, ...]], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path, names: Sequence[str]) -> dict[str, Series]:
        """The series ``names`` of ``path`` (a ``metrics.jsonl``) as they are now; missing ones are left out.

        The lists returned are copies, so a request never sees a series grow under it.
        """
        key = (str(path), tuple(sorted(set(names))))
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            stat = None
        if stat is None or not S_ISREG(stat.st_mode):  # missing, or a folder in its place: no series
            with self._lock:
                self._entries.pop(key, None)
            return {}
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or stat.st_ino != entry.inode or stat.st_size < entry.tail.offset:
                entry = _Entry(path, key[1], stat.st_ino)  # new, replaced or shrunk: read from the start
                self._entries[key] = entry
            self._entries.move_to_end(key)
        with entry.lock:
            entry.catch_up(stat.st_size)
            result = {n: (entry.series[n][0][:], entry.series[n][1][:]) for n in names if n in entry.series}
        self._evict()
        return result

    def _evict(self) -> None:
        with self._lock:
            total = sum(e.points for e in self._entries.values())
            while total > self.budget and len(self._entries) > 1:
                _, old = self._entries.popitem(last=False)
                total -= old.points

    def clear(self) -> None:
        """Forget every series."""
        with self._lock:
            self._entries.clear()


#: The UI's cache (one per process).
SERIES = SeriesCache()
