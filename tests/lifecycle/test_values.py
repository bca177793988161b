"""Odd values x API calls: refused up front with a typed error, or stored converted; nothing else lost.

Every case runs through a real run in a real store, then checks that the other data keys
survived, that ``runlab index rebuild`` succeeds and that ``runlab index check`` is clean.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import runlab
from runlab.cli import cli
from runlab.cli._main import _register
from runlab.lifecycle._values import INT64_MAX, INT64_MIN, to_json_value
from runlab.store._files import dumps_light, loads, read_json

from ..conftest import forget_stores

_register()


class FakeTensor:
    """Duck-typed like a torch / JAX tensor: ``tolist()`` and no JSON form of its own."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def tolist(self) -> list[float]:
        return list(self.values)


class ArrayLike:
    """Only ``__array__`` (as some array libraries offer)."""

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.arange(3)


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: tuple[int, int]


def _cycle() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


# Each case failed before values were checked when set (the run's exit raised and data.json was
# never written), except the "kept-" controls, which worked before and must keep working.
# (case, value, what is stored)
CONVERTED: list[tuple[str, Any, Any]] = [
    ("numpy-1d", np.array([1.5, 2.5]), [1.5, 2.5]),
    ("numpy-2d-int", np.arange(4).reshape(2, 2), [[0, 1], [2, 3]]),
    ("kept-numpy-float32", np.float32(0.5), 0.5),
    ("kept-numpy-int64", np.int64(7), 7),
    ("kept-numpy-bool", np.bool_(True), True),
    ("tensor-like", FakeTensor([1.0, 2.0, 3.0]), [1.0, 2.0, 3.0]),
    ("array-protocol", ArrayLike(), [0, 1, 2]),
    ("tuple-and-set", {"t": (1, 2), "s": {3}}, {"t": [1, 2], "s": [3]}),
    ("int-keys", {7: "a", 2.5: "b", True: "c", None: "d"}, {"7": "a", "2.5": "b", "true": "c", "null": "d"}),
    ("date-path-enum", [datetime.date(2026, 1, 2), Path("a/b"), Color.RED], ["2026-01-02", "a/b", "red"]),
    ("dataclass", Point(1, (2, 3)), {"x": 1, "y": [2, 3]}),
    ("kept-int64-edges", [INT64_MIN, INT64_MAX], [INT64_MIN, INT64_MAX]),
    ("numpy-in-dict", {"w": np.zeros(2, dtype=np.float32)}, {"w": [0.0, 0.0]}),
    # NaN and the infinities were written as JSON null: read back as None, indistinguishable from "no value"
    ("nan", math.nan, "NaN"),
    ("infinities", [math.inf, 1.5, -math.inf], ["Infinity", 1.5, "-Infinity"]),
    ("numpy-nan", np.array([np.nan, 0.5]), ["NaN", 0.5]),
    ("numpy-float64-inf", np.float64("inf"), "Infinity"),
    ("nan-in-dict", {"loss": float("nan")}, {"loss": "NaN"}),
    ("kept-finite-floats", [1e308, 1e308], [1e308, 1e308]),  # their sum overflows: still stored as numbers
]
REFUSED: list[tuple[str, Any, list[str]]] = [
    ("lambda", lambda: 1, ["function"]),
    ("object", object(), ["object"]),
    ("bytes", b"\x00raw", ["bytes", "artifact"]),
    ("huge-int", 10**30, ["64 bits", "int"]),
    ("huge-negative", INT64_MIN - 1, ["64 bits"]),
    ("huge-in-list", [1, 2, 10**100], ["[2]", "64 bits"]),
    ("nested-object", {"model": {"net": object()}}, ["model.net", "object"]),
    ("object-key", {object(): 1}, ["mapping key"]),
    ("surrogate", "bad \ud800 text", ["surrogates"]),
    ("surrogate-key", {"bad \udcff": 1}, ["surrogates"]),  # was accepted: data.json then failed at the run's end
    ("cycle", _cycle(), ["nested more than"]),
    ("numpy-object-array", np.array([object()], dtype=object), ["object"]),
]


