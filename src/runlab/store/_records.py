"""Read-only views of runs: :class:`RunRecord`, :class:`RunSet` and :class:`MetricSummary`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ._files import loads
from ._index import RUN_COLUMNS, effective_status
from ._metrics_file import MetricSeries, ReadReport, read_metrics, summary_values
from ._runfile import read_data, read_json_file

if TYPE_CHECKING:
    import pandas

__all__ = ["FIELD_KINDS", "SUMMARY_FIELDS", "MetricSummary", "RunRecord", "RunSet"]

_SUMMARY_FIELDS = ("last", "min", "max", "count", "step")
#: The aggregates of a metric summary, ``last`` first (``metrics.X`` means ``metrics.X.last``).
SUMMARY_FIELDS = _SUMMARY_FIELDS

#: The plain fields of a run, in display order, with the kind a query treats them as (None:
#: not queryable). The one list of field names: queries, record attributes, CLI columns.
FIELD_KINDS: dict[str, str | None] = {
    "id": "text", "name": "text", "namespace": "text", "experiment": "text", "status": "status",
    "created": "time", "started": "time", "ended": "time", "duration": "number", "tags": "tags",
    "description": "text", "error": "text", "sweep": "text", "study": "text", "parent": "text",
    "problem": "text", "archived": None, "path": None,
}  # fmt: skip


class _Frozen:
    """Slotted, immutable, compared by value (a light stand-in for a frozen dataclass)."""

    __slots__: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash((type(self).__name__, getattr(self, self.__slots__[0])))

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__[:6])
        return f"{type(self).__name__}({shown}{', ...' if len(self.__slots__) > 6 else ''})"


class MetricSummary(_Frozen):
    """Summary of one metric of a run: last value, min, max, number of points, last step."""

    __slots__ = ("count", "last", "max", "min", "step")
    last: float | None
    min: float | None
    max: float | None
    count: int
    step: int | None


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value).astimezone()


_C = {name: i for i, name in enumerate(RUN_COLUMNS)}
_UNSET: Any = object()


class RunRecord:
    """A frozen snapshot of one run as the store knows it.

    Records come from :func:`runlab.runs` and :func:`runlab.load`. Scalar fields are read
    from the index row, and parsed (times, parameters, summaries) only when asked; ``data``,
    ``artifacts``, ``metadata`` and ``metrics()`` read the run's folder when asked.
    ``FIELDS`` lists the fields by name (the query vocabulary's plain fields).

    Example:
        >>> import runlab, tempfile
        >>> root = tempfile.mkdtemp()
        >>> with runlab.start_run(params={"lr": 0.1}, root=root, capture=False) as run:
        ...     run.log_metric("loss", 0.5)
        >>> rec = runlab.load(run.id, root=root)
        >>> rec.status, rec.params["lr"], rec.summaries["loss"].last, rec.archived
        ('completed', 0.1, 0.5, False)
        >>> rec.metrics("loss").values
        [0.5]
    """

    FIELDS: tuple[str, ...] = tuple(FIELD_KINDS)
    __slots__ = ("_archived", "_params", "_root", "_row", "_summaries", "_tags")
    _row: Sequence[Any]
    _root: Path
    _archived: bool
    _params: Any
    _tags: Any
    _summaries: Any

    def __init__(self, row: Sequence[Any], root: Path, archived: bool = False) -> None:
        object.__setattr__(self, "_row", row)
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_archived", archived)
        object.__setattr__(self, "_params", _UNSET)
        object.__setattr__(self, "_tags", _UNSET)
        object.__setattr__(self, "_summaries", _UNSET)

    @classmethod
    def from_row(cls, row: Sequence[Any], root: Path, archived: bool = False) -> RunRecord:
        """A record of a ``runs`` row (columns in ``RUN_COLUMNS`` order; folder relative to ``root``)."""
        return cls(row, root, archived)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, RunRecord)
        return (self._row, self._root, self._archived) == (other._row, other._root, other._archived)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._row[0]))

    def __repr__(self) -> str:
        return (
            f"RunRecord(id={self.id!r}, name={self.name!r}, namespace={self.namespace!r}, "
            f"experiment={self.experiment!r}, status={self.status!r}, created={self.created!r}, ...)"
        )

    @property
    def id(self) -> str:
        """The run's ID."""
        return self._row[0]  # type: ignore[no-any-return]

    @property
    def name(self) -> str | None:
        return self._row[1]  # type: ignore[no-any-return]

    @property
    def namespace(self) -> str:
        return self._row[2]  # type: ignore[no-any-return]

    @property
    def experiment(self) -> str | None:
        return self._row[3]  # type: ignore[no-any-return]

    @property
    def status(self) -> str:
        """The status a query reports (``crashed`` for a running run whose process is gone)."""
        row = self._row
        return effective_status(row[4], row[_C["pid"]], row[_C["host"]], row[_C["heartbeat"]])

    @property
    def created(self) -> datetime | None:
        return _dt(self._row[5])

    @property
    def started(self) -> datetime | None:
        return _dt(self._row[6])

    @property
    def ended(self) -> datetime | None:
        return _dt(self._row[7])

    @property
    def duration(self) -> float | None:
        return self._row[8]  # type: ignore[no-any-return]

    @property
    def description(self) -> str | None:
        return self._row[_C["description"]]  # type: ignore[no-any-return]

    @property
    def error(self) -> str | None:
        """The type of the exception a failed run ended with."""
        return self._row[_C["error"]]  # type: ignore[no-any-return]

    @property
    def sweep(self) -> str | None:
        return self._row[_C["sweep"]]  # type: ignore[no-any-return]

    @property
    def study(self) -> str | None:
        return self._row[_C["study"]]  # type: ignore[no-any-return]

    @property
    def parent(self) -> str | None:
        return self._row[_C["parent"]]  # type: ignore[no-any-return]

    @property
    def problem(self) -> str | None:
        """What is wrong with a ``damaged`` run's ``run.json`` (None when it is fine)."""
        return self._row[_C["problem"]]  # type: ignore[no-any-return]

    @property
    def archived(self) -> bool:
        """True for a run in the store's archive (``<root>/.archive``)."""
        return self._archived  # type: ignore[no-any-return]

    @property
    def path(self) -> Path:
        """The run's folder."""
        return self._root / self._row[_C["folder"]]  # type: ignore[no-any-return]

    @property
    def params(self) -> Mapping[str, Any]:
        """Parameter values by name."""
        if self._params is _UNSET:
            text = self._row[_C["params"]]
            object.__setattr__(self, "_params", loads(text) if text else {})
        return self._params  # type: ignore[no-any-return]

    @property
    def tags(self) -> tuple[str, ...]:
        if self._tags is _UNSET:
            text = self._row[_C["tags"]]
            object.__setattr__(self, "_tags", tuple(loads(text)) if text else ())
        return self._tags  # type: ignore[no-any-return]

    @property
    def summaries(self) -> Mapping[str, MetricSummary]:
        """Metric summaries by name (last, min, max, count, step)."""
        if self._summaries is _UNSET:
            text = self._row[_C["metrics"]]
            raw = loads(text) if text else {}
            value: dict[str, MetricSummary] = {}
            for name, summary in raw.items():
                values = summary_values(summary)  # NaN and the infinities as floats again
                value[name] = MetricSummary(**{f: values.get(f) for f in _SUMMARY_FIELDS})
            object.__setattr__(self, "_summaries", value)
        return self._summaries  # type: ignore[no-any-return]

    @property
    def metadata(self) -> dict[str, Any]:
        """The full ``run.json``: git, environment, error traceback, links and more.

        Raises:
            DamagedFileError: ``run.json`` is empty, not JSON or not an object (a field of the
                wrong type is returned as it is; :attr:`problem` describes it).
        """
        meta = read_json_file(self.path / "run.json", "record (run.json)", self.id)
        if not isinstance(meta, dict):
            from ..errors import DamagedFileError

            raise DamagedFileError(
                f"The record (run.json) of run {self.id} is damaged: {self.path / 'run.json'} holds "
                f"{type(meta).__name__}, expected an object.",
                str(self.path / "run.json"),
            )
        return meta

    @property
    def data(self) -> dict[str, Any]:
        """The run's user data (``data.json``) as nested dicts (``{}`` when it has none).

        Raises:
            DamagedFileError: ``data.json`` is empty, not JSON or not an object.
        """
        return read_data(self.path, self.id)

    @property
    def artifacts(self) -> list[str]:
        """Paths of the files under ``artifacts/``, relative to it, sorted."""
        base = self.path / "artifacts"
        if not base.is_dir():
            return []
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())

    def artifact(self, name: str) -> Path:
        """The path of one artifact (it must exist)."""
        path = self.path / "artifacts" / name
        if not path.exists():
            from ..errors import UsageError

            raise UsageError(f"Run {self.id} has no artifact {name!r}; it has: {', '.join(self.artifacts) or 'none'}.")
        return path

    @overload
    def metrics(self, name: str) -> MetricSeries: ...
    @overload
    def metrics(self, name: None = None) -> dict[str, MetricSeries]: ...
    def metrics(self, name: str | None = None) -> MetricSeries | dict[str, MetricSeries]:
        """The full history of metric ``name`` (steps, values, times), or of all metrics.

        Raises:
            MetricNotFoundError: the run never logged a metric of that name (a ``KeyError``).
            DamagedFileError: the metric cannot be read because ``metrics.jsonl`` is damaged
                (unreadable lines) or missing although the run logged it.
        """
        path = self.path / "metrics.jsonl"
        series, report = read_metrics(path, None if name is None else [name])
        if name is None:
            return series
        if name not in series:
            from ..errors import DamagedFileError, MetricNotFoundError

            logged = self.summaries
            if logged and name not in logged:
                raise MetricNotFoundError(f"Run {self.id} has no metric {name!r}; it has: {', '.join(logged)}.")
            if report.skipped:
                line, why = report.skipped[0]
                raise DamagedFileError(
                    f"Cannot read metric {name!r} of run {self.id}: {path} is damaged "
                    f"({len(report.skipped)} unreadable line{'s' if len(report.skipped) != 1 else ''}; "
                    f"line {line}: {why}). Restore it from a backup; 'runlab show {self.id}' shows the rest.",
                    str(path),
                )
            if name in logged:
                state = "empty" if path.exists() else "missing"
                raise DamagedFileError(
                    f"Cannot read metric {name!r} of run {self.id}: {path} is {state}, although the run "
                    f"logged {logged[name].count} points of it. Restore the file from a backup.",
                    str(path),
                )
            names = sorted(read_metrics(path)[0])
            raise MetricNotFoundError(f"Run {self.id} has no metric {name!r}; it has: {', '.join(names) or 'none'}.")
        return series[name]

    def metrics_report(self) -> ReadReport:
        """What reading ``metrics.jsonl`` skipped (torn lines after a crash)."""
        return read_metrics(self.path / "metrics.jsonl")[1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the record."""
        out: dict[str, Any] = {}
        for f in (*self.FIELDS, "params", "summaries"):
            value = getattr(self, f)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, Path):
                value = str(value)
            elif f == "summaries":
                value = {k: {s: getattr(v, s) for s in _SUMMARY_FIELDS} for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out[f] = value
        return out


class RunSet(Sequence[RunRecord]):
    """An ordered, read-only sequence of :class:`RunRecord` returned by :func:`runlab.runs`.

    Records are built from the index rows on first access.

    Example:
        >>> import runlab, tempfile
        >>> root = tempfile.mkdtemp()
        >>> for lr in (0.1, 0.01):
        ...     with runlab.start_run(params={"lr": lr}, root=root, capture=False) as run:
        ...         run.log_metric("loss", lr * 2)
        >>> rs = runlab.runs(where="params.lr < 0.05", root=root)
        >>> len(rs), rs[0].params["lr"]
        (1, 0.01)
        >>> list(rs.to_pandas().columns[:3])
        ['id', 'name', 'namespace']
    """

    __slots__ = ("_archived", "_records", "_root", "_rows")

    def __init__(self, rows: Sequence[Sequence[Any]], root: Path, archived: bool | None = False) -> None:
        """``rows`` in ``RUN_COLUMNS`` order, folders relative to ``root``; ``archived`` None:
        each row ends with an extra archived flag (0 or 1)."""
        self._rows = rows
        self._root = root
        self._archived = archived
        self._records: list[RunRecord | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def _get(self, i: int) -> RunRecord:
        record = self._records[i]
        if record is None:
            row = self._rows[i]
            archived = bool(row[-1]) if self._archived is None else self._archived
            record = self._records[i] = RunRecord(row, self._root, archived)
        return record

    @overload
    def __getitem__(self, i: int) -> RunRecord: ...
    @overload
    def __getitem__(self, i: slice) -> RunSet: ...
    def __getitem__(self, i: int | slice) -> RunRecord | RunSet:
        if isinstance(i, slice):
            return RunSet(self._rows[i], self._root, self._archived)
        if i < 0:
            i += len(self._rows)
        if not 0 <= i < len(self._rows):
            raise IndexError("RunSet index out of range")
        return self._get(i)

    def __iter__(self) -> Iterator[RunRecord]:
        for i in range(len(self._rows)):
            yield self._get(i)

    def __repr__(self) -> str:
        head = ", ".join(f"{r.id}:{r.status}" for r in self[:5])
        more = f", ... {len(self) - 5} more" if len(self) > 5 else ""
        return f"RunSet([{head}{more}])"

    @property
    def ids(self) -> list[str]:
        """The run IDs, in order."""
        return [row[0] for row in self._rows]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run: fixed columns, then ``params.X`` and ``metrics.X`` (last),
        ``metrics.X.min``, ``.max``, ``.count`` and ``.step`` columns (needs pandas).
        """
        import pandas as pd

        rows = []
        for rec in self:
            row: dict[str, Any] = {
                "id": rec.id, "name": rec.name, "namespace": rec.namespace, "experiment": rec.experiment,
                "status": rec.status, "created": rec.created, "started": rec.started, "ended": rec.ended,
                "duration": rec.duration, "tags": list(rec.tags), "description": rec.description,
                "path": str(rec.path),
            }  # fmt: skip
            for key, value in _flat(rec.params):
                row[f"params.{key}"] = value
            for key, s in rec.summaries.items():
                row[f"metrics.{key}"] = s.last
                row[f"metrics.{key}.min"] = s.min
                row[f"metrics.{key}.max"] = s.max
                row[f"metrics.{key}.count"] = s.count
                row[f"metrics.{key}.step"] = s.step
            rows.append(row)
        frame = pd.DataFrame(rows)
        if frame.empty:
            frame = pd.DataFrame(columns=["id", "name", "namespace", "experiment", "status", "created", "started",
                                          "ended", "duration", "tags", "description", "path"])  # fmt: skip
        return frame


def _flat(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
