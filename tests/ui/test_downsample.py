"""Server-side downsampling: min/max buckets keep extremes and ends; group bands."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runlab.ui import band, minmax_buckets
from runlab.ui._downsample import window

values_st = st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), min_size=0, max_size=400)


@settings(max_examples=200, deadline=None)
@given(values=values_st, points=st.integers(min_value=4, max_value=120))
def test_minmax_buckets_properties(values: list[float], points: int) -> None:
    steps = list(range(0, 3 * len(values), 3))
    kept_steps, kept_values = minmax_buckets(steps, values, points)
    assert len(kept_steps) == len(kept_values) <= max(points, 4)
    assert kept_steps == sorted(set(kept_steps))  # in order, no duplicates
    assert all(steps[s // 3] == s and _same(values[s // 3], v) for s, v in zip(kept_steps, kept_values, strict=True))
    if values:
        assert kept_steps[0] == 0 and kept_steps[-1] == steps[-1]  # the ends are always kept
        finite = [v for v in values if not math.isnan(v)]
        if finite:  # the global extremes survive (spikes are not averaged away)
            assert min(finite) in kept_values and max(finite) in kept_values
    if len(values) <= points:
        assert kept_steps == steps


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_a_million_points_come_down_to_the_budget() -> None:
    n = 1_000_000
    values = [math.sin(i / 1000) for i in range(n)]
    values[123_457] = 50.0  # one spike
    steps, kept = minmax_buckets(range(n), values, 2000)
    assert len(steps) <= 2000 and 50.0 in kept and steps[-1] == n - 1


@pytest.mark.parametrize(("start", "end", "expected"), [(None, None, [0, 1, 2, 3]), (1, None, [1, 2, 3]),
                                                        (None, 1.5, [0, 1]), (5, 9, [])])  # fmt: skip
def test_window(start: float | None, end: float | None, expected: list[int]) -> None:
    assert list(window([0, 1, 2, 3], [0.0, 1.0, 2.0, 3.0], start, end)[0]) == expected


def test_band_aligns_runs_by_step_and_skips_nonfinite() -> None:
    out = band([([0, 1, 2], [1.0, 2.0, float("nan")]), ([0, 2], [3.0, 5.0])], 100)
    assert out["step"] == [0, 1, 2]
    assert out["mean"] == [2.0, 2.0, 5.0] and out["min"] == [1.0, 2.0, 5.0] and out["max"] == [3.0, 2.0, 5.0]
    assert out["std"][0] == 1.0 and out["n"] == [2, 1, 1]
    assert band([], 10)["step"] == []
