"""NaN and the infinities in sorts and filters: a real store (params as the index's texts, metrics as
SQLite's numbers), ``runlab list --sort``, and ``runlab sweep show --sort`` on a sweep run inline.

Expected everywhere: ``inf`` is the largest number, ``-inf`` the smallest, NaN and a missing value come
after every number in both directions; ``> < ==`` hold for an infinity as for a number and never for NaN.
"""

from __future__ import annotations

import json
import math
import operator
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli._main import _register, cli
from runlab.executors import get_executor
from runlab.params import sweep_argv
from runlab.request import RunOptions
from runlab.sweep import build_requests, plan_sweep, run_sweep

_register()

#: value kind -> the value of parameter ``x`` and of metric ``x`` (None: the run has neither)
KINDS: dict[str, float | None] = {
    "one": 1.0,
    "ten": 10.0,
    "+inf": math.inf,
    "-inf": -math.inf,
    "nan": math.nan,
    "missing": None,
}
ASCENDING = ["-inf", "one", "ten", "+inf"]  # then NaN and missing, in either direction
LAST = {"nan", "missing"}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def runs(root: Path) -> Path:
    """One run per value kind, named after it, with parameter ``x`` and metric ``x`` of that value."""
    for name, value in KINDS.items():
        with runlab.start_run(name=name, params={} if value is None else {"x": value}, root=root,
                              capture=False) as run:  # fmt: skip
            run.log_metric("x" if value is not None else "other", 0.0 if value is None else value)
    return root


# -- sorting ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["params.x", "metrics.x"])
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_sort_puts_infinities_at_the_ends_and_nan_last(runs: Path, field: str, descending: bool) -> None:
    names = [r.name for r in runlab.runs(order_by=("-" if descending else "") + field, root=runs)]
    numbers = ASCENDING[::-1] if descending else ASCENDING
    assert names[:4] == numbers, names
    assert set(names[4:]) == LAST


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_runlab_list_sort_by_an_infinite_param(runs: Path, descending: bool) -> None:
    sort = "-params.x" if descending else "params.x"
    result = invoke("--root", str(runs), "list", "--sort", sort, "--columns", "name", "-f", "json")
    assert result.exit_code == 0, result.output
    names = [row["name"] for row in json.loads(result.output)]
    assert names[:4] == (ASCENDING[::-1] if descending else ASCENDING)
    assert set(names[4:]) == LAST


def test_param_texts_sort_after_the_numbers_and_infinities(root: Path) -> None:
    for name, value in [("text", "abc"), ("inf", math.inf), ("one", 1)]:
        with runlab.start_run(name=name, params={"x": value}, root=root, capture=False):
            pass
    assert [r.name for r in runlab.runs(order_by="params.x", root=root)] == ["one", "inf", "text"]
    assert [r.name for r in runlab.runs(order_by="-params.x", root=root)] == ["text", "inf", "one"]


# -- filters ----------------------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}
FILTERS = [(op, literal) for op in _COMPARE for literal in ("5", "10", "-1e999", "1e999")]


def _expected(op: str, literal: str) -> set[str]:
    """The kinds for which ``x op literal`` holds (Python's float comparison; missing never)."""
    bound = float(literal)
    return {name for name, value in KINDS.items() if value is not None and _COMPARE[op](value, bound)}


@pytest.mark.parametrize("field", ["params.x", "metrics.x"])
@pytest.mark.parametrize(("op", "literal"), FILTERS)
def test_filters_compare_infinities_as_numbers_and_nan_as_false(runs: Path, field: str, op: str,
                                                                literal: str) -> None:  # fmt: skip
    where = f"{field} {op} {literal}"
    assert {r.name for r in runlab.runs(where=where, root=runs)} == _expected(op, literal), where
    # a comparison is true or false: 'not' gives the complement (NaN and missing included)
    negated = {r.name for r in runlab.runs(where=f"not {where}", root=runs)}
    assert negated == set(KINDS) - _expected(op, literal), where


def test_param_infinity_in_a_list_and_text_comparisons(root: Path) -> None:
    for name, value in [("text", "abc"), ("inf", math.inf), ("nan", math.nan), ("one", 1)]:
        with runlab.start_run(name=name, params={"x": value}, root=root, capture=False):
            pass

    def names(where: str) -> set[str]:
        return {r.name for r in runlab.runs(where=where, root=root)}

    assert names("params.x in [1, 1e999]") == {"one", "inf"}
    assert names("params.x not in [1e999]") == {"one", "text", "nan"}
    assert names("params.x > 'A'") == {"text"}  # the stored spellings of inf and NaN are numbers, not text
    assert names("params.x > 0") == {"one", "inf"}


def test_filters_still_use_the_params_index(runs: Path) -> None:
    from runlab.store._filter import compile_where

    runlab.runs(root=runs)  # the index is up to date
    with sqlite3.connect(runs / ".runlab" / "index.sqlite") as conn:
        for where, lookup in [("params.x == 3", "(key=? AND value=?)"), ("params.x > 3", "(key=? AND value>?)")]:
            sql, values = compile_where(where)
            plan = conn.execute(f"EXPLAIN QUERY PLAN SELECT r.id FROM runs r WHERE {sql}", values).fetchall()
            assert any(f"params_key_value {lookup}" in row[-1] for row in plan), (where, plan)


# -- runlab sweep show --sort -----------------------------------------------------------------------------

SWEEP_SCRIPT = """\
X = 0

def main():
    import runlab
    values = [float("nan"), 1.0, 10.0, float("inf"), float("-inf")]
    runlab.log_results({"score": values[X]} if X < len(values) else {"other": 0.0})
"""
SWEEP_KINDS = ["nan", "one", "ten", "+inf", "-inf", "missing"]  # X = 0..5 (NaN first: a sort must move it)


@pytest.fixture
def sweep_id(tmp_path: Path, root: Path) -> str:
    script = tmp_path / "exp.py"
    script.write_text(SWEEP_SCRIPT)
    argvs = sweep_argv([], ["X=0,1,2,3,4,5"])
    sweep, configs = plan_sweep(build_requests(script, argvs, options=RunOptions(root=str(root), capture=False)))
    with get_executor("inline", settings=False) as ex:
        record = run_sweep(configs, sweep, root, ex)
    assert record.state == "completed"
    return record.id


@pytest.mark.parametrize("sort", ["score", "-score", "metrics.score", "-metrics.score"])
def test_sweep_show_sorts_nan_last_and_infinities_at_the_ends(root: Path, sweep_id: str, sort: str) -> None:
    result = invoke("--root", str(root), "sweep", "show", sweep_id, "--sort", sort, "-f", "json")
    assert result.exit_code == 0, result.output
    kinds = [SWEEP_KINDS[row["params.X"]] for row in json.loads(result.output)]
    assert kinds[:4] == (ASCENDING[::-1] if sort.startswith("-") else ASCENDING), kinds
    assert set(kinds[4:]) == LAST


def test_sweep_show_reads_the_texts_of_infinite_params_as_numbers() -> None:
    from runlab.cli._sweep_cmd import _order

    values = ["Infinity", 3, "-Infinity", "NaN", None, math.nan, "abc", math.inf]
    present = sorted((v for v in values if _order(v) is not None), key=_order)  # type: ignore[arg-type,return-value]
    assert present == ["-Infinity", 3, "Infinity", math.inf, "abc"]  # a run's files write infinities as texts
