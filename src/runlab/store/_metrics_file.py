"""The ``metrics.jsonl`` format: append-only, one JSON line per metric per flush.

A line holds a batch of points of one metric::

    {"name":"loss","step0":0,"value":[0.9,0.7,0.5],"time":1763890000.25,"dtr":[0,2,3,1]}

``step0`` replaces the ``step`` list when steps are consecutive. Point times are
``time`` plus an offset in milliseconds: ``dtr`` lists ``[offset, count, ...]`` runs
(here two points at +0 ms and one at +3 ms), ``dt`` one offset per point, and both are
left out when every offset is 0.
Non-finite values are written as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``. A single point may also be written as scalars
(``{"name":..,"step":3,"value":0.5,"time":..}``). Lines are appended whole, so a crash
can only leave a torn last line, which readers skip and report.
"""

from __future__ import annotations

import json
import math
import operator
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "NON_FINITE",
    "MetricSeries",
    "ReadReport",
    "encode_batch",
    "merge_summary",
    "number_text",
    "read_metrics",
    "summarize",
    "summary_json",
    "summary_values",
]

_SMALL_BATCH = 64
_NONFINITE_OUT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
"""How every JSON file of a run writes a NaN or an infinity (JSON has no such numbers), and the float each
text stands for: metric points, metric summaries, parameter and data values."""
_NONFINITE_IN = NON_FINITE


def number_text(value: float) -> str:
    """The text a non-finite float is stored as: ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``.

    Example:
        >>> number_text(float("-inf")), number_text(float("nan"))
        ('-Infinity', 'NaN')
    """
    return _NONFINITE_OUT[repr(float(value))]


