"""``runlab list`` on real terminals 30 to 120 columns wide: IDs, states and dates never split."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import runlab

from ..conftest import REPO
from .terminal import run_in_terminal, runlab_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def _lines(output: str) -> list[str]:
    return [ANSI.sub("", line).rstrip() for line in output.replace("\r", "").splitlines()]


def _check_whole(lines: list[str], records: list[runlab.RunRecord], columns: int) -> None:
    assert all(len(line) <= columns for line in lines if not line.startswith("(+")), lines
    for record in records:
        row = [line for line in lines if line.startswith(record.id)]
        assert len(row) == 1, (record.id, lines)  # the ID whole, at the start of one line
        assert record.status in row[0].split()
        assert DATE.search(row[0]), row[0]  # the start date and time on the same line
    body = [line for line in lines if line and not line.startswith(("id ", "("))]
    assert len(body) == len(records), lines  # no continuation lines: nothing wrapped


@pytest.fixture(scope="module")
def quickstart_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("quickstart")
    subprocess.run([sys.executable, str(REPO / "examples" / "quickstart.py")], cwd=folder, env=runlab_env(),
                   capture_output=True, check=True, timeout=300)  # fmt: skip
    return folder / "runs"


@pytest.mark.parametrize("columns", [80, 120])
def test_quickstart_list_fits_the_terminal(quickstart_store: Path, columns: int) -> None:
    code, out = run_in_terminal(["list", "--root", str(quickstart_store)], columns=columns)
    assert code == 0, out
    lines = _lines(out)
    records = list(runlab.runs(root=quickstart_store))
    assert len(records) == 3
    _check_whole(lines, records, columns)
    header = lines[0].split()
    assert header[:5] == ["id", "name", "status", "started", "duration"] and "params.lr" in header
    if columns == 120:
        assert {"metrics.loss", "metrics.accuracy"} <= set(header)
    else:
        assert lines[-1].startswith("(+2 columns: metrics.accuracy, metrics.loss; use -c")


@pytest.mark.parametrize(("columns", "hidden"), [(60, []), (40, ["started"]), (30, ["started", "duration"])])
def test_a_narrow_terminal_leaves_columns_out_instead_of_cutting_dates(
    quickstart_store: Path, columns: int, hidden: list[str]
) -> None:
    """At 40 columns the start time was cut to '2026-11-29 03:19' (the default columns were always all shown)."""
    code, out = run_in_terminal(["list", "--root", str(quickstart_store)], columns=columns)
    assert code == 0, out
    lines = _lines(out)
    header = lines[0].split()
    assert header[:3] == ["id", "name", "status"] and not set(hidden) & set(header), lines
    assert all(len(line) <= columns for line in lines if not line.startswith("(+")), lines
    for record in runlab.runs(root=quickstart_store):
        [row] = [line for line in lines if line.startswith(record.id)]
        assert record.status in row.split()
        if "started" in header:
            assert DATE.search(row), row  # whole, or left out: never cut
    note = lines[-1]
    assert note.startswith("(+") and all(name in note for name in hidden[:3]), lines


def test_a_mixed_store_shows_what_fits_and_counts_the_rest(root: Path) -> None:
    for i in range(6):
        params = {f"param_{k:02d}": i * k for k in range(12)}
        with runlab.start_run(root=root, name=f"mixed-run-number-{i}", params=params, capture=False) as run:
            run.log_metrics({"loss": 1 / (i + 1), "val/accuracy": i / 10})
    code, out = run_in_terminal(["list", "--root", str(root)], columns=120)
    assert code == 0, out
    lines = _lines(out)
    _check_whole(lines, list(runlab.runs(root=root)), 120)
    header = lines[0].split()
    assert header[5] == "params.param_01"  # parameters that differ come first
    note = lines[-1]
    hidden = 13 - (len(header) - 5)  # 11 parameters differ (param_00 is 0 everywhere) and 2 metrics
    assert note.startswith(f"(+{hidden} columns: ") and "use -c to choose" in note


def test_runs_that_do_not_differ_show_their_parameters_and_metrics(root: Path) -> None:
    for _ in range(2):
        with runlab.start_run(root=root, params={"lr": 0.1}, capture=False) as run:
            run.log_metric("loss", 0.5)
    code, out = run_in_terminal(["list", "--root", str(root)], columns=120)
    assert code == 0
    assert _lines(out)[0].split()[5:] == ["params.lr", "metrics.loss"]


def test_a_pipe_keeps_every_column(root: Path) -> None:
    for i in range(3):
        with runlab.start_run(root=root, params={f"p{k}": i * k for k in range(30)}, capture=False):
            pass
    out = subprocess.run([sys.executable, "-m", "runlab", "list", "--root", str(root)], capture_output=True,
                         text=True, env=runlab_env({"COLUMNS": "80"}), check=True).stdout  # fmt: skip
    assert len(out.splitlines()[0].split()) == 5 + 29  # p0 is 0 everywhere
