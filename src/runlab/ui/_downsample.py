"""Server-side downsampling of long metric series for charts.

A chart a few hundred pixels wide cannot show more than a few thousand points, so the UI
never sends a million. :func:`minmax_buckets` splits a series into equal buckets of
consecutive points and keeps, per bucket, the point with the smallest and the one with the
largest value (in step order): spikes and dips survive, unlike with plain striding.
:func:`band` summarises a group of runs (seeds) per step: mean, min, max and std.

Example:
    >>> steps, values = minmax_buckets(list(range(10)), [0, 5, 1, 1, 1, -3, 1, 1, 1, 2], 4)
    >>> steps, values
    ([0, 1, 5, 9], [0, 5, -3, 2])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["band", "minmax_buckets", "window"]


def minmax_buckets(steps: Sequence[int], values: Sequence[float], points: int) -> tuple[list[int], list[float]]:
    """At most ``points`` points of a series, keeping each bucket's minimum and maximum.

    The first and the last point are always kept. A series no longer than ``points`` is
    returned whole. NaN values never count as a bucket's extreme (unless a bucket is all NaN).

    Args:
        steps: the steps, ascending as logged.
        values: the values, parallel to ``steps``.
        points: the most points to return (at least 4).

    Returns:
        The kept steps and values, in the original order.
    """
    n = len(values)
    points = max(4, points)
    if n <= points:
        return list(steps), list(values)
    buckets = (points - 2) // 2
    keep = [0]
    width = (n - 2) / buckets

    def lo_key(i: int) -> float:
        v = values[i]
        return v if v == v else math.inf  # NaN is never a bucket's minimum

    def hi_key(i: int) -> float:
        v = values[i]
        return v if v == v else -math.inf

    for b in range(buckets):
        start = 1 + int(b * width)
        end = 1 + int((b + 1) * width) if b < buckets - 1 else n - 1
        if end <= start:
            continue
        chunk = values[start:end]
        try:
            clean = math.isfinite(sum(chunk))  # one pass in C; NaN (or inf - inf) takes the slow path
        except TypeError:
            clean = False
        if clean:
            lo = start + chunk.index(min(chunk))
            hi = start + chunk.index(max(chunk))
        else:
            idx = range(start, end)
            lo = min(idx, key=lo_key)
            hi = max(idx, key=hi_key)
        keep.extend((lo, hi) if lo <= hi else (hi, lo))
    keep.append(n - 1)
    kept: list[int] = []
    for i in keep:  # a bucket whose min and max are one point keeps it once
        if not kept or kept[-1] != i:
            kept.append(i)
    return [steps[i] for i in kept], [values[i] for i in kept]


def window(
    steps: Sequence[int], values: Sequence[float], start: float | None, end: float | None
) -> tuple[Sequence[int], Sequence[float]]:
    """The part of a series with ``start <= step <= end`` (either bound may be None).

    Example:
        >>> window([0, 1, 2, 3], [9.0, 8.0, 7.0, 6.0], 1, 2)
        ([1, 2], [8.0, 7.0])
    """
    if start is None and end is None:
        return steps, values
    lo = -math.inf if start is None else start
    hi = math.inf if end is None else end
    pairs = [(s, v) for s, v in zip(steps, values, strict=True) if lo <= s <= hi]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def band(series: Sequence[tuple[Sequence[int], Sequence[float]]], points: int) -> dict[str, list[float]]:
    """Mean, min, max and standard deviation across runs, per step, in at most ``points`` buckets.

    Runs are aligned by step; a bucket aggregates every finite value of every run whose step
    falls in it. ``n`` is the number of values behind each point.

    Example:
        >>> band([([0, 1], [1.0, 3.0]), ([0, 1], [3.0, 5.0])], 100)["mean"]
        [2.0, 4.0]
    """
    by_step: dict[int, list[float]] = {}
    for steps, values in series:
        for s, v in zip(steps, values, strict=True):
            if isinstance(v, (int, float)) and math.isfinite(v):
                by_step.setdefault(s, []).append(float(v))
    ordered = sorted(by_step)
    points = max(1, points)
    per = max(1, math.ceil(len(ordered) / points))
    out: dict[str, list[float]] = {"step": [], "mean": [], "min": [], "max": [], "std": [], "n": []}
    for i in range(0, len(ordered), per):
        chunk = ordered[i : i + per]
        vals = [v for s in chunk for v in by_step[s]]
        mean = sum(vals) / len(vals)
        out["step"].append(chunk[len(chunk) // 2] if per > 1 else chunk[0])
        out["mean"].append(mean)
        out["min"].append(min(vals))
        out["max"].append(max(vals))
        out["std"].append(math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals)))
        out["n"].append(len(vals))
    return out
