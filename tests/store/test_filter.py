"""The filter and order-by compiler, run against a real SQLite index."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runlab.errors import FilterError, UsageError
from runlab.store._filter import FIELDS_HELP, compile_order, compile_where
from runlab.store._index import Index


def _day(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


ELSEWHERE = "elsewhere.invalid"
RUNS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"id": "aaaa0001", "name": "r1", "namespace": "ns", "experiment": "exp1", "status": "completed",
         "created": _day("2026-11-20"), "started": _day("2026-11-20") + 10, "ended": _day("2026-11-20") + 110,
         "duration": 100.0, "description": "first run",
         "params": {"a": 3, "lr": 0.1, "opt": {"lr": 0.01}, "flag": True, "s": "x"}, "tags": ["best"]},
        {"loss": {"last": 0.5, "min": 0.1, "max": 0.9, "count": 10, "step": 9}, "acc": {"last": 0.8}},
    ),
    (
        {"id": "aaaa0002", "name": "r2", "namespace": "ns", "experiment": "exp1", "status": "failed",
         "created": _day("2026-11-22"), "duration": 50.0, "error": {"type": "ValueError"},
         "params": {"a": 5, "lr": 0.01, "opt": {"lr": 0.001}, "flag": False, "s": "y", "n": None},
         "tags": ["best", "gpu"]},
        {"loss": {"last": 0.3, "min": 0.2, "max": 0.7, "count": 20, "step": 19}},
    ),
    (
        {"id": "aaaa0003", "namespace": "ns", "experiment": "exp2", "status": "running",
         "created": _day("2026-11-23T12:00"), "params": {"a": "3", "lr": "auto"},
         "heartbeat": {"time": time.time() + 3600, "pid": 1, "host": ELSEWHERE}},
        {},
    ),
    (
        {"id": "aaaa0004", "name": "r4", "namespace": "other", "status": "running", "created": _day("2026-11-24"),
         "description": "hello world", "tags": ["gpu"], "heartbeat": {"time": 1000.0, "pid": 1, "host": ELSEWHERE}},
        {"val.min": {"last": 2.0}, "loss": {"last": 0.9, "min": 0.9, "max": 0.9, "count": 1, "step": 0}},
    ),
    (
        {"id": "aaaa0005", "name": "r5", "namespace": "other", "status": "created",
         "description": "it's \"quoted\"", "params": {"a": 3.0, "list": [1, 2], "b-c/d": 1}},
        {},
    ),
]  # fmt: skip
ALL = {1, 2, 3, 4, 5}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    idx = Index(Path(tmp_path_factory.mktemp("store")) / "index.sqlite")
    for meta, summaries in RUNS:
        idx.upsert(meta, f"runs/{meta['id']}", summaries)
    return idx


def query(index: Index, where: str | None = None, order: str | list[str] | None = "id") -> list[int]:
    """The runs matching ``where`` in ``order``, as their number (aaaa0003 -> 3)."""
    sql, values = compile_where(where) if where is not None else ("1", [])
    order_sql, order_values = compile_order(order)
    rows = index.execute(f"SELECT r.id FROM runs r WHERE {sql} ORDER BY {order_sql}", [*values, *order_values])
    return [int(row[0][-1]) for row in rows]


CASES = [
    # params: numbers compare numerically, text stays text, ordering skips other kinds
    ("params.a == 3", [1, 5]),
    ("params.a = 3", [1, 5]),
    ("params.a == '3'", [3]),
    ("params.a != 3", [2, 3]),
    ("not params.a == 3", [2, 3, 4]),
    ("params.a > 3", [2]),
    ("params.a >= 3", [1, 2, 5]),
    ("params.a < 5", [1, 5]),
    ("params.a <= 5", [1, 2, 5]),
    ("params.a > -1e1", [1, 2, 5]),
    ("params.a < 1e999", [1, 2, 5]),
    (f"params.a > -{'9' * 5000}", [1, 2, 5]),
    ("params.a in [3, 'x']", [1, 5]),
    ("params.a in [5, '3']", [2, 3]),
    ("params.a not in [3]", [2, 3]),
    ("params.lr < 0.05", [2]),
    ("params.lr < 1e-1", [2]),
    ("params.lr > 'a'", [3]),
    ("params.opt.lr == 0.01", [1]),
    ("params.opt.lr < 0.01", [2]),
    ("params.opt == null", [3, 4, 5]),
    ("params.flag == true", [1]),
    ("params.flag == FALSE", [2]),
    ('params.s == "x"', [1]),
    ("params.s == null", [3, 4, 5]),
    ("params.s != null", [1, 2]),
    ("params.n == null", [1, 2, 3, 4, 5]),
    ("params.n != None", []),
    ("params.list == '[1,2]'", [5]),
    ("params.b-c/d == 1", [5]),
    ("params.missing == 1", []),
    ("params.missing != 1", []),
    # metrics
    ("metrics.loss < 0.6", [1, 2]),
    ("metrics.loss.last == 0.9", [4]),
    ("metrics.loss.min <= 0.1", [1]),
    ("metrics.loss.max > 0.8", [1, 4]),
    ("metrics.loss.count >= 10", [1, 2]),
    ("metrics.loss.step == 0", [4]),
    ("metrics.loss in [0.5, 0.3]", [1, 2]),
    ("metrics.loss not in [0.5]", [2, 4]),
    ("metrics.loss == null", [3, 5]),
    ("metrics.loss != null", [1, 2, 4]),
    ("metrics.acc > 0", [1]),
    ("metrics.val.min.last == 2", [4]),
    ("metrics.val.min == 2", []),
    # status (effective: aaaa0004's heartbeat is stale, so it crashed)
    ("status == 'completed'", [1]),
    ("status == 'COMPLETED'", [1]),
    ("status == 'running'", [3]),
    ("status == 'crashed'", [4]),
    ("status != 'completed'", [2, 3, 4, 5]),
    ("status in ['failed', 'created']", [2, 5]),
    ("status not in ['running', 'crashed']", [1, 2, 5]),
    # text columns: a null never matches a comparison
    ("name == 'r1'", [1]),
    ("name != 'r1'", [2, 4, 5]),
    ("not name == 'r1'", [2, 3, 4, 5]),
    ("name > 'r2'", [4, 5]),
    ("name in ['r1', 'r4']", [1, 4]),
    ("name not in ['r1']", [2, 4, 5]),
    ("name in []", []),
    ("name not in []", [1, 2, 4, 5]),
    ("name == null", [3]),
    ("name == NONE", [3]),
    ("name != none", [1, 2, 4, 5]),
    ("namespace == 'other'", [4, 5]),
    ("experiment == 'exp1'", [1, 2]),
    ("experiment == null", [4, 5]),
    ("id == 'aaaa0002'", [2]),
    ("id >= 'aaaa0004'", [4, 5]),
    ("error == 'ValueError'", [2]),
    ("description == 'hello world'", [4]),
    ("description == 'it\\'s \"quoted\"'", [5]),
    ('description == "it\'s \\"quoted\\""', [5]),
    # times: ISO strings in local time, or epoch seconds
    ("created < '2026-11-22'", [1]),
    ("created >= '2026-11-22'", [2, 3, 4]),
    ("created > '2026-11-23T06:00'", [3, 4]),
    (f"created < {_day('2026-11-21')}", [1]),
    (f"created in [{_day('2026-11-22')}, '2026-11-24']", [2, 4]),
    ("created == null", [5]),
    ("started != null", [1]),
    ("ended > '2026-11-20T00:01'", [1]),
    ("duration > 60", [1]),
    ("duration <= 100", [1, 2]),
    ("duration > -.5", [1, 2]),
    ("duration == null", [3, 4, 5]),
    # tags
    ("tags == 'best'", [1, 2]),
    ("tags != 'best'", [3, 4, 5]),
    ("'gpu' in tags", [2, 4]),
    ("'gpu' not in tags", [1, 3, 5]),
    ("tags in ['gpu', 'nope']", [2, 4]),
    ("tags not in ['best', 'gpu']", [3, 5]),
    ("tags in []", []),
    ("tags == null", [3, 5]),
    ("tags != null", [1, 2, 4]),
    # boolean structure and precedence: not > and > or
    ("tags == 'best' and params.a == 5", [2]),
    ("tags == 'gpu' or status == 'completed'", [1, 2, 4]),
    ("tags == 'best' or name == 'r4' and status == 'failed'", [1, 2]),
    ("(tags == 'best' or name == 'r4') and status == 'failed'", [2]),
    ("not tags == 'best' and namespace == 'ns'", [3]),
    ("not (tags == 'best' and namespace == 'ns')", [3, 4, 5]),
    ("NOT name == 'r1' AND tags == 'best'", [2]),
    ("name == 'r1' Or name == 'r2'", [1, 2]),
    ("not not name == 'r1'", [1]),
    ("((name == 'r1'))", [1]),
    ("name=='r1'or(name=='r2')", [1, 2]),
    ("\n name  ==\t'r1' \n", [1]),
]


@pytest.mark.parametrize(("where", "expected"), CASES)
def test_where_selects_the_expected_runs(index: Index, where: str, expected: list[int]) -> None:
    assert query(index, where) == expected


@pytest.mark.parametrize(("where", "expected"), CASES)
def test_not_is_the_complement(index: Index, where: str, expected: list[int]) -> None:
    assert set(query(index, f"not ({where})")) == ALL - set(expected)


def test_values_are_bound_not_interpolated(index: Index) -> None:
    sql, values = compile_where("name == \"x'); DROP TABLE runs; --\" or params.a == 'y'")
    assert "DROP" not in sql and "'y'" not in sql
    assert values == ["x'); DROP TABLE runs; --", "a", "y"]
    assert query(index, 'name == "x\'); DROP TABLE runs; --"') == []
    assert index.count() == 5


def test_params_compile_to_the_indexed_subquery() -> None:
    assert compile_where("params.opt.lr == 0.01") == (
        "r.id IN (SELECT run_id FROM params WHERE key = ? AND value = ?)",
        ["opt.lr", 0.01],
    )
    assert compile_where("metrics.loss.min < 1") == (
        'r.id IN (SELECT run_id FROM metrics WHERE name = ? AND "min" < ?)',
        ["loss", 1],
    )


def test_literals_are_typed() -> None:
    assert compile_where("params.x in [1, -2.5, 1e3, 'a', \"b\\n\", true, false]")[1] == [
        "x", 1, -2.5, 1000.0, "a", "b\n", 1, 0
    ]  # fmt: skip
    assert compile_where(r"name == 'C:\path'")[1] == ["C:\\path"]
    assert compile_where("params.x == 99999999999999999999")[1] == ["x", 1e20]  # beyond SQLite integers
    assert compile_where("params.x == -9223372036854775808")[1] == ["x", -(2**63)]
    assert compile_where(f"params.x == {'9' * 5000}")[1] == ["x", "Infinity"]  # no int digit limit error; inf
    assert compile_where(f"metrics.x == {'9' * 5000}")[1] == ["x", float("inf")]  # as the index stores each
    assert compile_where(f"params.x < -1e{'9' * 5000}")[1] == ["x", float("-inf")]
    assert compile_where("created > '2026-11-23'")[1] == [_day("2026-11-23")]
    assert compile_where("created > '2026-11-23T00:00:00+00:00'")[1] == [1795392000.0]


def test_long_conjunctions_stay_within_sqlite_depth_limit(index: Index) -> None:
    assert query(index, " and ".join(["params.a == 3"] * 3000)) == [1, 5]
    assert query(index, " or ".join([f"name == 'r{i}'" for i in range(3000)])) == [1, 2, 4, 5]


ORDERS: list[tuple[str | list[str] | None, list[int]]] = [
    (None, [5, 1, 2, 3, 4]),  # created ascending; SQLite puts null first here
    ("created", [1, 2, 3, 4, 5]),
    ("-created", [4, 3, 2, 1, 5]),
    ("+created", [1, 2, 3, 4, 5]),
    ("-id", [5, 4, 3, 2, 1]),
    ("metrics.loss", [2, 1, 4, 3, 5]),
    ("-metrics.loss", [4, 1, 2, 5, 3]),  # ties (missing) follow the first key: id descending
    ("metrics.loss.count", [4, 1, 2, 3, 5]),
    ("params.a", [1, 5, 2, 3, 4]),  # numbers (3 == 3.0, tie on id), then text, then missing
    ("-params.a", [3, 2, 5, 1, 4]),
    ("namespace,-created", [3, 2, 1, 4, 5]),
    (" -namespace , name ", [4, 5, 1, 2, 3]),
    (["-namespace", "name"], [4, 5, 1, 2, 3]),
    ("status", [1, 4, 5, 2, 3]),  # completed, crashed, created, failed, running
    ("-duration", [1, 2, 5, 4, 3]),
    ("name", [1, 2, 4, 5, 3]),
    ("-name", [5, 4, 2, 1, 3]),
]


@pytest.mark.parametrize(("order", "expected"), ORDERS)
def test_order(index: Index, order: str | list[str] | None, expected: list[int]) -> None:
    assert query(index, order=order) == expected


NUMBER = "CASE value WHEN 'Infinity' THEN 9e999 WHEN '-Infinity' THEN -9e999 ELSE NULLIF(value, 'NaN') END"


def test_order_sql() -> None:
    assert compile_order(None) == ("r.created ASC, r.id ASC", [])
    assert compile_order("") == ("r.created ASC, r.id ASC", [])
    assert compile_order([]) == ("r.created ASC, r.id ASC", [])
    sql, values = compile_order("params.lr,-created")
    assert values == ["lr", "lr"]
    assert sql == (
        f"(SELECT {NUMBER} FROM params WHERE run_id = r.id AND key = ?) IS NULL, "
        f"(SELECT {NUMBER} FROM params WHERE run_id = r.id AND key = ?) ASC, "
        "r.created DESC, r.id ASC"
    )


def error(expr: str) -> FilterError:
    with pytest.raises(FilterError) as info:
        compile_where(expr)
    return info.value


def test_unknown_field_message() -> None:
    exc = error("parms.a == 3")
    assert str(exc) == (
        f"Unknown field 'parms.a' at position 0; valid fields: {FIELDS_HELP}. Did you mean 'params.a'?\n"
        "  parms.a == 3\n"
        "  ^^^^^^^"
    )
    assert (exc.expression, exc.position) == ("parms.a == 3", 0)
    assert isinstance(exc, ValueError) and isinstance(exc, UsageError)


@pytest.mark.parametrize(
    ("expr", "position", "fragment"),
    [
        ("name == 'x' and stauts == 'failed'", 16, "Did you mean 'status'?"),
        ("tag == 'x'", 0, "Did you mean 'tags'?"),
        ("param == 1", 0, "Did you mean 'params.<name>'?"),
        ("metric.loss < 1", 0, "Did you mean 'metrics.loss'?"),
        ("zzz == 1", 0, "valid fields: params.<name>"),
        ("metrics.loss.mean < 1", 0, "Unknown aggregate 'mean'"),
        ("params. == 1", 0, "Missing parameter name"),
        ("status == 'done'", 10, "created, running, completed, failed, cancelled, crashed"),
        ("status in ['failed', 'ok']", 21, "expected one of created"),
        ("status < 'failed'", 7, "supports only"),
        ("tags > 'a'", 5, "supports only"),
        ("tags == 3", 8, "expected a string"),
        ("created > '2026-13-45'", 10, "Invalid date '2026-13-45'"),
        ("created > true", 10, "expected a date string or epoch seconds"),
        ("duration > '5'", 11, "expected a number"),
        ("metrics.loss > 'low'", 15, "expected a number"),
        ("", 0, "Empty filter expression"),
        ("  \n ", 0, "Empty filter expression"),
        ("name ==", 7, "found end of expression"),
        ("name", 4, "Expected an operator"),
        ("name 'x'", 5, "Expected an operator"),
        ("name not == 'x'", 9, "Expected 'in'"),
        ("name in 'x'", 8, "'[' to start a list"),
        ("name == [1]", 8, "only allowed after 'in'"),
        ("name in [1 2]", 11, "',' or ']'"),
        ("name in [1, [2]]", 12, "cannot be nested"),
        ("name in [1, null]", 12, "null is not allowed in a list"),
        ("name < null", 5, "null can only be compared"),
        ("(name == 'x'", 12, "Expected ')'"),
        ("name == 'x')", 11, "Unexpected ')'"),
        ("name == 'x' name == 'y'", 12, "missing 'and'/'or'"),
        ("name == 'x' and", 15, "Expected a field name"),
        ("and name == 'x'", 0, "Expected a field name"),
        ("'x' in name", 7, "'tags'"),
        ("'x' == tags", 4, "'in tags'"),
        ("name == 'abc", 8, "Unterminated string"),
        ("name == 3abc", 8, "Malformed number"),
        ("name ! 'x'", 5, "Unexpected character '!'"),
        ("name == 'x' && name == 'y'", 12, "Unexpected character '&'"),
    ],
)
def test_errors_point_at_the_problem(expr: str, position: int, fragment: str) -> None:
    exc = error(expr)
    assert fragment in str(exc)
    assert exc.position == position
    head, shown, caret = str(exc).split("\n")
    assert f"at position {position}" in head
    assert caret.index("^") == position + 2
    assert shown == "  " + expr.replace("\n", " ")


def test_long_expressions_show_a_window_around_the_error() -> None:
    expr = "name == 'x' and " * 20 + "nmae == 'y'" + " and name == 'x'" * 20
    _, shown, caret = str(error(expr)).split("\n")
    assert shown.startswith("  ...") and shown.endswith("...") and len(shown) < 120
    assert shown[caret.index("^") :].startswith("nmae")


@pytest.mark.parametrize("expr", ["(" * 1000 + "name == 1" + ")" * 1000, "not " * 1000 + "name == 1", "(" * 5000])
def test_nesting_is_capped(expr: str) -> None:
    assert "nested too deeply" in str(error(expr))


def test_value_count_is_capped() -> None:
    assert "Too many values" in str(error(f"name in [{', '.join(['1'] * 10_001)}]"))


@pytest.mark.parametrize(
    ("order", "position", "fragment"),
    [
        ("crated", 0, "Did you mean 'created'?"),
        ("name,-stauts", 6, "Did you mean 'status'?"),
        ("tags", 0, "Cannot sort by 'tags'"),
        ("created,", 8, "Empty sort key"),
        ("-", 1, "Invalid sort key"),
        ("created desc", 0, "Invalid sort key"),
        ("metrics.loss.avg", 0, "Unknown aggregate 'avg'"),
    ],
)
def test_order_errors(order: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_order(order)
    assert fragment in str(info.value)
    assert info.value.position == position
    assert str(info.value).split("\n")[2].index("^") == position + 2


# -- properties ---------------------------------------------------------------------------

TOKENS = [
    *["params.a", "metrics.loss.min", "status", "tags", "name", "created", "nmae", "'x'", '"y', "3", "-1.5e3"],
    *["(", ")", "[", "]", ",", "==", "!=", "<", ">=", "in", "not", "and", "or", "null", "true", "'2026-11-23'", "\\"],
]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)))
def test_arbitrary_text_compiles_or_raises_filter_error(text: str) -> None:
    try:
        sql, values = compile_where(text)
    except FilterError as exc:
        assert exc.expression == text and 0 <= exc.position <= len(text)
    else:
        assert isinstance(sql, str) and isinstance(values, list)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


NUMBERS = st.one_of(st.integers().map(str), st.floats(allow_nan=False, allow_infinity=False).map(repr))
STRINGS = st.text(max_size=8).map(_quote)
ANY = st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false", "TRUE"]))
DATES = st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2100, 1, 1)).map(
    lambda d: _quote(d.isoformat())
)
NULLS = st.sampled_from(["null", "none", "NULL"])
OPS = st.sampled_from(["==", "=", "!=", "<", "<=", ">", ">="])
EQ = st.sampled_from(["==", "=", "!="])
IN = st.sampled_from(["in", "not in", "NOT IN"])
STATUSES = st.sampled_from(["created", "running", "completed", "failed", "cancelled", "crashed"]).map(_quote)


def _comparisons(fields: st.SearchStrategy[str], ops: st.SearchStrategy[str], values: st.SearchStrategy[str]) -> Any:
    lists = st.lists(values, max_size=4).map(lambda items: f"[{', '.join(items)}]")
    return st.one_of(
        st.tuples(fields, ops, values).map(" ".join),
        st.tuples(fields, EQ, NULLS).map(" ".join),
        st.tuples(fields, IN, lists).map(" ".join),
    )


COMPARISONS = st.one_of(
    _comparisons(st.sampled_from(["params.a", "params.opt.lr", "params.s", "params.b-c/d", "params.nope"]), OPS, ANY),
    _comparisons(st.sampled_from(["name", "namespace", "experiment", "description", "id", "error"]), OPS, ANY),
    _comparisons(
        st.sampled_from(["metrics.loss", "metrics.loss.min", "metrics.val.min.last", "duration"]), OPS, NUMBERS
    ),
    _comparisons(st.sampled_from(["created", "started", "ended"]), OPS, st.one_of(NUMBERS, DATES)),
    _comparisons(st.just("status"), EQ, STATUSES),
    _comparisons(st.just("tags"), EQ, STRINGS),
    st.tuples(STRINGS, IN, st.just("tags")).map(" ".join),
)
EXPRESSIONS = st.recursive(
    COMPARISONS,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or", "AND", "Or"]), inner).map(" ".join),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS)
def test_valid_expressions_compile_and_execute(index: Index, expr: str) -> None:
    matched = set(query(index, expr))
    assert matched | set(query(index, f"not ({expr})")) == ALL
    assert not matched & set(query(index, f"not ({expr})"))


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_strings_round_trip(text: str) -> None:
    assert compile_where(f"name == {_quote(text)}")[1] == [text]
    double = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert compile_where(f"name == {double}")[1] == [text]
