"""The sweep size limit: every axis and every whole sweep is counted before it is built."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from runlab.errors import ConfigError
from runlab.params import (
    Config,
    choice,
    expand,
    expand_model,
    grid,
    linspace,
    logspace,
    parse_sweep,
    range_,
    sample,
    sweep_argv,
    uniform,
    zipped,
)
from runlab.params._sweep import MAX_SWEEP_RUNS, check_sweep_size

HUGE = "1000000000000000000000000000000"  # 10**30: a list of these many values could never be built

# Sweep texts with more values than one sweep may make. Each is refused by counting, before any value exists.
TOO_MANY = [
    "range(0, 100001)",
    "range(100001)",
    "range(100000, -1, -1)",
    "range(0, 200002, 2)",
    f"range(0, {HUGE})",
    f"range(-{HUGE}, {HUGE}, 7)",
    "linspace(0, 1, 100001)",
    f"linspace(0, 1, {HUGE})",
    "logspace(-4, -1, 100001)",
    f"logspace(-4, -1, {HUGE})",
    f"logspace(-4, -1, {HUGE}, base=2)",
]

# The ways one piece of sweep text enters runlab.
CALLS: dict[str, Callable[[str], Any]] = {
    "parse_sweep": parse_sweep,
    "--sweep": lambda text: sweep_argv([], [f"X={text}"]),
    "-p": lambda text: sweep_argv(["-p", f"X={text}"]),
    "--X=": lambda text: sweep_argv([f"--X={text}"]),
    "random": lambda text: sweep_argv([], [f"X={text}"], samples=3),
    "zip": lambda text: sweep_argv([], [f"X={text}"], mode="zip"),
    "config text": lambda text: expand(Config({"X": text}), parse_strings=True),
    "dict text": lambda text: expand({"a": {"X": text}}, parse_strings=True),
}


@pytest.mark.timeout(60)  # without the limit, building the values would run far longer than this
@pytest.mark.parametrize("text", TOO_MANY)
@pytest.mark.parametrize("call", list(CALLS))
def test_an_axis_past_the_limit_is_refused_before_it_is_built(call: str, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        CALLS[call](text)
    message = str(info.value)
    assert "more than the limit of 100,000 runs per sweep" in message and "split it" in message
    assert text.split("(")[0] in message and "\n" not in message


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "make",
    [
        lambda: range_(0, 100_001),
        lambda: range_(10**30),
        lambda: linspace(0, 1, 10**30),
        lambda: logspace(0, 1, 10**30),
        lambda: choice(*range(100_001)),
        lambda: grid(x=range(10**30)),
        lambda: grid(x=(i for i in range(10**30))),
        lambda: zipped(x=range(10**30), y=range(10**30)),
        lambda: grid(x=range(400), y=range(400)),
        lambda: grid({"x": list(range(50)), "y": list(range(50))}, z=list(range(50))),
        lambda: expand({"x": range_(400), "y": {"z": range_(400)}}),
        lambda: expand(Config({"X": range_(400)}, kwargs={"y": range_(400)})),
        lambda: expand(Config({"X": "range(400)", "Y": "linspace(0, 1, 400)"}), parse_strings=True),
        lambda: expand_model(_Model, {"a": range_(400), "b": range_(400)}),
        lambda: sample({"x": uniform(0, 1)}, 100_001),
        lambda: sample({"x": [1, 2]}, 10**23),
    ],
)
def test_python_helpers_count_before_they_build(make: Callable[[], Any]) -> None:
    with pytest.raises(ConfigError, match=r"100,000 runs per sweep"):
        make()


class _Model(BaseModel):
    a: int
    b: int


@pytest.mark.parametrize(
    ("argv", "sweeps", "kwargs", "message"),
    [
        ([], ["X=range(400)", "Y=range(400)"], {}, "The sweep makes 160,000 runs (X: 400 x Y: 400)"),
        (["-p", "X=linspace(0, 1, 10000)"], ["Y=1,2,3,4,5,6,7,8,9,10,11"], {}, "makes 110,000 runs"),
        ([], ["X=range(100)", "Y=range(100)", "Z=range(100)"], {}, "makes 1,000,000 runs"),
        ([], ["X=1,2"], {"samples": 100_001}, "Too many samples: 100,001"),
        ([], ["X=uniform(0, 1)"], {"samples": 99999999999999999999999}, "99,999,999,999,999,999,999,999"),
        ([], ["X=" + ",".join(["1"] * 100_001)], {}, "Sweep for 'X' has 100,001 values"),
        ([], ["X=" + ",".join(["1"] * 100_001)], {"samples": 2}, "Sweep for 'X' has 100,001 values"),
    ],
)
def test_a_whole_sweep_past_the_limit_is_refused(argv: list[str], sweeps: list[str], kwargs: dict[str, Any],
                                                 message: str) -> None:  # fmt: skip
    with pytest.raises(ConfigError) as info:
        sweep_argv(argv, sweeps, **kwargs)
    assert message in str(info.value) and "100,000" in str(info.value)


def test_the_limit_itself_is_allowed() -> None:
    assert MAX_SWEEP_RUNS == 100_000
    assert len(range_(MAX_SWEEP_RUNS)) == MAX_SWEEP_RUNS
    assert len(sweep_argv([], ["X=range(1000)", "Y=range(100)"])) == MAX_SWEEP_RUNS
    assert len(sample({"x": uniform(0, 1)}, MAX_SWEEP_RUNS, seed=0)) == MAX_SWEEP_RUNS
    assert check_sweep_size({"a": 1000, "b": 100}) == MAX_SWEEP_RUNS
    assert len(sweep_argv([], ["X=range(100000)", "Y=range(100000)"], mode="zip")) == MAX_SWEEP_RUNS
