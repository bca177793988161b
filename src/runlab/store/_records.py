"""Read-only views of runs: :class:`RunRecord`, :class:`RunSet` and :class:`MetricSummary`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ._files import loads, read_json
from ._index import effective_status
from ._metrics_file import MetricSeries, ReadReport, read_metrics

if TYPE_CHECKING:
    import pandas

__all__ = ["MetricSummary", "RunRecord", "RunSet"]

_SUMMARY_FIELDS = ("last", "min", "max", "count", "step")


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


class RunRecord(_Frozen):
    """A frozen snapshot of one run as the store knows it.

    Records come from :func:`runlab.runs` and :func:`runlab.load`. Scalar fields are read
    from the index; ``data``, ``artifacts``, ``metadata`` and ``metrics()`` read the run's
    folder when asked.

    Example:
        >>> import runlab, tempfile
        >>> root = tempfile.mkdtemp()
        >>> with runlab.start_run(params={"lr": 0.1}, root=root, capture=False) as run:
        ...     run.log_metric("loss", 0.5)
        >>> rec = runlab.load(run.id, root=root)
        >>> rec.status, rec.params["lr"], rec.summaries["loss"].last
        ('completed', 0.1, 0.5)
        >>> rec.metrics("loss").values
        [0.5]
    """

    __slots__ = (
        "created",
        "description",
        "duration",
        "ended",
        "error",
        "experiment",
        "id",
        "name",
        "namespace",
        "params",
        "parent",
        "path",
        "started",
        "status",
        "study",
        "summaries",
        "sweep",
        "tags",
    )  # fmt: skip
    id: str
    name: str | None
    namespace: str
    experiment: str | None
    status: str
    created: datetime | None
    started: datetime | None
    ended: datetime | None
    duration: float | None
    params: Mapping[str, Any]
    tags: tuple[str, ...]
    summaries: Mapping[str, MetricSummary]
    description: str | None
    error: str | None
    sweep: str | None
    study: str | None
    parent: str | None
    path: Path

    @classmethod
    def from_row(cls, row: Sequence[Any], root: Path) -> RunRecord:
        """Build a record from a ``runs`` row (columns in ``RUN_COLUMNS`` order)."""
        (rid, name, namespace, experiment, status, created, started, ended, duration, heartbeat, pid, host,
         folder, description, error, sweep, study, parent, params, tags, metrics) = row  # fmt: skip
        summaries = loads(metrics) if metrics else {}
        return cls(
            id=rid,
            name=name,
            namespace=namespace,
            experiment=experiment,
            status=effective_status(status, pid, host, heartbeat),
            created=_dt(created),
            started=_dt(started),
            ended=_dt(ended),
            duration=duration,
            params=loads(params) if params else {},
            tags=tuple(loads(tags)) if tags else (),
            summaries={k: MetricSummary(**{f: v.get(f) for f in _SUMMARY_FIELDS}) for k, v in summaries.items()},
            description=description,
            error=error,
            sweep=sweep,
            study=study,
            parent=parent,
            path=root / folder,
        )

    @property
    def metadata(self) -> dict[str, Any]:
        """The full ``run.json``: git, environment, error traceback, links and more."""
        return read_json(self.path / "run.json")  # type: ignore[no-any-return]

    @property
    def data(self) -> dict[str, Any]:
        """The run's user data (``data.json``) as nested dicts."""
        try:
            return read_json(self.path / "data.json")  # type: ignore[no-any-return]
        except FileNotFoundError:
            return {}

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
        """
        series, _ = read_metrics(self.path / "metrics.jsonl", None if name is None else [name])
        if name is None:
            return series
        if name not in series:
            from ..errors import MetricNotFoundError

            raise MetricNotFoundError(
                f"Run {self.id} has no metric {name!r}; it has: {', '.join(self.summaries) or 'none'}."
            )
        return series[name]

    def metrics_report(self) -> ReadReport:
        """What reading ``metrics.jsonl`` skipped (torn lines after a crash)."""
        return read_metrics(self.path / "metrics.jsonl")[1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the record."""
        out: dict[str, Any] = {}
        for f in self.__slots__:
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

    __slots__ = ("_records", "_root", "_rows")

    def __init__(self, rows: Sequence[Sequence[Any]], root: Path) -> None:
        self._rows = rows
        self._root = root
        self._records: list[RunRecord | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def _get(self, i: int) -> RunRecord:
        record = self._records[i]
        if record is None:
            record = self._records[i] = RunRecord.from_row(self._rows[i], self._root)
        return record

    @overload
    def __getitem__(self, i: int) -> RunRecord: ...
    @overload
    def __getitem__(self, i: slice) -> RunSet: ...
    def __getitem__(self, i: int | slice) -> RunRecord | RunSet:
        if isinstance(i, slice):
            return RunSet(self._rows[i], self._root)
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
