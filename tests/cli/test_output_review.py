"""What the read-side commands print: exact values in every format, one row per run, run references
as ``runlab show`` takes them, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unicodedata import east_asian_width

import pytest
from click.testing import CliRunner, Result

import runlab
from runlab.cli import cli
from runlab.cli._main import _register

_register()

EXACT = 0.123456789012345  # more digits than a table shows


@pytest.fixture
def runs(root: Path) -> dict[str, str]:
    """Two runs named 'base' (the newer one logged NaN and the infinities) and a failed one."""
    ids = {}
    with runlab.start_run(root=root, name="base", params={"lr": 0.01, "s": 'a,b\n"c"\x1b[2J'},
                          description="two\nlines", capture=False) as run:  # fmt: skip
        run.log_metric("acc", EXACT)
        run.log_metric("x|y", 1)
        ids["old"] = run.id
    with runlab.start_run(root=root, name="base", params={"lr": 0.1}, capture=False) as run:
        for value in (float("nan"), float("inf"), -float("inf")):
            run.log_metric("loss", value)
        ids["new"] = run.id
    with pytest.raises(ValueError), runlab.start_run(root=root, name="名前名前", capture=False) as run:
        ids["failed"] = run.id
        raise ValueError("boom\nsecond line")
    return ids


def _invoke(root: Path, args: list[str], ids: dict[str, str]) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *(a.format(**ids) for a in args)])


def _by_id(rows: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    return next(row for row in rows if row["id"] == run_id)


JSON_CASES: list[tuple[list[str], Callable[[Any, dict[str, str]], Any], Any]] = [
    (
        ["metrics", "{new}", "loss", "-f", "json"],
        lambda d, i: [p["value"] for p in d],
        ["NaN", "Infinity", "-Infinity"],
    ),
    (["metrics", "{new}", "-f", "json"], lambda d, i: d[0]["last"], "-Infinity"),
    (["list", "-f", "json"], lambda d, i: _by_id(d, i["new"])["summaries"]["loss"]["last"], "-Infinity"),
    (
        ["list", "-c", "id,metrics.loss.max", "-f", "json"],
        lambda d, i: _by_id(d, i["new"])["metrics.loss.max"],
        "Infinity",
    ),
    (["compare", "{new}", "{old}", "-f", "json"], lambda d, i: _by_id(d, i["new"])["metrics.loss"], "-Infinity"),
    (["show", "{new}", "-f", "json"], lambda d, i: d["summaries"]["loss"]["last"], "-Infinity"),
    (["export", "-f", "json", "-o", "-"], lambda d, i: _by_id(d, i["new"])["metrics.loss"], "-Infinity"),
]


@pytest.mark.parametrize(
    ("args", "pick", "expected"), JSON_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_json_keeps_nan_and_the_infinities_as_the_run_files_write_them(
    root: Path, runs: dict[str, str], args: list[str], pick: Callable[[Any, dict[str, str]], Any], expected: Any
) -> None:
    # as null, a diverged metric read like a missing one
    result = _invoke(root, args, runs)
    assert result.exit_code == 0, result.output
    assert pick(json.loads(result.stdout), runs) == expected


CSV_CASES: list[tuple[list[str], Callable[[list[list[str]]], str]]] = [
    (["list", "-c", "name,metrics.acc", "-f", "csv"], lambda rows: next(r[1] for r in rows[1:] if r[1])),
    (["metrics", "{old}", "-f", "csv"], lambda rows: next(r[1] for r in rows if r[0] == "acc")),
    (["metrics", "{old}", "acc", "-f", "csv"], lambda rows: rows[1][1]),
    (["compare", "{old}", "{new}", "-f", "csv"], lambda rows: next(r[1] for r in rows if r[0] == "metrics.acc")),
]


@pytest.mark.parametrize(("args", "pick"), CSV_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_csv_writes_numbers_exactly(
    root: Path, runs: dict[str, str], args: list[str], pick: Callable[[list[list[str]]], str]
) -> None:
    # they were rounded to 6 digits (0.123457), unlike 'runlab export' and 'metrics -F'
    result = _invoke(root, args, runs)
    assert result.exit_code == 0, result.output
    assert float(pick(list(csv.reader(io.StringIO(result.stdout))))) == EXACT


def test_markdown_escapes_a_pipe_in_a_header(root: Path, runs: dict[str, str]) -> None:
    result = _invoke(root, ["list", "-c", "id,metrics.x|y", "-f", "markdown"], runs)
    assert result.exit_code == 0, result.output
    cells = [line.replace("\\|", "").count("|") for line in result.stdout.splitlines()]
    assert cells == [3] * (len(runs) + 2)


def _column_starts(line: str, texts: list[str]) -> list[int]:
    """The display column at which each of ``texts`` starts in ``line`` (in order)."""
    starts, at = [], 0
    for text in texts:
        at = line.index(text, at)
        starts.append(sum(2 if east_asian_width(c) in "WF" else 1 for c in line[:at]))
        at += len(text)
    return starts


def test_a_plain_table_has_one_aligned_line_per_run(root: Path, runs: dict[str, str]) -> None:
    # a newline in a value split its row; a wide character shifted the columns after it
    result = _invoke(root, ["list", "-c", "id,name,params.s,status"], runs)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(runs) + 1
    row = next(line for line in lines if line.startswith(runs["old"]))
    assert 'a,b\\n"c"\\x1b[2J' in row and "\x1b" not in result.stdout
    starts = {tuple(_column_starts(line, [line.split()[0], "completed" if "completed" in line else "failed"]))
              for line in lines[1:]}  # fmt: skip
    assert len(starts) == 1, lines


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "{old}"], ["description  two", "             lines", 's     a,b\\n"c"\\x1b[2J']),
        (["show", "{failed}"], ["  ValueError: boom", "    second line"]),
    ],
)
def test_show_keeps_multi_line_values_in_their_column(
    root: Path, runs: dict[str, str], args: list[str], expected: list[str]
) -> None:
    result = _invoke(root, args, runs)
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    for text in expected:
        assert any(line.startswith(text) for line in lines), (text, lines)
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("command", [["metrics"], ["compare"], ["logs"], ["artifacts"], ["open"], ["watch", "--once"]])
def test_inspect_commands_take_name_tilde_n_as_show_does(root: Path, runs: dict[str, str], command: list[str]) -> None:
    # 'show base~1' worked; the others said "No run matches 'base~1'" (and 'base' was ambiguous)
    result = _invoke(root, [command[0], "base~1", *command[1:]], runs)
    assert result.exit_code == 0, result.output
    assert f"this is 1 before the latest ({runs['old']})" in result.stderr
    result = _invoke(root, [command[0], "base", *command[1:]], runs)
    assert result.exit_code == 0 and f"this is the latest ({runs['new']})" in result.stderr, result.output


BAD_INPUT = [
    (["list", "-c", "id,params."], "Invalid column 'params.': give a name after 'params.', e.g. 'params.lr'."),
    (["list", "-c", "metrics."], "Invalid column 'metrics.': give a name after 'metrics.', e.g. 'metrics.loss'."),
    (["export", "--sort", "-metrics.zzz", "-o", "-"], "No run has the metric 'zzz' to sort by"),
    (["metrics", "base~5"], "base~5: only 2 runs are named 'base'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_input_exits_2_with_one_line_naming_it(
    root: Path, runs: dict[str, str], args: list[str], message: str
) -> None:
    result = _invoke(root, args, runs)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr.startswith(f"Error: {message}") and result.stderr.count("\n") == 1, result.stderr


EMPTY_OPTIONS = [
    (["list", "--sort", ""], "'--sort'"),
    (["export", "-o", "-", "--sort", " "], "'--sort'"),
    (["sweep", "show", "abc", "--sort", ""], "'--sort'"),
    (["watch", "--once", "-m", "loss", "-m", ""], "'-m' / '--metric'"),
]


@pytest.mark.parametrize(("args", "option"), EMPTY_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_an_option_given_empty_is_refused(root: Path, runs: dict[str, str], args: list[str], option: str) -> None:
    # an empty --sort meant the default order and an empty -m no metric, without a word
    result = _invoke(root, args, runs)
    assert result.exit_code == 2 and result.stdout == "", result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        f"Error: Invalid value for {option}: {args[-1]!r} is empty: give a value, or leave the option out."
    ]


def test_watch_of_an_archived_run_says_so(root: Path, runs: dict[str, str]) -> None:
    assert _invoke(root, ["archive", "{failed}", "--yes"], runs).exit_code == 0
    result = _invoke(root, ["watch", "{failed}"], runs)
    assert result.exit_code == 2 and "is archived; it has ended" in result.stderr, result.output


def test_watch_of_ended_runs_prints_the_table_once(root: Path, runs: dict[str, str]) -> None:
    result = _invoke(root, ["watch", "{old}", "{failed}"], runs)
    assert result.exit_code == 0, result.output
    assert [line.split()[:3] for line in result.stdout.splitlines() if line.strip()] == [
        ["id", "name", "status"], [runs["old"], "base", "completed"], [runs["failed"], "名前名前", "failed"]
    ]  # fmt: skip


@pytest.mark.parametrize("args", [["list", "--sort", "-metrics.acc"], ["export", "--sort", "metrics.acc", "-o", "-"]])
def test_sorting_by_a_metric_creates_no_store(tmp_path: Path, args: list[str]) -> None:
    # the check that the metric exists opened (and so created) ./runs
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("command", [["list"], ["show", "{old}"], ["watch", "--once", "{old}"]])
def test_a_closed_stdout_is_no_traceback(root: Path, runs: dict[str, str], command: list[str]) -> None:
    args = " ".join(f"'{a.format(**runs)}'" for a in command)
    script = f"exec '{sys.executable}' -m runlab --root '{root}' {args} >&-"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(runlab.__file__).parents[1])}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert "Traceback" not in result.stderr and result.returncode == 0, result.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", [["list"], ["list", "-f", "json"], ["show", "{old}"]])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_1(
    root: Path, runs: dict[str, str], command: list[str]
) -> None:
    # writing to a full disk (here /dev/full) gave a traceback
    args = " ".join(f"'{a.format(**runs)}'" for a in command)
    script = f"exec '{sys.executable}' -m runlab --root '{root}' {args} > /dev/full"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(runlab.__file__).parents[1])}
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: No space left on device. RUNLAB_DEBUG=1 shows where it happened."
    ]
