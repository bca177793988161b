"""Fields of a run record by name (``params.lr``, ``metrics.acc.max``, ``status``...) for columns,
comparisons and exports. The names come from the store's one field list (``RunRecord.FIELDS``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UsageError
from ..store import RunRecord
from ..store._records import SUMMARY_FIELDS

BASE_FIELDS = RunRecord.FIELDS
AGGREGATES = SUMMARY_FIELDS
FIELDS_HELP = ", ".join(BASE_FIELDS) + ", params.<name>, metrics.<name>[.min|.max|.last|.count|.step]"


def check_field(name: str) -> str:
    """Raise a UsageError (exit 2) unless ``name`` is a known field."""
    head, dot, rest = name.partition(".")
    if name in BASE_FIELDS or (dot and head in ("params", "metrics") and rest):
        return name
    if dot and head in ("params", "metrics"):  # 'params.': the name is missing, nothing to guess
        example = "params.lr" if head == "params" else "metrics.loss"
        raise UsageError(f"Invalid column {name!r}: give a name after {head + '.'!r}, e.g. {example!r}.")
    from difflib import get_close_matches

    guess = get_close_matches(name, [*BASE_FIELDS, "params.", "metrics."], n=1)
    hint = f" Did you mean '{guess[0]}'?" if guess else ""
    raise UsageError(f"Unknown column {name!r}; valid columns: {FIELDS_HELP}.{hint}")


def parse_sort(text: str) -> tuple[str, bool]:
    """A sweep's sort key: ``(field, descending)`` from ``acc``, ``-acc`` (descending), ``+params.lr``,
    ``status``; a bare name that is not a run field (``id``, ``status``, ``duration`` ...) is a metric's.

    Example:
        >>> parse_sort("-acc"), parse_sort("params.lr")
        (('metrics.acc', True), ('params.lr', False))
    """
    descending = text.startswith("-")
    bare = text[1:] if text[:1] in ("-", "+") else text
    if not bare or bare[0] in "+-" or bare != bare.strip():
        raise UsageError(
            f"Invalid sort {text!r}: expected a metric or field name, '-' before it for descending, e.g. '-acc' "
            "or 'params.lr'."
        )
    return check_field(bare if "." in bare or bare in BASE_FIELDS else f"metrics.{bare}"), descending


def check_sort_metric(key: str, records: Sequence[RunRecord]) -> None:
    """Raise a UsageError (exit 2) when ``key`` is ``metrics.X`` and no run of ``records`` has metric X
    (a typo would otherwise sort nothing and add an empty column)."""
    head, _, name = key.partition(".")
    if head != "metrics" or not records:
        return
    known = sorted({n for r in records for n in r.summaries})
    base = name.rpartition(".")[0] if name.rpartition(".")[2] in AGGREGATES else name
    if name not in known and base not in known:
        raise UsageError(
            f"No run here has the metric {name!r} to sort by; they have: {', '.join(known) or 'no metrics'}."
        )


def parse_columns(text: str) -> list[str]:
    cols = [c.strip() for c in text.split(",") if c.strip()]
    if not cols:
        raise UsageError(f"Invalid --columns {text!r}: give field names separated by commas, e.g. 'id,name,params.lr'.")
    return [check_field(c) for c in cols]


def _param(params: Mapping[str, Any], key: str) -> Any:
    if key in params:
        return params[key]
    value: Any = params
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def field_value(rec: RunRecord, name: str) -> Any:
    """The value of field ``name`` of ``rec`` (None when the run lacks it)."""
    head, dot, rest = name.partition(".")
    if dot and head == "params":
        return _param(rec.params, rest)
    if dot and head == "metrics":
        summary = rec.summaries.get(rest)
        agg = "last"
        if summary is None:
            base, _, last = rest.rpartition(".")
            if last in AGGREGATES and base in rec.summaries:
                summary, agg = rec.summaries[base], last
        return None if summary is None else getattr(summary, agg)
    if name == "path":
        return str(rec.path)
    return getattr(rec, name, None)


def flat(rec: RunRecord, aggregates: bool = True) -> dict[str, Any]:
    """Every field of a run, parameters flattened to ``params.a.b`` and metrics to ``metrics.X[.agg]``."""
    out: dict[str, Any] = {f: field_value(rec, f) for f in BASE_FIELDS}
    out["tags"] = list(rec.tags)
    out.update(_measured(rec, aggregates))
    return out


def _measured(rec: RunRecord, aggregates: bool) -> dict[str, Any]:
    """Only the ``params.X`` and ``metrics.X[.agg]`` fields of :func:`flat`."""
    out: dict[str, Any] = {}

    def walk(value: Mapping[str, Any], prefix: str) -> None:
        for key, item in value.items():
            if isinstance(item, Mapping) and item:
                walk(item, f"{prefix}{key}.")
            else:
                out[f"params.{prefix}{key}"] = item

    walk(rec.params, "")
    for key, s in rec.summaries.items():
        out[f"metrics.{key}"] = s.last
        if aggregates:
            for agg in AGGREGATES[1:]:
                out[f"metrics.{key}.{agg}"] = getattr(s, agg)
    return out


def _key(value: Any) -> Any:
    return repr(value) if isinstance(value, (list, dict)) else value


def varying(records: Sequence[RunRecord]) -> list[str]:
    """``params.X`` and ``metrics.X`` columns whose values differ among ``records`` (or that
    only some have); with a single run, every parameter and metric. Special parameters
    (``params.__DEBUG__`` ...) show only when their values differ."""
    seen: dict[str, set[Any]] = {}
    counts: dict[str, int] = {}
    for rec in records:  # one pass: the values of each key, and how many runs have it
        for key, value in _measured(rec, aggregates=False).items():
            seen.setdefault(key, set()).add(_key(value))
            counts[key] = counts.get(key, 0) + 1
    n = len(records)
    missing = {k for k in seen if counts[k] < n or None in seen[k]}  # some run lacks it or has null
    keys = [k for k in seen if len(seen[k]) > 1 or (not _special(k) and (n == 1 or k in missing))]
    return sorted(keys, key=lambda k: (not k.startswith("params."), k))


def _special(key: str) -> bool:
    name = key.partition(".")[2]
    return key.startswith("params.") and name.startswith("__") and name.endswith("__")
