"""Metric buffering: points queue in memory and a flusher appends them to ``metrics.jsonl``."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import MetricError
from ..store._metrics_file import encode_batch, merge_summary, summarize

__all__ = ["MetricBuffer", "check_metric_name", "coerce_metric_value", "coerce_step", "NUMBER_TYPES"]

NUMBER_TYPES = frozenset({int, float})


def check_metric_name(name: object) -> str:
    if not isinstance(name, str) or not name or name != name.strip() or "\n" in name:
        raise MetricError(f"Invalid metric name {name!r}: expected a non-empty string such as 'train/loss'.")
    return name


def coerce_metric_value(name: str, value: object) -> float | int:
    """Accept bools, numpy scalars and anything with ``__float__``; refuse the rest."""
    if isinstance(value, (bool, int, float)):
        return int(value) if isinstance(value, bool) else value  # type: ignore[return-value]
    item = getattr(value, "item", None)  # numpy / torch scalars
    if callable(item):
        try:
            out = item()
        except (TypeError, ValueError):
            out = None
        if isinstance(out, (int, float)):
            return out
    if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
        raise MetricError(
            f"Invalid value for metric {name!r}: {value!r} is not a number. Log numbers with log_metric; "
            "store other values with run.data[...] or as an artifact."
        )
    return float(value)  # type: ignore[arg-type]


def coerce_step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, int):
        item = getattr(step, "item", None)
        if callable(item) and isinstance(item(), int):
            return int(item())
        raise MetricError(f"Invalid step {step!r}: expected a whole number (0, 1, 2, ...).")
    return step


class MetricBuffer:
    """Points waiting to be written, and the summary of each metric so far.

    ``append`` is thread-safe (a deque) and cheap; :meth:`flush` runs on the run's
    background thread (and once at finish) and appends one line per metric.
    """

    def __init__(self, path: Path, on_batch: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.path = path
        self._queue: deque[tuple[str, int, Any, float]] = deque()
        self.append = self._queue.append
        self.next_step: dict[str, int] = {}
        self.summaries: dict[str, dict[str, Any]] = {}
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._on_batch = on_batch

    def flush(self) -> int:
        """Write what is queued; return the number of points written."""
        with self._lock:
            queue = self._queue
            n = len(queue)
            if not n:
                return 0
            pop = queue.popleft
            items = [pop() for _ in range(n)]
            first = items[0][0]
            groups: dict[str, list[tuple[str, int, Any, float]]]
            if items[-1][0] == first and all(it[0] == first for it in items):
                groups = {first: items}
            else:
                groups = {}
                for it in items:
                    group = groups.get(it[0])
                    if group is None:
                        group = groups[it[0]] = []
                    group.append(it)
            lines = []
            for name, group in groups.items():
                _, steps, values, times = zip(*group, strict=True)
                values_list = list(values)
                lines.append(encode_batch(name, steps, values_list, times))
                self.summaries[name] = merge_summary(self.summaries.get(name), summarize(steps, values_list))
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            data = b"".join(lines)
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        if self._on_batch is not None:
            self._on_batch({name: len(group) for name, group in groups.items()})
        return n

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