def _index_is_clean(root: Path) -> None:
    forget_stores()
    runner = CliRunner()
    rebuilt = runner.invoke(cli, ["index", "rebuild", "--root", str(root)])
    assert rebuilt.exit_code == 0, rebuilt.output
    checked = runner.invoke(cli, ["index", "check", "--root", str(root)])
    assert checked.exit_code == 0, checked.output


def _set_via_run(root: Path, key: str, value: Any) -> tuple[runlab.Run, BaseException | None]:
    error = None
    with runlab.start_run(root=root, capture=False) as run:
        run.data["keep/a"] = 1
        try:
            run.data[key] = value
        except runlab.DataError as exc:
            error = exc
        run.data["keep/b"] = "after"
    return run, error


def _set_via_experiment(root: Path, key: str, value: Any) -> tuple[runlab.Run, BaseException | None]:
    experiment = runlab.Experiment(glob={"N": 1}, root=root, namespace="values")
    caught: list[BaseException] = []

    @experiment
    def main(e: Any) -> None:
        e["keep/a"] = 1
        try:
            e[key] = value
        except runlab.DataError as exc:
            caught.append(exc)
        e["keep/b"] = "after"

    run = experiment.run()
    return run, caught[0] if caught else None


SETTERS = {"run.data": _set_via_run, "e[...]": _set_via_experiment}


@pytest.mark.parametrize("setter", SETTERS)
@pytest.mark.parametrize(("case", "value", "stored"), CONVERTED, ids=[c[0] for c in CONVERTED])
def test_storable_values_are_converted_when_set(root: Path, setter: str, case: str, value: Any, stored: Any) -> None:
    run, error = SETTERS[setter](root, "value", value)
    assert error is None and run.status == "completed"
    assert run.data["value"] == stored  # converted when set, not at the end
    data = runlab.load(run.id, root=root).data
    assert data == {"keep": {"a": 1, "b": "after"}, "value": stored}
    _index_is_clean(root)


@pytest.mark.parametrize("setter", SETTERS)
@pytest.mark.parametrize(("case", "value", "words"), REFUSED, ids=[c[0] for c in REFUSED])
def test_values_that_are_not_json_are_refused_when_set(
    root: Path, setter: str, case: str, value: Any, words: list[str]
) -> None:
    run, error = SETTERS[setter](root, "odd/key", value)
    assert isinstance(error, runlab.DataError) and isinstance(error, (TypeError, ValueError))
    message = str(error)
    assert "'odd/key'" in message and error.key == "odd/key" and error.type_name
    for word in words:
        assert word in message, message
    assert run.status == "completed"  # the refusal did not fail the run and lost nothing
    assert runlab.load(run.id, root=root).data == {"keep": {"a": 1, "b": "after"}}
    _index_is_clean(root)


def test_a_stored_value_does_not_follow_later_changes_of_the_callers_object(root: Path) -> None:
    items = [1, 2]
    with runlab.start_run(root=root, capture=False) as run:
        run.data["items"] = items
        items.append(object())  # would have broken data.json at the end before
    assert runlab.load(run.id, root=root).data == {"items": [1, 2]}


def test_private_keys_stay_in_memory_as_given(root: Path) -> None:
    """A control: worked before, must keep working (private values are not checked)."""
    marker = object()
    with runlab.start_run(root=root, capture=False) as run:
        run.data["_cache/model"] = marker
        assert run.data["_cache/model"] is marker
    assert runlab.load(run.id, root=root).data == {}


# -- metrics, steps and parameters: huge integers -------------------------------------------------
METRIC_VALUES: list[tuple[str, Any, Any]] = [
    ("huge-int-becomes-float", 10**30, 1e30),
    ("huge-negative-int", -(10**20), -1e20),
    ("numpy-uint64-max", np.uint64(2**64 - 1), float(2**64 - 1)),
    ("kept-int64-max-stays-int", INT64_MAX, INT64_MAX),
    ("beyond-float", 10**400, "error"),
    ("kept-bool", True, 1),
]


