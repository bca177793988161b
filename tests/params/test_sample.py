"""Command-line sweeps (--sweep, sweep text in -p) and random sampling."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runlab.errors import ConfigError
from runlab.params import Param, loguniform, parse_axis, parse_overrides, randint, sample, sweep_argv, uniform

PARAMS = {"LR": Param("LR", float, 0.1), "BS": Param("BS", int, 8), "OPT": Param("OPT", str, "sgd")}


def typed(argvs: list[list[str]]) -> list[dict[str, object]]:
    return [parse_overrides(argv, PARAMS) for argv in argvs]


def test_sweep_option_grid_typed_by_the_parameter() -> None:
    runs = typed(sweep_argv(["--OPT=adam"], ["BS=16,32", "LR=0.1,0.01"]))
    assert runs == [
        {"OPT": "adam", "BS": 16, "LR": 0.1},
        {"OPT": "adam", "BS": 16, "LR": 0.01},
        {"OPT": "adam", "BS": 32, "LR": 0.1},
        {"OPT": "adam", "BS": 32, "LR": 0.01},
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["-p", "LR=logspace(-4,-1,4)"],
        ["-p=LR=logspace(-4,-1,4)"],
        ["--LR=logspace(-4, -1, 4)"],
        ["--LR", "logspace(-4,-1,4)"],
        ["--set", "LR=logspace(-4,-1,4)"],
    ],
)
def test_sweep_text_in_an_override_is_an_axis(argv: list[str]) -> None:
    assert [r["LR"] for r in typed(sweep_argv(argv))] == [0.0001, 0.001, 0.01, 0.1]


def test_zip_mode_pairs_values() -> None:
    runs = typed(sweep_argv([], ["BS=16,32", "LR=0.1,0.01"], mode="zip"))
    assert runs == [{"BS": 16, "LR": 0.1}, {"BS": 32, "LR": 0.01}]


def test_no_axes_gives_the_argv_once() -> None:
    assert sweep_argv(["--LR=0.5", "--allow-new"]) == [["--LR=0.5", "--allow-new"]]


def test_values_with_commas_inside_brackets_and_quotes() -> None:
    assert sweep_argv([], ["X=[1, 2],'a,b',c"]) == [["-p", "X=[1, 2]"], ["-p", "X=a,b"], ["-p", "X=c"]]


@pytest.mark.parametrize(
    ("sweeps", "kwargs", "message"),
    [
        (["LR"], {}, "NAME=v1,v2"),
        (["LR="], {}, "NAME=v1,v2"),
        (["=1,2"], {}, "NAME=v1,v2"),
        (["LR=1,,2"], {}, "it has an empty value"),
        (["LR=[1,2"], {}, "the '[' is not closed"),
        (["LR=1,2)"], {}, "the ')' at position 4 closes no bracket"),
        (["LR=[1,2)"], {}, "the ')' at position 5 closes no bracket"),
        (["OPT='a,c"], {}, "the quote ' at position 1 is not closed"),
        (['OPT=a,"c'], {}, 'the quote " at position 3 is not closed'),
        (["LR=logspace(-4,-1)"], {}, "logspace"),
        (["LR=logspace(1,2,-3)"], {}, "Invalid logspace(1, 2, -3): num must be"),
        (["LR=logspace(1,2,2.5)"], {}, "Invalid logspace(1, 2, 2.5): num must be"),
        (["LR=logspace(1,1000,3)"], {}, "does not fit in a float"),
        (["LR=linspace('a',1,3)"], {}, "start and stop must be finite numbers"),
        (["LR=range(0,10**9)"], {}, "argument '10**9' is not a literal value"),
        (["LR=choice(1, x)"], {}, "argument 'x' is not a literal value"),
        (["LR=uniform(0,10**9)"], {"samples": 3}, "argument '10**9' is not a literal value"),
        (["LR=uniform(0, 1)"], {}, "--samples N"),
        (["LR=uniform(1, 0)"], {"samples": 3}, "low <= high"),
        (["LR=loguniform(0, 1)"], {"samples": 3}, "low > 0"),
        (["LR=randint(0, 1.5)"], {"samples": 3}, "whole-number"),
        (["LR=uniform(0)"], {"samples": 3}, "takes 2 bounds"),
        (["LR=1,2", "BS=1,2,3"], {"mode": "zip"}, "equal length"),
        (["LR=1,2"], {"samples": 0}, ">= 1"),
        (["LR=1,2"], {"mode": "random"}, "--samples N"),
        (["LR=1,2"], {"mode": "spiral"}, "Unknown sweep mode"),
        ([], {"samples": 4}, "needs something to sample"),
    ],
)
def test_bad_sweeps_say_what_to_write(sweeps: list[str], kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        sweep_argv([], sweeps, **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert "<ast." not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("argv", "sweeps", "message"),
    [
        ([], ["LR=1,2", "LR=3,4"], "'LR' is swept twice (--sweep LR=1,2 and --sweep LR=3,4)"),
        (["-p", "LR=choice(1,2)"], ["LR=3,4"], "'LR' is swept twice (-p LR=choice(1,2) and --sweep LR=3,4)"),
        (["--LR=choice(1,2)", "--set", "LR=linspace(0,1,3)"], [], "'LR' is swept twice"),
        ([], ["LR=1,2", "LR=uniform(0, 1)"], "'LR' is swept twice"),
        (["--LR=1"], ["LR=2,3"], "'LR' is both set (--LR=1) and swept (--sweep LR=2,3)"),
        (["-p", "LR=1", "-p", "LR=choice(2,3)"], [], "'LR' is both set (-p LR=1) and swept (-p LR=choice(2,3))"),
        (["--LR", "1"], ["LR=2,3"], "'LR' is both set (--LR 1)"),
        (["--set", "OPT.lr=1"], ["OPT={'lr': 2},{'lr': 3}"], "'OPT.lr' is set (--set OPT.lr=1) inside 'OPT'"),
        ([], ["OPT.lr=1,2", "OPT={'lr': 2},{'lr': 3}"], "'OPT.lr' is swept inside 'OPT'"),
        (["-p", "OPT={'lr': 2}"], ["OPT=choice({'lr': 3})", "BS=1,2"], "'OPT' is both set (-p OPT={'lr': 2})"),
    ],
)
@pytest.mark.parametrize("mode", [{}, {"mode": "zip"}, {"samples": 3}])
def test_a_parameter_given_twice_is_refused(argv: list[str], sweeps: list[str], message: str,
                                            mode: dict[str, object]) -> None:  # fmt: skip
    with pytest.raises(ConfigError) as info:
        sweep_argv(argv, sweeps, **mode)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_a_plain_value_under_a_swept_item_is_kept() -> None:
    runs = sweep_argv(["--OPT={'lr': 1, 'm': 0}", "--LR=0.5"], ["OPT.lr=2,3"])
    assert runs == [["--OPT={'lr': 1, 'm': 0}", "--LR=0.5", "-p", "OPT.lr=2"],
                    ["--OPT={'lr': 1, 'm': 0}", "--LR=0.5", "-p", "OPT.lr=3"]]  # fmt: skip


def test_random_sampling_is_repeatable_and_in_bounds() -> None:
    first = typed(sweep_argv(["-p", "LR=loguniform(1e-4, 1e-1)"], ["BS=16,32"], samples=20, seed=7))
    again = typed(sweep_argv(["-p", "LR=loguniform(1e-4, 1e-1)"], ["BS=16,32"], samples=20, seed=7))
    other = typed(sweep_argv(["-p", "LR=loguniform(1e-4, 1e-1)"], ["BS=16,32"], samples=20, seed=8))
    assert first == again != other
    assert len(first) == 20
    assert all(1e-4 <= r["LR"] <= 0.1 and r["BS"] in (16, 32) for r in first)  # type: ignore[operator]


def test_parse_axis_reads_ranges_and_leaves_plain_values() -> None:
    assert parse_axis("randint(1, 5)") == randint(1, 5)
    assert parse_axis("0.5") is None
    assert list(parse_axis("choice('a', 'b')") or []) == ["a", "b"]


names = st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True)
values = st.lists(st.integers(-1000, 1000), min_size=1, max_size=4, unique=True)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(names, values, min_size=1, max_size=3))
def test_grid_has_every_combination_once(axes: dict[str, list[int]]) -> None:
    sweeps = [f"{name}={','.join(map(str, vs))}" for name, vs in axes.items()]
    runs = [parse_overrides(a, {}, allow_new=True) for a in sweep_argv([], sweeps)]
    assert len(runs) == math.prod(len(v) for v in axes.values())
    assert len({tuple(sorted(r.items())) for r in runs}) == len(runs)
    for name, vs in axes.items():
        assert {r[name] for r in runs} == set(vs)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.dictionaries(names, st.lists(st.integers(), min_size=n, max_size=n),
                                                          min_size=1, max_size=3)))  # fmt: skip
def test_zip_takes_the_ith_values_together(axes: dict[str, list[int]]) -> None:
    sweeps = [f"{name}={','.join(map(str, vs))}" for name, vs in axes.items()]
    runs = [parse_overrides(a, {}, allow_new=True) for a in sweep_argv([], sweeps, mode="zip")]
    assert runs == [{name: vs[i] for name, vs in axes.items()} for i in range(len(runs))]


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(-1e6, 1e6),
    width=st.floats(0, 1e6),
    n=st.integers(1, 30),
    seed=st.integers(0, 2**32),
)
def test_sample_stays_in_bounds_and_repeats(low: float, width: float, n: int, seed: int) -> None:
    axes = {"x": uniform(low, low + width), "k": randint(-3, 3), "c": ["a", "b"]}
    drawn = sample(axes, n, seed)
    assert drawn == sample(axes, n, seed)
    assert len(drawn) == n
    for combo in drawn:
        assert low <= combo["x"] <= low + width
        assert -3 <= combo["k"] <= 3 and combo["c"] in ("a", "b")


@settings(max_examples=40, deadline=None)
@given(low=st.floats(1e-8, 1.0), factor=st.floats(1.0, 1e6), seed=st.integers(0, 1000))
def test_loguniform_stays_in_bounds(low: float, factor: float, seed: int) -> None:
    for combo in sample({"x": loguniform(low, low * factor)}, 5, seed):
        assert low <= combo["x"] <= low * factor
