"""What the UI's JSON API answers, built from the store's query API (no web framework here).

Each function takes a :class:`~runlab.store.Store` and validated arguments and returns
JSON-ready dicts. Bad input raises the store's own errors (``FilterError`` with its caret
line, ``RunNotFoundError``), which the app turns into 400 and 404 answers.

Example:
    >>> import runlab, tempfile
    >>> store = runlab.Store(tempfile.mkdtemp())
    >>> with runlab.start_run(params={"lr": 0.1}, root=store.root, capture=False) as run:
    ...     run.log_metric("loss", 0.5)
    >>> page = runs_page(store, columns=["params.lr", "metrics.loss"])
    >>> page["total"], page["runs"][0]["cells"]
    (1, [0.1, 0.5])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..cli._fields import check_field, field_value, flat
from ..errors import RunlabError, UsageError
from ..store import RunRecord, Store
from ..store._filter import compile_order
from ..store._metrics_file import number_text, summary_json
from ._cache import SERIES
from ._downsample import band, minmax_buckets, window
from ._files import artifact_listing, run_file

__all__ = [
    "DEFAULT_COLUMNS",
    "MAX_COMPARE",
    "compare",
    "field_names",
    "load_run",
    "metric_series",
    "run_details",
    "runs_page",
    "split_columns",
]

DEFAULT_COLUMNS = ("name", "status", "created", "duration")
MAX_COMPARE = 500
_MAX_DEFAULT_EXTRA = 12
_MANY_METRICS = 20
_LIVE = ("created", "running")


def _json_value(value: Any) -> Any:
    """``value`` as the API sends it: a NaN or an infinity as the text the run's files hold (``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``: JSON has no such numbers, and as ``null`` a diverged metric would
    read as a missing one), a date as ISO text, a tuple as a list.

    Example:
        >>> _json_value(float("nan")), _json_value((1.5, float("-inf"))), _json_value(None)
        ('NaN', [1.5, '-Infinity'], None)
    """
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return number_text(value)
    return value


def _json_values(values: list[float]) -> list[Any]:
    """:func:`_json_value` of each of a metric series' values (one pass in C when all are finite)."""
    try:
        if math.isfinite(sum(values)):
            return values
    except TypeError:
        pass
    return [_json_value(v) for v in values]


def split_columns(lists: Sequence[str] | None) -> list[str]:
    """Column names from comma-separated lists (``?columns=name,params.lr``, the older form of the
    address, for names without commas).

    Example:
        >>> split_columns(["name, params.lr", "metrics.acc"])
        ['name', 'params.lr', 'metrics.acc']
    """
    return [c.strip() for text in lists or () for c in text.split(",") if c.strip()]


def parse_columns(columns: Sequence[str] | None) -> list[str] | None:
    """Validate column names (``params.X``, ``metrics.X[.agg]`` or a base field; each name whole, so
    ``params.a,b`` is one column); None keeps the default."""
    if not columns:
        return None
    names = [c.strip() for c in columns if c.strip()]
    return [check_field(c) for c in names] or None


MAX_OFFSET = 2**63 - 1  # SQLite's largest integer


def runs_page(
    store: Store,
    where: str | None = None,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
    columns: Sequence[str] | None = None,
    archived: str = "no",
) -> dict[str, Any]:
    """One page of the runs table: ``total``, the ``columns`` shown and one row per run.

    Without ``columns`` the table shows name, status, created, duration and the parameters
    and metrics that vary on this page (at most a dozen); other columns are chosen by name.
    """
    if isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise UsageError(f"Invalid offset {offset!r}: expected a whole number from 0 to {MAX_OFFSET}.")
    if isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise UsageError(f"Invalid limit {limit!r}: expected a whole number from 1 to 1000.")
    if archived not in ARCHIVED:
        raise UsageError(f"Invalid archived {archived!r}: expected one of {', '.join(ARCHIVED)}.")
    chosen = parse_columns(columns)
    which = ARCHIVED[archived]
    page = list(store.runs(where=where or None, order_by=sort or "-created", limit=limit, offset=offset,
                           archived=which))  # fmt: skip
    full = 0 < len(page) < limit or (offset == 0 and not page)  # the whole rest is on this page: no count needed
    total = offset + len(page) if full else store.count(where=where or None, archived=which)
    cols = chosen if chosen is not None else default_columns(store, page)
    metric_cells = _metric_cells(store, page, [c for c in cols if c.startswith("metrics.")])

    def cell(rec: RunRecord, col: str) -> Any:
        if col.startswith("metrics."):
            return _json_value(metric_cells.get((rec.id, col)))
        return _json_value(field_value(rec, col))

    rows = [
        {"id": rec.id, "status": rec.status, "archived": rec.archived,
         "cells": [cell(rec, c) for c in cols]}
        for rec in page
    ]  # fmt: skip
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "columns": cols,
        "sortable": [sortable(c) for c in cols],
        "runs": rows,
        "live": sum(1 for r in rows if r["status"] in _LIVE),
    }


