"""One run as the index holds it: :class:`IndexEntry` and the rows made from it.

The values are checked once, here, where a run's ``run.json`` enters the index
(:func:`~runlab.store._runfile.meta_fields`); a run with problems gets the status
``damaged`` and the problem text, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ._files import dumps_light
from ._metrics_file import summary_json, summary_values
from ._runfile import DAMAGED, meta_fields

__all__ = ["IndexEntry", "flatten_params", "param_values", "run_row"]

_INT64 = 2**63


def _index_value(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str)):
        if isinstance(value, float) and value != value:
            return None  # NaN: SQLite has no such number (an infinity it keeps)
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
        given = self.meta.get("namespace")
        namespace = f["namespace"] if isinstance(given, str) and given else _folder_namespace(self.folder)
        row = (
            rid, f["name"], namespace, f["experiment"], DAMAGED if problems else f["status"], f["created"],
            f["started"], f["ended"], f["duration"], f["heartbeat"], f["pid"], f["host"], self.folder,
            f["description"], f["error"], f["sweep"], f["study"], f["parent"], "; ".join(problems) or None,
            dumps_light(f["params"], indent=False).decode(), dumps_light(f["tags"], indent=False).decode(),
            dumps_light({k: summary_json(v) for k, v in summaries.items()}, indent=False).decode()
            if self.summaries is not None
            else None,
        )  # fmt: skip
        params = [(rid, k, v) for k, v in flatten_params(f["params"])]
        tags = [(rid, t) for t in dict.fromkeys(f["tags"])]
        return row, params, tags, _metric_rows(rid, summaries)


def _metric_rows(run_id: str, summaries: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for name, summary in summaries.items():
        s = summary_values(summary)  # an infinity is a number for the index (metrics.loss.max > 1e300)
        values = [_index_value(s.get(key)) for key in ("last", "min", "max", "count", "step")]
        rows.append((run_id, name, *values))
    return rows


def _folder_namespace(folder: str) -> str:
    """The namespace a run folder's place says (``mnist/2026-..._id`` -> ``mnist``), for a record that
    does not say it (a damaged ``run.json``).

    Example:
        >>> _folder_namespace("cifar10/resnet/2026-01-01_00-00-00_0badc0de"), _folder_namespace("x")
        ('cifar10/resnet', 'default')
    """
    return folder.rpartition("/")[0] or "default"


def run_row(meta: Mapping[str, Any], folder: str, summaries: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """The ``runs`` row of a run (columns in ``RUN_COLUMNS`` order)."""
    return IndexEntry.of(meta, folder, summaries if summaries is not None else {}).rows()[0]