@pytest.mark.parametrize(("case", "value", "stored"), METRIC_VALUES, ids=[c[0] for c in METRIC_VALUES])
def test_metric_values_are_floats_or_64_bit_integers(root: Path, case: str, value: Any, stored: Any) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("ok", 1.0)
        if stored == "error":
            with pytest.raises(runlab.MetricError, match="beyond the range of a float"):
                run.log_metric("n", value)
        else:
            run.log_metric("n", value)
    record = runlab.load(run.id, root=root)
    assert record.metrics("ok").values == [1.0]
    if stored != "error":
        assert record.metrics("n").values == [stored]
    _index_is_clean(root)


# (case, points, what run.json's summary holds for last, min, max); the non-finite ones were written as
# null: a diverged run looked like a run without the metric, and `metrics.loss.max > 1e300` never found it
SUMMARIES: list[tuple[str, list[float], tuple[Any, Any, Any]]] = [
    ("diverged-to-inf", [1.0, 2.0, math.inf], ("Infinity", 1.0, "Infinity")),
    ("last-nan", [1.0, math.nan], ("NaN", 1.0, 1.0)),
    ("to-minus-inf", [0.5, -math.inf], ("-Infinity", "-Infinity", 0.5)),
    ("kept-finite", [0.5, 0.25], (0.25, 0.25, 0.5)),
]


@pytest.mark.parametrize("finished", [True, False], ids=["finished", "running"])
@pytest.mark.parametrize(("case", "points", "stored"), SUMMARIES, ids=[c[0] for c in SUMMARIES])
def test_non_finite_metric_summaries_are_kept_apart_from_missing_ones(
    root: Path, finished: bool, case: str, points: list[float], stored: tuple[Any, Any, Any]
) -> None:
    run = runlab.start_run(root=root, capture=False)
    for value in points:
        run.log_metric("loss", value)
    if finished:
        run.finish()
        assert [read_json(run.path / "run.json")["metrics"]["loss"][k] for k in ("last", "min", "max")] == list(stored)
    else:  # a running run's summaries reach the index with its heartbeat
        run._flush()
        run._beat()
    as_floats = [v if not isinstance(v, str) else {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
                 for v in stored]  # fmt: skip
    for rebuilt in (False, True):
        if rebuilt:
            runlab.Store(root).rebuild_index()
        forget_stores()
        summary = runlab.load(run.id, root=root).summaries["loss"]
        got = [summary.last, summary.min, summary.max]
        assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(got, as_floats, strict=True)), got
        diverged = [r.id for r in runlab.runs(root=root, where="metrics.loss.max > 1e300")]
        assert diverged == ([run.id] if stored[2] == "Infinity" else [])
    if not finished:
        run.finish()
    _index_is_clean(root)


STEPS: list[tuple[str, Any, str | None]] = [
    ("2**70", 2**70, "fit in 64 bits"),
    ("int64-max", INT64_MAX, "fit in 64 bits"),  # its next automatic step would not fit
    ("below-int64", INT64_MIN - 1, "fit in 64 bits"),
    ("numpy-huge", np.uint64(2**64 - 1), "fit in 64 bits"),
    ("kept-float", 1.5, "whole number"),
    ("kept-numpy-int", np.int64(5), None),
    ("kept-largest", INT64_MAX - 1, None),
]


@pytest.mark.parametrize(("case", "step", "error"), STEPS, ids=[c[0] for c in STEPS])
def test_steps_must_fit_in_64_bits(root: Path, case: str, step: Any, error: str | None) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        if error:
            with pytest.raises(runlab.MetricError, match=error):
                run.log_metric("loss", 0.5, step=step)
        else:
            run.log_metric("loss", 0.5, step=step)
        run.log_metric("acc", 0.9)
    record = runlab.load(run.id, root=root)
    assert record.metrics("acc").values == [0.9]
    if error:
        assert "loss" not in record.metrics()
    else:
        assert record.metrics("loss").steps == [int(step)]
    _index_is_clean(root)