def summary_json(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A metric summary as JSON holds it: a NaN or infinite ``last``/``min``/``max`` as its text
    (written as a number it would read back as ``null``: a diverged run would look like one without
    the metric).

    Example:
        >>> summary_json({"last": float("nan"), "min": 0.5, "max": float("inf"), "count": 3, "step": 2})
        {'last': 'NaN', 'min': 0.5, 'max': 'Infinity', 'count': 3, 'step': 2}
    """
    return {k: number_text(v) if isinstance(v, float) and not math.isfinite(v) else v for k, v in summary.items()}


def summary_values(summary: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`summary_json` undone: the texts of ``last``/``min``/``max`` back as floats."""
    return {k: NON_FINITE[v] if isinstance(v, str) and v in NON_FINITE else v for k, v in summary.items()}


def _encode_values(values: list[Any]) -> list[Any]:
    try:
        total = sum(values)
    except TypeError:
        total = math.nan
    if math.isfinite(total):
        return values
    return [_NONFINITE_OUT[repr(float(v))] if not math.isfinite(v) else v for v in values]


def _time_runs(times: Sequence[float], t0: float) -> list[int] | None:
    """Millisecond offsets from ``t0`` as ``[ms, count, ms, count, ...]`` for sorted times.

    Uses one bisection per distinct millisecond, so a batch of many points logged within a
    flush interval costs a few hundred steps instead of one per point. None when the times
    are spread too thinly for runs to pay off.
    """
    n = len(times)
    last = int((times[n - 1] - t0) * 1000.0 + 1.5)
    if last > n:
        return None
    runs: list[int] = []
    index = 0
    for ms in range(last + 1):
        end = bisect_right(times, t0 + (ms + 0.5) / 1000.0, index)
        if end > index:
            runs += (ms, end - index)
            index = end
            if index == n:
                break
    return runs


def encode_batch(name: str, steps: Sequence[int], values: list[Any], times: Sequence[float]) -> bytes:
    """Encode one metric's points as one ``metrics.jsonl`` line (with its newline)."""
    n = len(values)
    line: dict[str, Any] = {"name": name}
    if isinstance(steps, range) and steps.step == 1:
        line["step0"] = steps.start
    else:
        s0 = steps[0]
        if steps[n - 1] - s0 == n - 1 and list(steps) == list(range(s0, s0 + n)):
            line["step0"] = s0
        else:
            line["step"] = list(steps)
    line["value"] = _encode_values(values)
    t0 = times[0]
    line["time"] = round(t0, 3)
    base = line["time"]
    if n > 1 and (max(times) - base >= 0.0005 or base - min(times) >= 0.0005):
        times = list(times)
        runs = _time_runs(times, base) if times == sorted(times) else None
        if runs is not None:
            line["dtr"] = runs
        else:
            line["dt"] = [round((t - base) * 1000.0) for t in times]
    if n <= _SMALL_BATCH:  # the standard library encoder: no orjson import for a run's last few points
        return json.dumps(line, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    import orjson

    return orjson.dumps(line, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


class MetricSeries:
    """The full history of one metric: parallel lists of steps, values and times (epoch s)."""

    __slots__ = ("name", "steps", "times", "values")

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[int] = []
        self.values: list[float] = []
        self.times: list[float] = []

    def __repr__(self) -> str:
        return f"MetricSeries({self.name!r}, {len(self.steps)} points)"

    def __len__(self) -> int:
        return len(self.steps)

    def to_pandas(self) -> Any:
        """Return a DataFrame with columns ``step``, ``value`` and ``time`` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame({"step": self.steps, "value": self.values, "time": pd.to_datetime(self.times, unit="s")})


class ReadReport:
    """What a tolerant read skipped: ``(line number, reason)`` per unreadable line."""

    __slots__ = ("path", "skipped")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped: list[tuple[int, str]] = []


def _decode_value(v: Any) -> Any:
    if v is None:
        return math.nan
    if isinstance(v, str):
        return _NONFINITE_IN.get(v, math.nan)
    return v


def _needles(names: Iterable[str] | None) -> tuple[bytes, ...] | None:
    """Line prefixes of the metrics ``names``: lines start with ``{"name":<name>,`` as the writer emits them,
    so other metrics' lines are skipped unparsed (either encoder may have written a line). A line spelled
    otherwise (``{"name": "loss", ...}``, written by another tool) is parsed and checked by name."""
    if names is None:
        return None
    import orjson

    wanted = set(names)
    forms = {orjson.dumps(n) for n in wanted} | {json.dumps(n, ensure_ascii=False).encode() for n in wanted}
    return tuple(b'{"name":' + form + b"," for form in forms)


_STEP_MIN, _STEP_MAX = -(2**63), 2**63 - 1
_BIG = float(2**63)


def _steps(steps: Any) -> list[int]:
    """A line's step list, checked: whole numbers that fit in 64 bits (what the writer writes)."""
    out = list(map(operator.index, steps))  # a float, text or list raises TypeError: the line is damaged
    if out and (min(out) < _STEP_MIN or max(out) > _STEP_MAX):
        raise ValueError("a step does not fit in 64 bits")
    return out


def _number(v: Any) -> Any:
    """One point's value, decoded: a number, NaN for ``None`` and the non-finite spellings."""
    if v is None or isinstance(v, str):
        return _decode_value(v)
    if isinstance(v, float) or (isinstance(v, int) and _STEP_MIN <= v <= _STEP_MAX):
        return v
    if isinstance(v, int):
        return float(v)
    raise TypeError(f"a value is not a number: {v!r:.40}")


def _values(value: list[Any]) -> list[Any]:
    """A line's values, checked and decoded (raises TypeError for a value that is not a number)."""
    try:
        total = sum(value)  # numbers only (the common case): kept as they are, checked in C
    except TypeError:  # "NaN", "Infinity", None (or damage: a text, a list): decoded one by one
        return [_number(v) for v in value]
    # an integer too large for JSON readers becomes a float; it can hide only among integers, or in a sum
    # that large (floats alone, the writer's usual line, skip the look at each value)
    if isinstance(total, int) or not -_BIG < total < _BIG:
        hi, lo = max(value, default=0), min(value, default=0)
        if (isinstance(hi, int) and hi > _STEP_MAX) or (isinstance(lo, int) and lo < _STEP_MIN):
            return [_number(v) for v in value]
    return value


def _append_line(series: MetricSeries, line: dict[str, Any], times: bool = True) -> None:
    """Add one line's points to ``series`` (``times`` False: leave ``series.times`` empty, for charts)."""
    value = line["value"]
    t0 = float(line["time"])
    if isinstance(value, list):
        value = _values(value)  # checked before anything is added: a damaged line adds nothing
        n = len(value)
        if "step0" in line:
            s0 = operator.index(line["step0"])
            if not _STEP_MIN <= s0 <= _STEP_MAX - n:
                raise ValueError("a step does not fit in 64 bits")
            steps: Iterable[int] = range(s0, s0 + n)
        else:
            steps = _steps(line["step"])
            if len(steps) != n:
                raise ValueError("step and value lists differ in length")
        dt = line.get("dt")
        runs = line.get("dtr")
        stamps: list[float]
        if not times:
            if runs is not None and (len(runs) % 2 or sum(runs[1::2]) != n):
                raise ValueError("dtr counts and value list differ in length")
            if dt is not None and len(dt) != n:
                raise ValueError("dt and value lists differ in length")
            stamps = []
        elif runs is not None:
            if len(runs) % 2 or sum(runs[1::2]) != n:  # checked before expanding a damaged line
                raise ValueError("dtr counts and value list differ in length")
            stamps = [t0 + ms / 1000.0 for ms, count in zip(runs[0::2], runs[1::2], strict=True) for _ in range(count)]
        elif dt is None:
            stamps = [t0] * n
        else:
            if len(dt) != n:
                raise ValueError("dt and value lists differ in length")
            stamps = [t0 + d / 1000.0 for d in dt]
        series.steps.extend(steps)
        series.values.extend(value)
        series.times.extend(stamps)
    else:
        step = operator.index(line["step"])
        if not _STEP_MIN <= step <= _STEP_MAX:
            raise ValueError("a step does not fit in 64 bits")
        series.values.append(_number(value))
        series.steps.append(step)
        if times:
            series.times.append(t0)


def parse_lines(
    data: bytes,
    wanted: set[str] | None,
    needles: tuple[bytes, ...] | None,
    times: bool,
    skipped: list[tuple[int, str]],
    first: int = 1,
) -> dict[str, MetricSeries]:
    """The series in ``data`` (whole lines of a ``metrics.jsonl``), only ``wanted`` ones when given.

    A line that cannot be read (torn, not JSON, or with values and steps that are not numbers the
    writer could have written) is left out and added to ``skipped`` as ``(line number, reason)``,
    counting lines from ``first``. ``needles`` (from :func:`_needles`) skips other metrics' lines unparsed.
    """
    import orjson

    out: dict[str, MetricSeries] = {}
    for number, chunk in enumerate(data.split(b"\n"), start=first):
        if not chunk.strip():
            continue
        if needles is not None and chunk.startswith(b'{"name":"') and not chunk.startswith(needles):
            continue  # another metric's line as the writer writes it (other spellings are parsed)
        try:
            line = orjson.loads(chunk)
            name = line["name"]
            if wanted is not None and name not in wanted:
                continue
            series = out.get(name)
            if series is None:
                series = out[name] = MetricSeries(name)
            _append_line(series, line, times)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            skipped.append((number, f"{type(exc).__name__}: {exc}"))
    return out


def read_metrics(
    path: Path, names: Iterable[str] | None = None, *, times: bool = True
) -> tuple[dict[str, MetricSeries], ReadReport]:
    """Read ``metrics.jsonl``; unreadable lines (a torn last line after a crash) are skipped.

    Args:
        path: the file.
        names: only these metrics (None: all).
        times: False leaves each series' ``times`` empty (charts need only steps and values).

    Returns:
        The series by metric name, in order of first appearance, and a report of what
        was skipped.
    """
    wanted = set(names) if names is not None else None
    report = ReadReport(path)
    out: dict[str, MetricSeries] = {}
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return out, report
    except OSError as exc:  # a folder or an unreadable file where the metrics should be: damage, reported
        report.skipped.append((0, f"{type(exc).__name__}: {exc}"))
        return out, report
    out = parse_lines(raw, wanted, _needles(wanted), times, report.skipped)
    return out, report


def summarize(steps: Sequence[int], values: Sequence[Any]) -> dict[str, Any]:
    """Summary of a batch: last value, min, max, count and last step."""
    finite = [v for v in values if isinstance(v, (int, float)) and not math.isnan(v)] if _has_nan(values) else values
    return {
        "last": values[-1],
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
        "count": len(values),
        "step": steps[-1],
    }


def _has_nan(values: Sequence[Any]) -> bool:
    try:
        return math.isnan(sum(values))
    except TypeError:
        return True


def merge_summary(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Combine the summary so far with the summary of the next batch."""
    if old is None:
        return new
    lo = [v for v in (old["min"], new["min"]) if v is not None]
    hi = [v for v in (old["max"], new["max"]) if v is not None]
    return {
        "last": new["last"],
        "min": min(lo) if lo else None,
        "max": max(hi) if hi else None,
        "count": old["count"] + new["count"],
        "step": new["step"],
    }


def summaries_from_series(series: dict[str, MetricSeries]) -> dict[str, dict[str, Any]]:
    """Summaries of fully read series (used when rebuilding the index)."""
    return {name: summarize(s.steps, s.values) for name, s in series.items() if s.steps}
