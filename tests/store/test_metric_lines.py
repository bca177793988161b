"""``metrics.jsonl`` lines a reader meets: each damaged line is left out and reported, by every reader
(``read_metrics`` and the live ``MetricsTail``), and the lines around it are read in full.

Damage here is valid JSON that the writer never writes (a value that is not a number, text steps, a
step past 64 bits); a torn line and non-JSON are covered with the files' damage in ``test_faults``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import runlab
from runlab.store._follow import MetricsTail
from runlab.store._metrics_file import read_metrics

DAMAGED = {
    "values that are not numbers": {"name": "loss", "step0": 10, "value": [{"a": 1}, "x", [1]], "time": 1},
    "a value that is an object": {"name": "loss", "step": 10, "value": {"a": 1}, "time": 1},
    "a value that is a list": {"name": "loss", "step": 10, "value": [[1.0]], "time": 1},
    "steps that are text": {"name": "loss", "step": ["a", "b"], "value": [1.0, 2.0], "time": 1},
    "steps that are floats": {"name": "loss", "step": [1.5, 2.5], "value": [1.0, 2.0], "time": 1},
    "a first step that is a float": {"name": "loss", "step0": 1e300, "value": [1.0], "time": 1},
    "a step past 64 bits": {"name": "loss", "step": 2**70, "value": 1.0, "time": 1},
    "steps past 64 bits": {"name": "loss", "step": [1, 2**64], "value": [1.0, 2.0], "time": 1},
    "a last step past 64 bits": {"name": "loss", "step0": 2**63 - 1, "value": [1.0, 2.0], "time": 1},
}


def _file(tmp_path: Path, middle: bytes) -> Path:
    with runlab.start_run(root=tmp_path / "runs", capture=False) as run:
        run.log_metric("loss", 0.5, step=0)
    path = run.path / "metrics.jsonl"
    good = b'{"name":"loss","step0":1,"value":[0.25],"time":2}\n'
    path.write_bytes(path.read_bytes() + middle + b"\n" + good)
    return path


@pytest.mark.parametrize("kind", list(DAMAGED))
@pytest.mark.parametrize("reader", ["read_metrics", "read_metrics(names)", "MetricsTail", "RunRecord.metrics"])
def test_a_damaged_line_is_left_out_and_reported(tmp_path: Path, kind: str, reader: str) -> None:
    path = _file(tmp_path, json.dumps(DAMAGED[kind], separators=(",", ":")).encode())
    if reader.startswith("read_metrics"):
        series, report = read_metrics(path, ["loss"] if "names" in reader else None)
        assert [n for n, _ in report.skipped] == [2]
        loss = series["loss"]
    elif reader == "MetricsTail":
        tail = MetricsTail(path, ["loss"])
        loss = tail.poll()["loss"]
        assert tail.skipped == 1
    else:
        loss = runlab.load(path.parent.name.rsplit("_", 1)[-1], root=tmp_path / "runs").metrics("loss")
    assert (loss.steps, loss.values) == ([0, 1], [0.5, 0.25])


def test_a_line_in_another_spelling_is_read_when_metrics_are_chosen_by_name(tmp_path: Path) -> None:
    """``json.dumps`` writes ``{"name": "loss", ...}``: such a line is read, not skipped as another metric's."""
    path = _file(tmp_path, json.dumps({"name": "loss", "step": 5, "value": 2.0, "time": 3}).encode())
    for names in (None, ["loss"]):
        series, report = read_metrics(path, names)
        assert series["loss"].steps == [0, 5, 1] and not report.skipped
    assert MetricsTail(path, ["loss"]).poll()["loss"].steps == [0, 5, 1]


def test_odd_but_readable_values_are_decoded(tmp_path: Path) -> None:
    line = {"name": "loss", "step": [5, 6, 7, 8], "value": [None, "Infinity", 10**30, 3], "time": 3}
    series, report = read_metrics(_file(tmp_path, json.dumps(line).encode()))
    values = series["loss"].values
    assert not report.skipped and math.isnan(values[1]) and values[2:5] == [math.inf, 1e30, 3]
    assert isinstance(values[3], float)  # an integer past 64 bits becomes a float: JSON readers take it


def test_a_folder_in_place_of_the_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.mkdir()
    series, report = read_metrics(path)
    assert series == {} and report.skipped[0][0] == 0 and "IsADirectoryError" in report.skipped[0][1]
    tail = MetricsTail(path)
    assert tail.poll() == {} and tail.error is not None and "IsADirectoryError" in tail.error
