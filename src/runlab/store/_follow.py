"""Following a live run's ``metrics.jsonl``: read only what was appended since the last look.

The writer appends whole lines (one batch of one metric per line), so a reader that keeps
its byte offset and holds back an unfinished last line sees every point exactly once.
``runlab watch`` and ``runlab metrics ID NAME --follow`` are built on :class:`MetricsTail`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ._metrics_file import MetricSeries, _needles, parse_lines

__all__ = ["MetricsTail"]

_READ_LIMIT = 64 * 2**20  # at most this much per poll, so a huge file is caught up in steps


class MetricsTail:
    """New points of a ``metrics.jsonl`` since the previous :meth:`poll`.

    Args:
        path: the run's ``metrics.jsonl`` (it may not exist yet).
        names: only these metrics (None: all); other metrics' lines are skipped unparsed.
        times: False leaves each series' ``times`` empty (charts need only steps and values).

    Example:
        >>> import runlab, tempfile
        >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
        ...     run.log_metric("loss", 0.5)
        >>> tail = MetricsTail(run.path / "metrics.jsonl")
        >>> {name: s.values for name, s in tail.poll().items()}
        {'loss': [0.5]}
        >>> tail.poll()
        {}
    """

    def __init__(self, path: Path, names: Iterable[str] | None = None, *, times: bool = True) -> None:
        self.path = path
        self.names = set(names) if names is not None else None
        self.times = times
        self._needles = _needles(self.names)
        self.offset = 0
        self.skipped = 0  # unreadable complete lines seen (a damaged file)
        self.error: str | None = None  # why the file could not be read at the last poll (it is not a file ...)

    def poll(self) -> dict[str, MetricSeries]:
        """The points appended since the last call, by metric name (in order of appearance)."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                raw = handle.read(_READ_LIMIT)
        except FileNotFoundError:
            return {}
        except OSError as exc:  # a folder or an unreadable file in its place: nothing to follow
            self.error = f"{type(exc).__name__}: {exc}"
            return {}
        end = raw.rfind(b"\n")
        if end < 0:
            return {}  # nothing, or a line still being written
        self.offset += end + 1
        skipped: list[tuple[int, str]] = []
        self.error = None
        out = parse_lines(raw[:end], self.names, self._needles, self.times, skipped)
        self.skipped += len(skipped)
        return out
