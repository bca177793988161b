"""Sweep helpers, expansion, pydantic model expansion and config ids."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from runlab.params import (
    Config,
    ConfigError,
    Sweep,
    canonical_json,
    choice,
    config_id,
    expand,
    expand_model,
    grid,
    linspace,
    logspace,
    parse_sweep,
    range_,
    zipped,
)


def test_helpers() -> None:
    assert list(choice("a", "b")) == ["a", "b"] and list(choice([1, 2])) == [1, 2]
    assert list(range_(3)) == [0, 1, 2] and list(range_(10, 0, -4)) == [10, 6, 2]
    assert list(linspace(0, 1, 3)) == [0.0, 0.5, 1.0] and list(linspace(0.1, 0.3, 3)) == [0.1, 0.2, 0.3]
    assert list(linspace(2, 5, 1)) == [2.0]
    assert list(logspace(-4, -1, 4)) == [0.0001, 0.001, 0.01, 0.1]
    assert list(logspace(0, 3, 4, base=2)) == [1.0, 2.0, 4.0, 8.0]
    assert repr(logspace(-4, -1, 4)) == "logspace(-4, -1, 4)" and len(choice(1, 2)) == 2


@pytest.mark.parametrize("make", [lambda: choice(), lambda: range_(0), lambda: linspace(0, 1, 0),
                                  lambda: logspace(0, 1, 0), lambda: Sweep(())])  # fmt: skip
def test_empty_sweeps_are_errors(make: Any) -> None:
    with pytest.raises(ConfigError, match="Empty sweep"):
        make()


def test_invalid_helpers() -> None:
    with pytest.raises(ConfigError, match="whole numbers"):
        range_(0, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="num must be"):
        linspace(0, 1, -1)


@pytest.mark.parametrize(
    "text, values",
    [
        ("logspace(-4, -1, 4)", [0.0001, 0.001, 0.01, 0.1]),
        (" linspace(0, 1, 2) ", [0.0, 1.0]),
        ("range(1, 4)", [1, 2, 3]),
        ("choice('adam', \"sgd\", 3, None, True)", ["adam", "sgd", 3, None, True]),
        ("logspace(0, 2, 3, base=2)", [1.0, 2.0, 4.0]),
    ],
)
def test_parse_sweep(text: str, values: list[Any]) -> None:
    sweep = parse_sweep(text)
    assert sweep is not None and list(sweep) == values


@pytest.mark.parametrize("text", ["choice(__import__('os').system('x'))", "range(1, 2", "linspace(0, 1)",
                                  "logspace(x)", "choice(**{'a': 1})", "choice(1)(2)"])  # fmt: skip
def test_parse_sweep_never_evaluates(text: str) -> None:
    with pytest.raises(ConfigError, match="Invalid sweep"):
        parse_sweep(text)


def test_parse_sweep_ignores_other_text() -> None:
    assert parse_sweep("adam") is None and parse_sweep("my choice(1)") is None


def test_grid_and_zip() -> None:
    assert grid({"a": [1, 2]}, b="range(2)") == [{"a": 1, "b": 0}, {"a": 1, "b": 1}, {"a": 2, "b": 0},
                                                 {"a": 2, "b": 1}]  # fmt: skip
    assert zipped(a=[1, 2], b=choice(3, 4)) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    with pytest.raises(ConfigError, match="equal length"):
        zipped(a=[1], b=[1, 2])
    with pytest.raises(ConfigError, match="Empty sweep for 'a'"):
        grid(a=[])
    with pytest.raises(ConfigError, match="must be a list"):
        grid(a=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be a list or a sweep"):
        grid(a="plain")


def test_expand_dicts_and_configs() -> None:
    assert expand({"A": 1, "L": [1, 2]}) == [{"A": 1, "L": [1, 2]}]
    nested = expand({"OPT": {"lr": choice(0.1, 0.2)}, "B": choice(1, 2)}, mode="zip")
    assert nested == [{"OPT": {"lr": 0.1}, "B": 1}, {"OPT": {"lr": 0.2}, "B": 2}]
    assert expand({"A": "choice(1, 2)"}) == [{"A": "choice(1, 2)"}]
    assert expand({"A": "choice(1, 2)"}, parse_strings=True) == [{"A": 1}, {"A": 2}]
    config = Config({"LR": logspace(-2, -1, 2)}, args=[1], kwargs={"dev": choice("cpu", "gpu")}, metadata={"m": 1})
    out = expand(config)
    assert [(c.globals_dict["LR"], c.kwargs["dev"]) for c in out] == [(0.01, "cpu"), (0.01, "gpu"), (0.1, "cpu"),
                                                                      (0.1, "gpu")]  # fmt: skip
    assert out[3].metadata == {"m": 1, "sweep_values": {"LR": 0.1, "dev": "gpu"}} and out[3].args == [1]
    assert len({c.id for c in out}) == 4
    with pytest.raises(ConfigError, match="Unknown sweep mode"):
        expand({}, mode="random")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="Cannot expand"):
        expand([1])


class Optim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "adam"
    lr: float = 0.1


class Train(BaseModel):
    epochs: int
    layers: list[int] = [64]
    optim: Optim = Optim()
    path: Path | None = None


def test_expand_model_product_of_alternatives() -> None:
    variants = expand_model(Train, {"epochs": [1, 2], "layers": [32, 32], "optim": {"lr": "logspace(-2, -1, 2)"}})
    assert len(variants) == 4 and all(isinstance(v, Train) for v in variants)
    assert [(v.epochs, v.optim.lr) for v in variants] == [(1, 0.01), (1, 0.1), (2, 0.01), (2, 0.1)]
    assert variants[0].layers == [32, 32]  # a list for a list field is a value
    assert [v.layers for v in expand_model(Train, {"epochs": 1, "layers": [[1], [2, 2]]})] == [[1], [2, 2]]
    assert [v.epochs for v in expand_model(Train, {"epochs": [1, 2, 3]}, mode="zip")] == [1, 2, 3]
    plain = expand_model(Train, {"epochs": choice(5, 6)}, validate=False)
    assert plain == [{"epochs": 5}, {"epochs": 6}]


def test_expand_model_validates_each_variant() -> None:
    with pytest.raises(ConfigError, match=r"Variant 2 of Train is invalid: epochs.*'many'"):
        expand_model(Train, {"epochs": [1, "many"]})
    with pytest.raises(ConfigError, match=r"optim.momentum"):
        expand_model(Train, {"epochs": 1, "optim": {"momentum": 0.9}})
    with pytest.raises(ConfigError, match="Empty sweep"):
        expand_model(Train, {"epochs": []})


def test_config_id_normalisation() -> None:
    assert config_id({"a": 1, "b": [1.0, 2]}) == config_id({"b": [1, 2.0], "a": 1.0})
    assert config_id({"a": 1e3}) == config_id({"a": 1000}) and config_id({"a": -0.0}) == config_id({"a": 0})
    assert config_id({"a": (1, 2)}) == config_id({"a": [1, 2]})
    assert config_id({"a": True}) != config_id({"a": 1})  # booleans are not numbers
    assert config_id({"a": 0.1}) != config_id({"a": 0.10000001})
    assert config_id({"a": float("nan")}) == config_id({"a": float("nan")})
    assert config_id({"p": Path("a/b")}) == config_id({"p": "a/b"})
    assert config_id(Optim(lr=1)) == config_id({"lr": 1, "name": "adam"})
    assert Config({"A": 1}, metadata={"x": 1}).id == Config({"A": 1.0}).id != Config({"A": 1}, args=[1]).id
    assert canonical_json({"b": {1, 2.0}, "a": None}) == '{"a":null,"b":[1,2]}'
    assert len(config_id({})) == 12 and config_id({}, length=6) == config_id({})[:6]


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=6))  # fmt: skip
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=12)  # fmt: skip


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def _respelled(value: Any) -> Any:
    """The same numbers written differently: whole floats as ints and small ints as floats."""
    if isinstance(value, dict):
        return {k: _respelled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_respelled(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return float(value)
    return value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, max_size=5), st.randoms(use_true_random=False))
def test_config_id_invariance(config: dict[str, Any], rng: random.Random) -> None:
    ident = config_id(config)
    assert config_id(_shuffled(config, rng)) == ident
    assert config_id(_respelled(config)) == ident
    assert Config(dict(config)).id == Config(_shuffled(config, rng)).id


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=5), json_values, min_size=1, max_size=4), st.data())
def test_config_id_distinguishes_changed_values(config: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(config)))
    changed = {**config, key: ["changed", config[key]]}
    assert config_id(changed) != config_id(config)