@pytest.mark.parametrize(("value", "text"), [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity")])
def test_a_non_finite_float_parameter_is_recorded_as_text_and_read_back_as_the_float(
    root: Path, value: float, text: str
) -> None:
    with runlab.start_run(root=root, capture=False, params={"lr": value, "n": 1}) as run:
        assert run.params["lr"] == value or math.isnan(run.params["lr"])
    record = runlab.load(run.id, root=root)
    assert record.metadata["params"]["lr"] == {"value": text, "type": "float", "description": None, "usable": True}
    assert record.params["lr"] == text  # the index holds the text: shown as such, never as a blank
    listed = CliRunner().invoke(cli, ["list", "--root", str(root), "-c", "params.lr"])
    assert listed.exit_code == 0 and text in listed.output, listed.output
    _index_is_clean(root)


@pytest.mark.parametrize("via", ["start_run", "log_params"])
def test_huge_parameter_integers_are_recorded_as_text(root: Path, via: str) -> None:
    params = {"seed": 10**100, "lr": 0.1, "shape": np.array([2, 3])}
    with runlab.start_run(root=root, capture=False, params=params if via == "start_run" else None) as run:
        if via == "log_params":
            run.log_params(params)
    meta = runlab.load(run.id, root=root).metadata["params"]
    assert meta["seed"] == {"value": str(10**100), "type": "int", "description": None, "usable": False}
    assert meta["lr"]["value"] == 0.1 and meta["lr"]["usable"] is True
    assert meta["shape"]["value"] == [2, 3] and meta["shape"]["usable"] is True
    _index_is_clean(root)
    listed = CliRunner().invoke(cli, ["list", "--root", str(root)])
    assert listed.exit_code == 0 and run.id in listed.output, listed.output


def test_a_crashed_run_with_odd_values_never_breaks_a_later_rebuild(root: Path) -> None:
    """The run is SIGKILLed before finishing: whatever it wrote so far must be indexable."""
    code = f"""
import os, signal, time, runlab
run = runlab.start_run(root={str(root)!r}, capture=False, params={{"seed": 10**100}})
run.log_metric("n", 10**30)
try:
    run.log_metric("n", 1.0, step=2**70)
except runlab.MetricError:
    pass
run.data["x"] = {{"big": 2**40}}
run._flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
    subprocess.run([sys.executable, "-c", code], timeout=120, check=False)
    _index_is_clean(root)
    (record,) = runlab.runs(root=root)
    assert record.metrics("n").values == [1e30] and record.data == {"x": {"big": 2**40}}


# -- Hypothesis: any nesting of odd values ---------------------------------------------------------
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from(["\ud800", "ok\udfff"])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4) | st.integers(-5, 5) | st.sampled_from(["\udcff"]), inner, max_size=4)
    ),
    max_leaves=12,
)


def _storable(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return all(_storable(k) for k in value) and all(_storable(v) for v in value.values())
    return all(_storable(v) for v in value)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_any_value_is_either_refused_or_round_trips(value: Any) -> None:
    if not _storable(value):
        with pytest.raises(runlab.DataError):
            to_json_value(value, "k")
        return
    converted = to_json_value(value, "k")
    assert loads(dumps_light(converted)) == converted  # exactly what the store reads back
    assert math.isfinite(len(dumps_light(converted)))


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b/c", "d"]), _VALUES, min_size=1, max_size=3))
def test_setting_odd_values_never_loses_the_other_keys(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, Any]
) -> None:
    root = tmp_path_factory.mktemp("store")
    expected: dict[str, Any] = {}
    with runlab.start_run(root=root, capture=False) as run:
        for key, value in values.items():
            try:
                run.data[key] = value
            except runlab.DataError:
                assert not _storable(value)
            else:
                expected[key] = to_json_value(value)
    data = runlab.load(run.id, root=root).data
    for key, value in expected.items():
        node = data
        for part in key.split("/"):
            node = node[part]
        assert node == value
    forget_stores()


@pytest.mark.parametrize(
    ("returned", "stored"),
    [
        ("10**400", {"result_repr": str(10**400)}),
        ("[1, 2**70]", {"result_repr": f"[1, {2**70}]"}),
        ("(1, 2)", {"result": [1, 2]}),
    ],
)
def test_a_script_result_that_is_not_storable_is_kept_as_text(tmp_path: Path, returned: str, stored: Any) -> None:
    """The script style stores its entry point's result in run.data; the same rule applies."""
    script = tmp_path / "job.py"
    script.write_text(f"def main():\n    return {returned}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "runlab", "run", str(script), "--root", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _index_is_clean(tmp_path / "runs")
    (record,) = runlab.runs(root=tmp_path / "runs")
    assert record.status == "completed" and record.data == stored