def sortable(column: str) -> bool:
    """Whether the store can order runs by ``column`` (a shown column may still not be a sort key:
    ``tags`` is a list, ``path`` and ``archived`` are not in the index, and a name with a comma would
    read as several sort keys).

    Example:
        >>> sortable("params.lr"), sortable("tags"), sortable("path"), sortable("params.a,name")
        (True, False, False, False)
    """
    if "," in column:
        return False
    try:
        compile_order(column)
    except RunlabError:
        return False
    return True


def _flat_params(params: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in params.items():
        if isinstance(value, Mapping) and value:
            yield from _flat_params(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


_AGGREGATES = ("last", "min", "max", "count", "step")


ARCHIVED = {"no": False, "only": True, "all": None}


def load_run(store: Store, ref: str) -> RunRecord:
    """A run by ID, ID prefix or name; archived runs are found too (the store's own first)."""
    from ..store._manage import find_record

    return find_record(store, ref)[1]


def _index_rows(store: Store, page: Sequence[RunRecord], sql: str, extra: Sequence[Any]) -> list[Any]:
    """Run ``sql`` (its first ``?`` list: run IDs) on the index of the page's runs and of its archived ones."""
    rows: list[Any] = []
    for archived, source in ((False, store), (True, store.archive)):
        ids = [r.id for r in page if r.archived is archived]
        if ids and source.root.is_dir():
            marks = ",".join("?" * len(ids))
            rows.extend(source.index.execute(sql.replace("(?ids)", f"({marks})"), (*ids, *extra)))
    return rows


def _metric_cells(store: Store, page: Sequence[RunRecord], cols: Sequence[str]) -> dict[tuple[str, str], Any]:
    """``metrics.X[.agg]`` values of the runs ``ids``, read from the index's metric summaries.

    Only the named metrics are read, so a page of runs that log thousands of metrics costs
    no more than one that logs two. Names resolve as in :func:`runlab.cli._fields.field_value`:
    a metric literally named ``X.min`` wins over the ``min`` of metric ``X``.
    """
    if not page or not cols:
        return {}
    wanted: dict[str, list[tuple[str, str, str]]] = {}  # metric name -> (column, aggregate, kind)
    for col in cols:
        rest = col[len("metrics.") :]
        wanted.setdefault(rest, []).append((col, "last", "exact"))
        base, _, agg = rest.rpartition(".")
        if base and agg in _AGGREGATES:
            wanted.setdefault(base, []).append((col, agg, "aggregate"))
    name_marks = ",".join("?" * len(wanted))
    sql = (f"SELECT run_id, name, last, min, max, count, step FROM metrics "
           f"WHERE run_id IN (?ids) AND name IN ({name_marks})")  # fmt: skip
    out: dict[tuple[str, str], Any] = {}
    exact: set[tuple[str, str]] = set()
    for run_id, name, *values in _index_rows(store, page, sql, list(wanted)):
        summary = dict(zip(_AGGREGATES, values, strict=True))
        for agg in ("last", "min", "max"):  # the index holds a NaN as NULL; a run without the metric has no row
            if summary[agg] is None:
                summary[agg] = math.nan
        for col, agg, kind in wanted[name]:
            if kind == "exact":
                exact.add((run_id, col))
                out[(run_id, col)] = summary["last"]
            elif (run_id, col) not in exact:
                out[(run_id, col)] = summary[agg]
    return out


def default_columns(store: Store, page: Sequence[RunRecord]) -> list[str]:
    """Name, status, created, duration, the parameters that vary on the page, then metrics.

    Only the metric names of the page's runs are looked up (in the index), and when there
    are many (a run may log thousands) only the first few become columns: the rest are one
    search away in the column chooser. So a page never parses every summary of every run.
    """
    seen: dict[str, set[str]] = {}
    have: dict[str, int] = {}
    for rec in page:
        for key, value in _flat_params(rec.params):
            seen.setdefault(key, set()).add(repr(value))
            have[key] = have.get(key, 0) + 1

    def shown(key: str) -> bool:
        special = key.startswith("__") and key.endswith("__")  # __DEBUG__ and the like: only when they differ
        return len(seen[key]) > 1 or (not special and (len(page) == 1 or have[key] < len(page)))

    params = [f"params.{k}" for k in seen if shown(k)][: _MAX_DEFAULT_EXTRA - 4]
    names: list[str] = []
    if page:
        sql = "SELECT DISTINCT name FROM metrics WHERE run_id IN (?ids) ORDER BY name LIMIT ?"
        names = sorted({str(r[0]) for r in _index_rows(store, page, sql, [_MANY_METRICS + 1])})
    if len(names) > _MANY_METRICS:
        names = names[:4]
    metrics = [f"metrics.{n}" for n in names][: _MAX_DEFAULT_EXTRA - len(params)]
    return [*DEFAULT_COLUMNS, *params, *metrics]


def field_names(store: Store, query: str = "", limit: int = 200) -> dict[str, list[str]]:
    """Parameter and metric names in the store containing ``query``, at most ``limit`` of each.

    The column chooser asks for these as the user types, so a store with ten thousand
    metric names never sends them all.
    """
    if not store.root.is_dir() or "\x00" in query:  # SQLite's LIKE would end the pattern at a NUL: match all
        return {"params": [], "metrics": []}
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    out: dict[str, list[str]] = {}
    for kind, sql in (
        ("params", "SELECT DISTINCT key FROM params WHERE key LIKE ? ESCAPE '\\' ORDER BY key LIMIT ?"),
        ("metrics", "SELECT DISTINCT name FROM metrics WHERE name LIKE ? ESCAPE '\\' ORDER BY name LIMIT ?"),
    ):
        rows = store.index.execute(sql, (pattern, limit))
        out[kind] = [str(r[0]) for r in rows]
    return out


def run_details(store: Store, ref: str) -> dict[str, Any]:
    """Everything the run page shows except metric points and the log: record, data, artifacts, capture."""
    rec = load_run(store, ref)
    problems: list[str] = [rec.problem] if rec.problem else []
    meta: dict[str, Any] = _read_part(rec, lambda: rec.metadata, "run.json", problems) or {}
    data = _read_part(rec, lambda: rec.data, "data.json", problems) or {}
    record = rec.to_dict()
    record["summaries"] = {k: summary_json(v) for k, v in record["summaries"].items()}
    flat_params = flat(rec, aggregates=False).items()
    record["params_flat"] = {k[len("params.") :]: v for k, v in flat_params if k.startswith("params.")}
    names = list(rec.summaries)
    return {
        "run": record,
        "metrics": [n for n in names if not n.startswith("sys/")],
        "system_metrics": [n for n in names if n.startswith("sys/")],
        "data": data,
        "problems": problems,
        "artifacts": artifact_listing(rec.path),
        "git": meta.get("git"),
        "env": meta.get("env"),
        "plugins": meta.get("plugins") or {},
        "hooks": meta.get("hooks") or {},
        "error_detail": meta.get("error"),
        "origin": meta.get("origin"),
        "source": meta.get("source"),
        "param_info": _param_info(meta.get("params")),
        "live": rec.status in _LIVE,
    }


def _read_part(rec: RunRecord, read: Callable[[], Any], name: str, problems: list[str]) -> Any:
    """A file of the run read for the page; a damaged one is reported, not fatal (the rest still shows),
    and so is one that leads out of the run folder (it is not read)."""
    try:
        run_file(rec.path, name)
        value = read()
    except (OSError, ValueError, RunlabError) as exc:
        problems.append(f"{name} cannot be read: {exc}")
        return None
    if not isinstance(value, dict):
        problems.append(f"{name} holds {type(value).__name__}, expected an object.")
        return None
    return value


def _param_info(params: Any) -> dict[str, dict[str, Any]]:
    """Type and description of each parameter as ``run.json`` records them (values left out)."""
    if not isinstance(params, Mapping):
        return {}
    return {k: {f: v for f, v in p.items() if f != "value"} for k, p in params.items() if isinstance(p, Mapping)}


def _series(rec: RunRecord, names: Sequence[str]) -> dict[str, tuple[list[int], list[float]]]:
    """Steps and values of the run's metrics ``names``, from the UI's incremental cache."""
    return SERIES.get(rec.path / "metrics.jsonl", names)


def metric_series(
    store: Store,
    ref: str,
    names: Sequence[str],
    points: int = 1000,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, Any]:
    """Metric points of one run, each series downsampled to at most ``points`` (min/max buckets).

    ``start``/``end`` restrict the steps (a zoomed chart asks for its window in full detail).
    """
    points = _check_points(points)
    rec = load_run(store, ref)
    wanted = list(dict.fromkeys(names)) or list(rec.summaries)
    series = _series(rec, wanted)
    out: dict[str, Any] = {}
    for name in wanted:
        steps, values = series.get(name, ([], []))
        total = len(steps)
        steps_w, values_w = window(steps, values, start, end)
        kept_steps, kept_values = minmax_buckets(steps_w, values_w, points)
        out[name] = {
            "steps": kept_steps,
            "values": _json_values(kept_values),
            "count": total,
            "downsampled": len(kept_steps) < len(steps_w),
        }
    return {"id": rec.id, "status": rec.status, "live": rec.status in _LIVE, "metrics": out}


def _check_points(points: int) -> int:
    if isinstance(points, bool) or not 4 <= points <= 100_000:
        raise UsageError(f"Invalid points {points!r}: expected a whole number from 4 to 100000.")
    return points


def _key(value: Any) -> str:
    return repr(value)


def compare(
    store: Store,
    refs: Sequence[str],
    metric: str | None = None,
    group_by: str | None = None,
    points: int = 500,
) -> dict[str, Any]:
    """Chosen runs side by side: parameter diff, final metrics, curves of ``metric``, groups.

    With ``group_by`` (a field such as ``params.lr``) the runs sharing its value form a
    group, summarised per step by mean, min, max and std across the group's runs (seeds).
    """
    points = _check_points(points)
    ids = list(dict.fromkeys(r for r in refs if r))
    if not ids:
        raise UsageError("No runs to compare: pass run IDs, e.g. /compare?ids=3f2a&ids=9c1b.")
    if len(ids) > MAX_COMPARE:
        raise UsageError(f"Too many runs to compare: {len(ids)}; at most {MAX_COMPARE}. Filter the runs table first.")
    if group_by:
        check_field(group_by)
    records = [load_run(store, r) for r in ids]
    flats = [flat(r, aggregates=False) for r in records]
    param_keys = sorted({k for f in flats for k in f if k.startswith("params.")})
    diff = []
    for key in param_keys:
        values = [_json_value(f.get(key)) for f in flats]
        diff.append({"key": key[len("params.") :], "values": values, "differs": len({_key(v) for v in values}) > 1})
    metric_names = sorted({n for r in records for n in r.summaries})
    final = {n: [_json_value(field_value(r, f"metrics.{n}")) for r in records] for n in metric_names}
    chosen = metric or next((n for n in metric_names if not n.startswith("sys/")), None)
    curves = []
    raw: dict[str, tuple[list[int], list[float]]] = {}
    if chosen is not None:
        for rec in records:
            steps, values = _series(rec, [chosen]).get(chosen, ([], []))
            raw[rec.id] = (steps, values)
            kept_steps, kept_values = minmax_buckets(steps, values, points)
            curves.append({"id": rec.id, "name": rec.name or rec.id, "steps": kept_steps,
                           "values": _json_values(kept_values), "count": len(steps)})  # fmt: skip
    groups = []
    if group_by:
        members: dict[str, list[RunRecord]] = {}
        labels: dict[str, Any] = {}
        for rec in records:
            value = field_value(rec, group_by)
            members.setdefault(_key(value), []).append(rec)
            labels[_key(value)] = _json_value(value)
        for key, recs in members.items():
            stats = band([raw.get(r.id, ([], [])) for r in recs], points) if chosen else {}
            groups.append({"value": labels[key], "runs": [r.id for r in recs], "band": stats})
    return {
        "runs": [{"id": r.id, "name": r.name, "status": r.status, "namespace": r.namespace} for r in records],
        "params": diff,
        "metrics": metric_names,
        "final": final,
        "metric": chosen,
        "curves": curves,
        "group_by": group_by,
        "groups": groups,
        "live": any(r.status in _LIVE for r in records),
    }
