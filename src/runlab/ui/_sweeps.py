"""What the UI's sweep and study pages show, read through :mod:`runlab.sweep` (no web framework here).

Sweeps come from their records (:func:`runlab.sweep.list_sweeps`, :func:`~runlab.sweep.load_sweep`)
and their runs from the index; studies from their study files and Optuna storages, opened
read-only (:meth:`runlab.sweep.StudyFile.load_read_only`: nothing is created, not even a
missing journal). Parameter importances are Optuna's own
(:func:`optuna.importance.get_param_importances`), computed here and sent as JSON.

Example:
    >>> import runlab, tempfile
    >>> store = runlab.Store(tempfile.mkdtemp())
    >>> sweep_list(store), study_list(store)
    ([], [])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..cli._fields import check_sort_metric, field_value, parse_sort, varying
from ..errors import SweepNotFoundError
from ..store import RunRecord, Store
from ..store._metrics_file import NON_FINITE
from ._queries import _json_value

__all__ = ["MIN_IMPORTANCE_TRIALS", "find_study", "study_details", "study_list", "sweep_details", "sweep_list"]

#: Complete trials needed before parameter importances mean anything (Optuna's PED-ANOVA
#: warns below two and recommends several trials in its top quantile).
MIN_IMPORTANCE_TRIALS = 5
_MAX_METRICS = 50


def _when(timestamp: Any) -> str | None:
    try:
        return datetime.fromtimestamp(float(timestamp)).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# -- sweeps ------------------------------------------------------------------------------
def sweep_list(store: Store) -> list[dict[str, Any]]:
    """Every sweep of the store, newest first: id, state, counts by run state, experiment."""
    from ..sweep import list_sweeps

    out = []
    for r in list_sweeps(store.root):
        out.append({
            "id": r.id, "name": r.name, "state": r.effective_state, "counts": r.counts(), "total": len(r.entries),
            "created": _when(r.created), "ended": _when(r.ended), "experiment": str(r.definition.get("path") or ""),
            "sweeps": list(r.definition.get("sweeps") or []), "mode": r.definition.get("mode"),
            "executor": r.executor,
        })  # fmt: skip
    return out


def _sweep_records(store: Store, sweep_id: str, run_ids: Sequence[str]) -> dict[str, RunRecord]:
    """The sweep's runs by id, from the index in one query (archived runs too)."""
    if not run_ids or not store.root.is_dir():
        return {}
    wanted = set(run_ids)
    quoted = sweep_id.replace("\\", "\\\\").replace("'", "\\'")
    found = store.runs(where=f"sweep == '{quoted}'", archived=None)
    return {r.id: r for r in found if r.id in wanted}


