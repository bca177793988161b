"""Metric buffering: points queue in memory and a flusher appends them to ``metrics.jsonl``.

The hot path (:meth:`runlab.Run.log_metric`) only extends a flat list with
``(name, step, value, time)``; ``step`` is None when the caller gave none. Everything
else happens on the flusher: steps are numbered (in bulk when possible), points are
grouped per metric, encoded and appended, and the summaries are updated.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..errors import MetricError
from ..store._metrics_file import encode_batch, merge_summary, summarize
from ..store._text import valid_unicode
from ._values import INT64_MAX, INT64_MIN, safe_repr

__all__ = ["MAX_STEP", "MetricBuffer", "check_metric_name", "coerce_metric_value", "coerce_step"]

_FIELDS = 4  # name, step, value, time


def check_metric_name(name: object) -> str:
    """``name`` if it can name a metric (checked once per new name); else a :class:`MetricError`.

    A name is a non-empty string without surrounding blanks or control characters (NUL, line
    breaks, tabs, escapes), so it prints, filters and round-trips through every file as given.
    """
    if not isinstance(name, str) or not name.strip():
        raise MetricError(f"Invalid metric name {safe_repr(name)}: expected a non-empty string such as 'train/loss'.")
    if name != name.strip():
        raise MetricError(f"Invalid metric name {name!r}: it starts or ends with blanks; write {name.strip()!r}.")
    if not valid_unicode(name):
        raise MetricError(f"Invalid metric name {name!r}: it holds lone surrogates, which are not valid Unicode; "
                          "remove them.")  # fmt: skip
    if any(ch < " " or ch == "\x7f" for ch in name):
        raise MetricError(
            f"Invalid metric name {name!r}: control characters (NUL, line breaks, tabs, escapes) are not "
            "allowed; use a name such as 'train/loss'."
        )
    return name


def coerce_metric_value(name: str, value: object) -> float | int:
    """Accept bools, numpy scalars and anything with ``__float__``; refuse the rest.

    Metric values are real numbers stored as JSON numbers: an integer that does not fit in
    64 bits becomes a float (``10**30`` -> ``1e30``); one beyond the float range is refused.
    """
    if isinstance(value, (bool, int, float)):
        if isinstance(value, bool):
            return int(value)
        if value.__class__ is not int and isinstance(value, int):
            value = int(value)  # IntEnum and other int subclasses
        return _bounded(name, value) if isinstance(value, int) else float(value)
    item = getattr(value, "item", None)  # numpy / torch scalars
    if callable(item):
        try:
            out = item()
        except (TypeError, ValueError):
            out = None
        if isinstance(out, bool):
            return int(out)
        if isinstance(out, (int, float)):
            return _bounded(name, out) if isinstance(out, int) else out
    if isinstance(value, (str, bytes)) or not hasattr(value, "__float__"):
        raise MetricError(
            f"Invalid value for metric {name!r}: {safe_repr(value)} is not a number. Log numbers with log_metric; "
            "store other values with run.data[...] or as an artifact."
        )
    return float(value)  # type: ignore[arg-type]


def _bounded(name: str, value: int) -> float | int:
    if INT64_MIN <= value <= INT64_MAX:
        return value
    try:
        return float(value)
    except OverflowError:
        raise MetricError(
            f"Invalid value for metric {name!r}: an integer of {len(str(abs(value)))} digits is beyond the range "
            "of a float (about 1.8e308). Log a smaller number (a logarithm, for example)."
        ) from None


#: The largest step: the next automatic step (``step + 1``) must still fit in 64 bits.
MAX_STEP = INT64_MAX - 1


def coerce_step(step: object) -> int:
    """A step as an ``int`` that fits in 64 bits (numpy integers accepted); refuse the rest."""
    if isinstance(step, bool) or not isinstance(step, int):
        item = getattr(step, "item", None)
        out = item() if callable(item) else None
        if isinstance(out, bool) or not isinstance(out, int):
            raise MetricError(f"Invalid step {safe_repr(step)}: expected a whole number (0, 1, 2, ...).")
        step = out
    if not INT64_MIN <= step <= MAX_STEP:
        raise MetricError(
            f"Invalid step {step}: steps must fit in 64 bits ({INT64_MIN} to {MAX_STEP}). "
            "Use a smaller step, such as a counter of iterations."
        )
    return int(step)


def _group(
    names: list[str], steps: list[Any], values: list[Any], times: list[float]
) -> list[tuple[str, Any, Any, Any]]:
    """Split parallel point lists per metric name, keeping each metric's order.

    Fast paths: one name (nothing to split), and names repeating with a fixed period, the
    pattern of ``log_metrics({...})`` in a loop (strided slices). Otherwise one pass builds
    index lists. Every path costs O(points), whatever the number of names.
    """
    first = names[0]
    n = len(names)
    if names.count(first) == n:
        return [(first, steps, values, times)]
    distinct = list(dict.fromkeys(names))
    p = len(distinct)
    if names[:p] == distinct and names[p:] == names[:-p]:  # a partial last cycle is fine
        return [(name, steps[j::p], values[j::p], times[j::p]) for j, name in enumerate(distinct)]
    where: dict[str, list[int]] = {name: [] for name in distinct}
    for i, name in enumerate(names):
        where[name].append(i)
    out = []
    for name, idx in where.items():
        pick = itemgetter(*idx)
        if len(idx) == 1:
            out.append((name, [steps[idx[0]]], [values[idx[0]]], [times[idx[0]]]))
        else:
            out.append((name, list(pick(steps)), list(pick(values)), list(pick(times))))
    return out


class MetricBuffer:
    """Points waiting to be written, and the summary of each metric so far.

    ``push`` (a bound ``list.extend``) is safe from any thread and costs one call.
    :meth:`flush` takes the first ``n`` items with a slice and a ``del`` of that slice,
    each atomic, so points pushed meanwhile stay queued for the next flush.
    """

    def __init__(self, path: Path, on_batch: Callable[[dict[str, int]], None] | None = None) -> None:
        self.path = path
        self._queue: list[Any] = []
        self.push = self._queue.extend
        self.names: set[str] = set()
        self.next_step: dict[str, int] = {}
        self.summaries: dict[str, dict[str, Any]] = {}
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._on_batch = on_batch
        self._unreported: dict[str, int] = {}  # counts written by flush(notify=False), reported later

    def add_name(self, name: object) -> None:
        """Validate a metric name the first time it is seen."""
        self.names.add(check_metric_name(name))

    def _number_steps(self, name: str, steps: list[Any]) -> list[int] | range:
        start = self.next_step.get(name, 0)
        n = len(steps)
        if steps.count(None) == n:
            self.next_step[name] = start + n
            return range(start, start + n)
        out = []
        for step in steps:
            if step is None:
                step = start
            out.append(step)
            start = step + 1
        self.next_step[name] = start
        return out

    def flush(self, notify: bool = True) -> int:
        """Write what is queued; return the number of points written.

        ``notify=False`` (a flush from the logging thread) writes but leaves the ``on_batch``
        call to the next notifying flush, which reports both batches' counts together; so
        listeners are called from the writer thread (or the finishing one), never from the
        caller's logging loop.
        """
        with self._lock:
            size = self._write()
            if not notify:
                return size
            counts, self._unreported = self._unreported, {}
        if counts and self._on_batch is not None:
            self._on_batch(counts)
        return size

    def _write(self) -> int:
        """Append the queued points (the lock is held); their counts join ``_unreported``."""
        queue = self._queue
        size = len(queue) - len(queue) % _FIELDS
        if not size:
            return 0
        chunk = queue[:size]
        del queue[:size]
        names = chunk[0::_FIELDS]
        steps = chunk[1::_FIELDS]
        values = chunk[2::_FIELDS]
        times = chunk[3::_FIELDS]
        del chunk
        groups = _group(names, steps, values, times)
        lines = []
        counts = self._unreported
        for name, group_steps, group_values, group_times in groups:
            numbered = self._number_steps(name, group_steps)
            lines.append(encode_batch(name, numbered, group_values, group_times))
            self.summaries[name] = merge_summary(self.summaries.get(name), summarize(numbered, group_values))
            counts[name] = counts.get(name, 0) + len(group_values)
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        view = memoryview(b"".join(lines))
        while view:
            view = view[os.write(self._fd, view) :]
        return size // _FIELDS

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
