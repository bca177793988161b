"""The UI's series cache: reads only what was appended, starts over when a file is replaced, stays in budget."""

from __future__ import annotations

import math
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runlab.store._metrics_file import encode_batch, read_metrics
from runlab.ui._cache import SeriesCache


def _batch(name: str, start: int, values: list[float]) -> bytes:
    steps = range(start, start + len(values))
    return encode_batch(name, steps, values, [1_700_000_000.0 + i for i in range(len(values))])


def _same(a: list[float], b: list[float]) -> bool:
    return [("nan" if math.isnan(v) else v) for v in a] == [("nan" if math.isnan(v) else v) for v in b]


def test_appended_points_are_read_incrementally(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(_batch("loss", 0, [3.0, 2.0]) + _batch("acc", 0, [0.1]))
    cache = SeriesCache()
    assert cache.get(path, ["loss"]) == {"loss": ([0, 1], [3.0, 2.0])}
    with path.open("ab") as handle:
        handle.write(_batch("loss", 2, [1.0, math.nan]) + _batch("acc", 1, [0.2]))
    steps, values = cache.get(path, ["loss"])["loss"]
    assert steps == [0, 1, 2, 3] and _same(values, [3.0, 2.0, 1.0, math.nan])
    both = cache.get(path, ["loss", "acc", "nosuch"])  # a missing metric is left out
    assert set(both) == {"loss", "acc"} and both["acc"] == ([0, 1], [0.1, 0.2]) and _same(both["loss"][1], values)


def test_a_torn_last_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    line = _batch("loss", 0, [1.0, 2.0])
    path.write_bytes(_batch("loss", 0, [0.5])[:-1])  # no newline yet: the writer is mid-line
    cache = SeriesCache()
    assert cache.get(path, ["loss"]) == {}
    path.write_bytes(line)
    assert cache.get(path, ["loss"]) == {"loss": ([0, 1], [1.0, 2.0])}


def test_a_replaced_or_shrunk_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(_batch("loss", 0, [1.0, 2.0, 3.0]))
    cache = SeriesCache()
    assert cache.get(path, ["loss"])["loss"][1] == [1.0, 2.0, 3.0]
    other = tmp_path / "new.jsonl"
    other.write_bytes(_batch("loss", 0, [9.0]) + _batch("loss", 1, [8.0, 7.0, 6.0, 5.0]))
    os.replace(other, path)  # another file under the same name (a rebuilt run folder)
    assert cache.get(path, ["loss"])["loss"][1] == [9.0, 8.0, 7.0, 6.0, 5.0]
    path.write_bytes(_batch("loss", 0, [4.0]))  # shorter than what was read
    assert cache.get(path, ["loss"])["loss"] == ([0], [4.0])
    path.unlink()
    assert cache.get(path, ["loss"]) == {}


def test_results_are_copies(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(_batch("loss", 0, [1.0]))
    cache = SeriesCache()
    cache.get(path, ["loss"])["loss"][1].append(99.0)
    assert cache.get(path, ["loss"])["loss"][1] == [1.0]


def test_the_least_recently_used_series_go_first(tmp_path: Path) -> None:
    cache = SeriesCache(budget=10)
    paths = []
    for i in range(3):
        path = tmp_path / f"m{i}.jsonl"
        path.write_bytes(_batch("loss", 0, [float(i)] * 6))
        paths.append(path)
    cache.get(paths[0], ["loss"])
    cache.get(paths[1], ["loss"])  # 12 points > 10: the first goes
    assert list(k[0] for k in cache._entries) == [str(paths[1])]
    cache.get(paths[2], ["loss"])
    assert list(k[0] for k in cache._entries) == [str(paths[2])]
    assert cache.get(paths[0], ["loss"])["loss"][1] == [0.0] * 6  # read again when asked again


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**9, 10**9),
                         min_size=1, max_size=30), min_size=1, max_size=6))  # fmt: skip
def test_reading_in_pieces_gives_what_one_read_gives(tmp_path: Path, batches: list[list[float]]) -> None:
    path = tmp_path / "pieces.jsonl"
    path.write_bytes(b"")
    cache = SeriesCache()
    start = 0
    for batch in batches:
        with path.open("ab") as handle:
            handle.write(_batch("x", start, list(batch)) + _batch("y", start, [1.0]))
        start += len(batch)
        got = cache.get(path, ["x"])["x"]
        whole = read_metrics(path, ["x"])[0]["x"]
        assert got[0] == whole.steps and _same([float(v) for v in got[1]], [float(v) for v in whole.values])