def _order(value: Any) -> tuple[int, Any] | None:
    """Numbers by value (NaN and the infinities also as the texts the run's files hold), then everything
    else by its text; None for no value or NaN, which sort last either way (as in the runs table)."""
    if isinstance(value, str):
        value = NON_FINITE.get(value, value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def sweep_details(store: Store, ref: str, sort: str | None = None) -> dict[str, Any]:
    """A sweep: its definition and one row per config with the swept parameters and final metrics.

    Args:
        store: the store.
        ref: the sweep id, an id prefix, or its name.
        sort: a field to order the rows by (``metrics.acc``, ``params.lr``; a bare name is a
            metric; ``-`` first for descending), as ``runlab sweep show --sort``. Rows
            without the value come last. Default: config order.

    Raises:
        SweepNotFoundError: no sweep matches ``ref``.
    """
    from ..sweep import load_sweep

    key, descending = parse_sort(sort) if sort else (None, False)
    record = load_sweep(store.root, ref)
    by_id = _sweep_records(store, record.id, record.run_ids)
    records = [by_id[e.run_id] for e in record.entries if e.run_id in by_id]
    if key:
        check_sort_metric(key, records)
    params = [c for c in varying(records) if c.startswith("params.")] if len(records) > 1 else []
    if len(records) == 1:
        params = [f"params.{k}" for k in records[0].params]
    if not params:  # nothing varies (one config, or identical ones): show what the configs set
        params = sorted({f"params.{k}" for r in records for k in r.params if not k.startswith("__")})
    names = sorted({n for r in records for n in r.summaries if not n.startswith("sys/")})
    metrics = names[:_MAX_METRICS]
    rows = []
    for index, entry in enumerate(record.entries):
        rec = by_id.get(entry.run_id or "")
        rows.append({
            "index": index, "config": entry.config, "argv": entry.argv, "run": entry.run_id,
            "status": rec.status if rec else entry.status,
            "attempts": entry.attempts, "error": entry.error, "name": rec.name if rec else None,
            "missing": entry.run_id is not None and rec is None,
            "params": {c[len("params."):]: _json_value(field_value(rec, c)) if rec else None for c in params},
            "metrics": {n: _json_value(field_value(rec, f"metrics.{n}")) if rec else None for n in metrics},
            "sort_value": _json_value(field_value(rec, key)) if rec and key else None,
        })  # fmt: skip
    if key:
        orders = [_order(r["sort_value"]) for r in rows]
        present = [(o, r) for o, r in zip(orders, rows, strict=True) if o is not None]
        absent = [r for o, r in zip(orders, rows, strict=True) if o is None]
        rows = [r for _, r in sorted(present, key=lambda p: p[0], reverse=descending)] + absent
    return {
        "id": record.id, "name": record.name, "state": record.effective_state, "counts": record.counts(),
        "total": len(record.entries), "created": _when(record.created), "ended": _when(record.ended),
        "definition": record.definition, "executor": record.executor, "sort": sort or None, "sort_field": key,
        "params": [c[len("params."):] for c in params], "metrics": metrics, "more_metrics": len(names) - len(metrics),
        "rows": rows, "live": record.effective_state == "running",
    }  # fmt: skip


# -- studies -----------------------------------------------------------------------------
def find_study(store: Store, name: str) -> Any:
    from ..experiment._trial import STUDY_NAME
    from ..sweep import load_study_file

    if not STUDY_NAME.fullmatch(name):  # a name is never a path: nothing outside .runlab/studies is read
        raise SweepNotFoundError(f"No study named {name!r}: study names are letters, digits, '_', '.' and '-'.")
    return load_study_file(store.root, name)


def _best(study: Any, complete: Sequence[Any]) -> list[Any]:
    if not complete:
        return []
    return list(study.best_trials) if len(study.directions) > 1 else [study.best_trial]


def study_list(store: Store) -> list[dict[str, Any]]:
    """Every study of the store, newest first: trials by state, best value, directions, experiment.

    A study whose storage cannot be read is still listed, with ``problem`` saying why.
    """
    from optuna.trial import TrialState

    from ..sweep import list_studies

    _quiet_optuna()
    out = []
    for r in list_studies(store.root):
        item: dict[str, Any] = {
            "name": r.name, "experiment": str(r.data.get("experiment") or ""), "created": _when(r.data.get("created")),
            "objectives": list(r.data.get("objectives") or []), "directions": list(r.data.get("directions") or []),
            "trials": None, "counts": {}, "best": None, "problem": None,
        }  # fmt: skip
        try:
            study = r.load_read_only()
        except Exception as exc:  # a study whose storage is gone or unreachable still lists
            item["problem"] = f"{type(exc).__name__}: {exc}"
            out.append(item)
            continue
        trials = study.get_trials(deepcopy=False)
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        best = _best(study, complete)
        item.update(trials=len(trials), counts=counts,
                    best=[_json_value(v) for v in best[0].values] if len(best) == 1 else None,
                    pareto=len(best) if len(study.directions) > 1 else None)  # fmt: skip
        out.append(item)
    return out


def _quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _importances(study: Any, complete: Sequence[Any], params: Sequence[str]) -> dict[str, Any]:
    """Optuna's parameter importances (PED-ANOVA by default), or why there are none yet."""
    if not params:
        return {"values": {}, "message": "The study has no parameters."}
    if len(complete) < MIN_IMPORTANCE_TRIALS:
        return {"values": {}, "message": f"Parameter importances need at least {MIN_IMPORTANCE_TRIALS} complete "
                                         f"trials; this study has {len(complete)}."}  # fmt: skip
    from optuna.importance import get_param_importances

    target = (lambda t: t.values[0]) if len(study.directions) > 1 else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = get_param_importances(study, target=target)
    except Exception as exc:  # e.g. a parameter with a single value in every trial
        return {"values": {}, "message": f"Parameter importances are not available: {type(exc).__name__}: {exc}"}
    return {"values": {k: float(v) for k, v in found.items()}, "message": None}


def _distribution(dist: Any) -> dict[str, Any]:
    kind = type(dist).__name__.removesuffix("Distribution").lower()
    out: dict[str, Any] = {"kind": kind, "log": bool(getattr(dist, "log", False))}
    if kind == "categorical":
        out["choices"] = [_json_value(c) for c in dist.choices]
    else:
        out.update(low=dist.low, high=dist.high)
    return out


def _history(trials: Sequence[Any], directions: Sequence[str]) -> dict[str, list[Any]]:
    """The first objective per complete trial, in trial order, and the best value so far."""
    minimize = not directions or directions[0] == "minimize"
    out: dict[str, list[Any]] = {"trial": [], "value": [], "best": []}
    best: float | None = None
    for t in trials:
        value = t.values[0] if t.values else None
        if not isinstance(value, (int, float)) or value != value:
            continue
        best = value if best is None or (value < best if minimize else value > best) else best
        out["trial"].append(t.number)
        out["value"].append(_json_value(float(value)))
        out["best"].append(_json_value(float(best)))
    return out


def study_details(store: Store, name: str) -> dict[str, Any]:
    """A study for its page: definition, trials with their runs, history, importances, the best trial(s).

    Raises:
        SweepNotFoundError: no such study, or its storage is missing (nothing is created).
    """
    from optuna.trial import TrialState

    from ..sweep._study_api import trial_runs

    _quiet_optuna()
    record = find_study(store, name)
    study = record.load_read_only()
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    directions = [d.name.lower() for d in study.directions]
    params: list[str] = []
    dists: dict[str, Any] = {}
    for t in trials:
        for key, dist in t.distributions.items():
            if key not in dists:
                params.append(key)
                dists[key] = _distribution(dist)
    runs = trial_runs(store, record) if store.root.is_dir() else {}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    counts: dict[str, int] = {}
    rows = []
    for t in trials:
        state = t.state.name.lower()
        counts[state] = counts.get(state, 0) + 1
        rows.append({
            "number": t.number, "state": state,
            "values": [_json_value(v) for v in t.values] if t.values is not None else None,
            "params": {k: _json_value(v) for k, v in t.params.items()},
            "runs": runs.get(t.number) or [],
            "duration": t.duration.total_seconds() if t.duration is not None else None,
            "error": t.user_attrs.get("runlab.error"),
        })  # fmt: skip
    best = [{"number": t.number, "values": [_json_value(v) for v in t.values],
             "params": {k: _json_value(v) for k, v in t.params.items()}, "runs": runs.get(t.number) or []}
            for t in _best(study, complete)]  # fmt: skip
    data: Mapping[str, Any] = record.data
    return {
        "name": record.name, "experiment": str(data.get("experiment") or ""), "created": _when(data.get("created")),
        "objectives": list(data.get("objectives") or ["value"] * len(directions)), "directions": directions,
        "sampler": data.get("sampler"), "pruner": data.get("pruner"), "space": data.get("space"),
        "storage": data.get("storage") or str(Path(record.path).with_suffix(".log")),
        "counts": counts, "params": params, "distributions": dists, "trials": rows, "best": best,
        "history": _history(complete, directions), "importances": _importances(study, complete, params),
        "live": counts.get("running", 0) > 0,
    }  # fmt: skip
