"""Override parsing: forms, dotted keys, unknown names, and a round-trip property."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from runlab.params import Param, ParameterError, format_override, format_value, parse_overrides


class Optimizer(BaseModel):
    lr: float = 0.1
    momentum: float = 0.9


PARAMS = {
    "LR": Param("LR", float, 0.1),
    "EPOCHS": Param("EPOCHS", int, 10),
    "NAME": Param("NAME", str, "run"),
    "OPT": Param("OPT", dict, {"lr": 0.1, "nested": {"depth": 2}}),
    "OPTIMIZER": Param("OPTIMIZER", Optimizer, Optimizer()),
    "LAYERS": Param("LAYERS", list[int], [64, 64]),
}


def test_all_forms() -> None:
    argv = ["--LR=0.01", "--EPOCHS", "5", "-p", "NAME=a=b", "--set", "__DEBUG__=true", "--param=LAYERS=[1, 2]"]
    assert parse_overrides(argv, PARAMS) == {"LR": 0.01, "EPOCHS": 5, "NAME": "a=b", "__DEBUG__": True,
                                             "LAYERS": [1, 2]}  # fmt: skip
    assert parse_overrides(["--set=LR=0.5", "--LR=0.2"], PARAMS) == {"LR": 0.2}  # the last one wins


def test_dotted_keys_reach_into_dicts_and_models() -> None:
    result = parse_overrides(["--set", "OPT.lr=0.5", "--set", "OPT.nested.depth=3", "--set", "OPT.new=x"], PARAMS)
    assert result == {"OPT": {"lr": 0.5, "nested": {"depth": 3}, "new": "x"}}
    assert PARAMS["OPT"].default == {"lr": 0.1, "nested": {"depth": 2}}  # defaults are not changed
    model = parse_overrides(["--set", "OPTIMIZER.lr=0.01", "--OPTIMIZER.momentum=0.5"], PARAMS)["OPTIMIZER"]
    assert model == Optimizer(lr=0.01, momentum=0.5)
    assert parse_overrides(["--set", "LAYERS.1=8"], PARAMS) == {"LAYERS": [64, 8]}
    with pytest.raises(ParameterError, match=r"'OPTIMIZER.lr'.*'fast'.*float"):
        parse_overrides(["--set", "OPTIMIZER.lr=fast"], PARAMS)
    with pytest.raises(ParameterError, match="holds a float, not a dict"):
        parse_overrides(["--set", "LR.x=1"], PARAMS)


def test_unknown_names_suggest_and_allow_new() -> None:
    with pytest.raises(ParameterError) as info:
        parse_overrides(["--EPOCH=3"], PARAMS)
    assert "Unknown parameter 'EPOCH'" in str(info.value) and "Did you mean 'EPOCHS'?" in str(info.value)
    with pytest.raises(ParameterError, match="Did you mean 'LR'"):
        parse_overrides(["-p", "lr=3"], PARAMS)
    with pytest.raises(ParameterError, match="--allow-new"):
        parse_overrides(["--ZZZ=3"], PARAMS)
    assert parse_overrides(["--NEW=3", "--set", "D.a=[1]", "--W=x"], PARAMS, allow_new=True) == {
        "NEW": 3, "D": {"a": [1]}, "W": "x"}  # fmt: skip


@pytest.mark.parametrize(
    "argv, message",
    [
        (["LR=1"], "Unexpected argument 'LR=1'"),
        (["-p"], "needs NAME=VALUE"),
        (["-p", "LR"], "write NAME=VALUE"),
        (["--LR"], "needs a value"),
        (["--LR", "--EPOCHS=1"], "needs a value"),
        (["--EPOCHS=1.5"], "Invalid value for 'EPOCHS'"),
    ],
)
def test_malformed(argv: list[str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_overrides(argv, PARAMS)


def test_format_override() -> None:
    assert format_override("LR", 0.01) == "--LR=0.01"
    assert parse_overrides([format_override("OPTIMIZER", Optimizer(lr=2))], PARAMS)["OPTIMIZER"] == Optimizer(lr=2)


finite = st.floats(allow_nan=False)
scalars = st.one_of(st.integers(), finite, st.booleans(), st.text(max_size=8), st.none())
TYPED: list[tuple[Any, Any]] = [
    (int, st.integers()),
    (float, st.floats(allow_nan=False)),
    (bool, st.booleans()),
    (str, st.text()),
    (list[int], st.lists(st.integers(), max_size=5)),
    (dict[str, float], st.dictionaries(st.text(max_size=5), finite, max_size=4)),
    (tuple[int, str], st.tuples(st.integers(), st.text(max_size=5))),
    (int | None, st.one_of(st.none(), st.integers())),
    (list[Any], st.lists(scalars, max_size=4)),
]


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[Any, Any]:
    type_, strategy = draw(st.sampled_from(TYPED))
    return type_, draw(strategy)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b) and type(a) is type(b)


@settings(max_examples=300, deadline=None)
@given(typed_values(), st.sampled_from(["eq", "space", "p", "set"]))
def test_round_trip_text_written_back_parses_to_same_value(case: tuple[Any, Any], form: str) -> None:
    type_, value = case
    params = {"X": Param("X", type_, None)}
    text = format_value(value)
    argv = {"eq": [f"--X={text}"], "space": ["--X", text], "p": ["-p", f"X={text}"], "set": [f"--set=X={text}"]}[form]
    if form == "space" and text.startswith("--"):
        argv = [f"--X={text}"]  # a value that looks like an option must use the = form
    parsed = parse_overrides(argv, params)["X"]
    assert _same(parsed, value), (type_, value, text, parsed)
    assert format_value(parsed) == text


def test_allow_new_flag_in_argv_accepts_unknown_names() -> None:
    params = {"LR": Param("LR", float, 0.1)}
    with pytest.raises(ParameterError, match="Did you mean 'LR'"):
        parse_overrides(["--LRR=1"], params)
    assert parse_overrides(["--allow-new", "--NEW=1", "--LR=0.5"], params) == {"NEW": 1, "LR": 0.5}
