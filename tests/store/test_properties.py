"""Property tests: data paths, params of every JSON type and metric files round-trip."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlab
from runlab.lifecycle import RunData
from runlab.store._metrics_file import encode_batch, read_metrics

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

segment = st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1,
                  max_size=8).filter(lambda s: not s.startswith("_"))  # fmt: skip
json_scalar = st.none() | st.booleans() | st.integers(min_value=-(2**62), max_value=2**62) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)  # fmt: skip
json_value = st.recursive(json_scalar, lambda kids: st.lists(kids, max_size=4) |
                          st.dictionaries(st.text(max_size=6), kids, max_size=4), max_leaves=10)  # fmt: skip
param_name = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)


@SETTINGS
@given(st.dictionaries(st.lists(segment, min_size=1, max_size=4).map("/".join), json_value, max_size=6))
def test_slash_path_data_round_trips(tmp_path_factory, items: dict) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("data")
    expected = RunData()
    with runlab.start_run(root=root, capture=False, capture_output=False) as run:
        for key, value in items.items():
            try:
                expected[key] = value
            except runlab.UsageError:
                continue  # a key cannot go below an existing value: that is refused, not stored
            run.data[key] = value
    assert runlab.load(run.id, root=root).data == expected.to_dict()
    for key in items:
        if key in expected:
            assert run.data[key] == expected[key]


@SETTINGS
@given(st.dictionaries(param_name, json_value, max_size=6))
def test_params_of_every_json_type_round_trip(tmp_path_factory, params: dict) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("params")
    with runlab.start_run(params=params, root=root, capture=False, capture_output=False) as run:
        pass
    assert runlab.load(run.id, root=root).params == params
    for key, value in params.items():
        if isinstance(value, (bool, int, float, str)) and not isinstance(value, bool):
            literal = (
                repr(value)
                if not isinstance(value, str)
                else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            )
            if isinstance(value, float) and (math.isinf(value) or "e" in literal.lower()):
                continue
            found = runlab.runs(where=f"params.{key} == {literal}", root=root).ids
            assert found == [run.id], (key, value)
    runlab.Store(root).rebuild_index()
    assert runlab.load(run.id, root=root).params == params


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=10**9),
                          st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**12, 10**12)),
                min_size=1, max_size=50))  # fmt: skip
def test_metric_batches_round_trip(tmp_path_factory, points: list) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("m") / "metrics.jsonl"
    steps = [s for s, _ in points]
    values = [v for _, v in points]
    times = [1_700_000_000.0 + i * 0.01 for i in range(len(points))]
    path.write_bytes(encode_batch("x", steps, list(values), times))
    series, report = read_metrics(path)
    assert not report.skipped
    got = series["x"]
    assert got.steps == steps
    assert [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in got.values] == \
        [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in values]  # fmt: skip
    assert all(abs(a - b) < 0.002 for a, b in zip(got.times, times, strict=True))
    lean, _ = read_metrics(path, times=False)  # charts read steps and values only: the same points
    assert lean["x"].steps == steps and lean["x"].times == []
    assert [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in lean["x"].values] == \
        [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in values]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=2.0), min_size=1, max_size=200),
    st.booleans(),
    st.floats(min_value=1_600_000_000, max_value=1_900_000_000),
)
def test_metric_times_round_trip_within_a_millisecond(
    tmp_path_factory, offsets: list, ordered: bool, t0: float
) -> None:  # type: ignore[no-untyped-def]
    times = [t0 + o for o in (sorted(offsets) if ordered else offsets)]
    path = tmp_path_factory.mktemp("t") / "metrics.jsonl"
    path.write_bytes(encode_batch("x", range(len(times)), [1.0] * len(times), times))
    series, report = read_metrics(path)
    assert not report.skipped and series["x"].steps == list(range(len(times)))
    assert all(abs(a - b) <= 0.0011 for a, b in zip(series["x"].times, times, strict=True))
