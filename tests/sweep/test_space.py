"""Search spaces: --search text, a config's search: mapping, and what the trial gets."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from runlab.sweep import Dimension, SearchSpaceError, parse_search, parse_search_mapping
from runlab.sweep._space import suggest

GOOD = [
    ("LR=float(1e-5,1e-1,log)", Dimension("LR", "float", 1e-5, 0.1, log=True)),
    ("LR = float( 0 , 1 )", Dimension("LR", "float", 0.0, 1.0)),
    ("LR=float(0,1,step=0.25)", Dimension("LR", "float", 0.0, 1.0, step=0.25)),
    ("N=int(1,4)", Dimension("N", "int", 1, 4)),
    ("N=int(1,1024,log)", Dimension("N", "int", 1, 1024, log=True)),
    ("N=int(0,10,step=2)", Dimension("N", "int", 0, 10, step=2)),
    ("OPT=choice(adam,sgd)", Dimension("OPT", "choice", choices=("adam", "sgd"))),
    ("B=choice(true, 1, 0.5, 'a,b', [1, 2])", Dimension("B", "choice", choices=(True, 1, 0.5, "a,b", [1, 2]))),
    ("cfg.lr=float(1,2)", Dimension("cfg.lr", "float", 1.0, 2.0)),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_search_text_parses_to_a_typed_dimension(text: str, expected: Dimension) -> None:
    assert parse_search([text]) == {expected.name: expected}


BAD = [
    ("LR", "expected NAME=float"),
    ("LR=float(1e-5,1e-1", "expected NAME=float"),
    ("LR=uniform(0,1)", "expected NAME=float"),
    ("LR=float(1)", "needs (low, high)"),
    ("LR=float(a,1)", "'a' is not a number"),
    ("N=int(1.5,4)", "'1.5' is not an int"),
    ("LR=float(1,0)", "low 1.0 is above high 0.0"),
    ("LR=float(0,1,log)", "needs low > 0"),
    ("LR=float(1,2,log,step=0.1)", "cannot be combined"),
    ("LR=float(0,1,step=0)", "step must be > 0"),
    ("LR=float(0,1,fast)", "unknown option 'fast'"),
    ("LR=float(0,inf)", "not finite"),
    ("OPT=choice()", "at least one value"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_search_text_names_the_value_and_the_form(text: str, message: str) -> None:
    with pytest.raises(SearchSpaceError, match=None) as info:
        parse_search([text])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_name_searched_twice_is_refused() -> None:
    with pytest.raises(SearchSpaceError, match="searched twice"):
        parse_search(["A=int(1,2)", "A=int(3,4)"])


MAPPINGS: list[tuple[Any, str]] = [
    ([1, 2], "expected a mapping"),
    ({"LR": [1, 2]}, "expected NAME"),
    ({"LR": {"float": [1, 2], "int": [1, 2]}}, "expected NAME"),
    ({"LR": {"float": [1]}}, "must be [low, high]"),
    ({"LR": {"float": [1, 2], "log": "yes"}}, "log must be true or false"),
    ({"LR": {"float": [1, 2], "scale": 3}}, "unknown key 'scale'"),
    ({"OPT": {"choice": "adam"}}, "choice must be a list"),
    ({"LR": {"float": ["x", 2]}}, "'x' is not a number"),
]


@pytest.mark.parametrize(("mapping", "message"), MAPPINGS)
def test_malformed_search_mapping_is_refused(mapping: Any, message: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        parse_search_mapping(mapping)
    assert message in str(info.value)


def test_search_mapping_matches_the_text_form() -> None:
    mapping = {"LR": {"float": [1e-5, 0.1], "log": True}, "L": {"int": [1, 4]}, "OPT": {"choice": ["adam", "sgd"]}}
    assert parse_search_mapping(mapping) == parse_search(["LR=float(1e-5,0.1,log)", "L=int(1,4)",
                                                          "OPT=choice(adam,sgd)"])  # fmt: skip


@given(low=st.floats(-1e6, 1e6), width=st.floats(0, 1e6), seed=st.integers(0, 2**16))
def test_suggested_values_lie_in_the_range(low: float, width: float, seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    high = low + width
    space = parse_search([f"X=float({low!r},{high!r})", f"N=int({int(low)},{int(high)})"])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    values = suggest(study.ask(), space)
    assert low <= values["X"] <= high and int(low) <= values["N"] <= int(high)
    assert isinstance(values["N"], int)
