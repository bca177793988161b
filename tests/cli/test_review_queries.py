"""Defects found by reviewing the query commands as an attacker: each case failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import runlab
from runlab.cli import cli
from runlab.cli._main import _register

_register()


def _invoke(root: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=input)


@pytest.fixture
def done(root: Path) -> list[str]:
    """Three finished runs named d0..d2, tagged t, created before the live run of the tests."""
    ids = []
    for i in range(3):
        with runlab.start_run(root=root, name=f"d{i}", params={"lr": 0.1 * i}, tags=["t"],
                              capture=False) as run:  # fmt: skip
            run.log_metric("loss", 1.0)
        ids.append(run.id)
    return ids


def _state(root: Path) -> list[tuple[str, tuple[str, ...], str | None, bool]]:
    return sorted((r.id, r.tags, r.description, r.archived) for r in runlab.runs(root=root, archived=None))


@pytest.mark.parametrize(
    "args",
    [
        ["archive", "-w", "name != null", "--yes"],
        ["archive", "d0", "d1", "live"],  # confirmed with "y"
        ["delete", "-w", "name != null", "--yes"],
        ["tag", "u", "-w", "name != null"],
        ["untag", "t", "d0", "live"],
        ["note", "x", "-w", "name != null"],
    ],
    ids=lambda a: " ".join(a),
)
def test_a_running_run_in_the_selection_changes_nothing(root: Path, done: list[str], args: list[str]) -> None:
    runlab.Store(root).runs()  # the index exists before the live run
    with runlab.start_run(root=root, name="live", capture=False):
        before = _state(root)
        result = _invoke(root, *args, input="y\n")
        assert result.exit_code == 2 and "still running" in result.output, result.output
        assert _state(root) == before  # the finished runs before it were changed (archived, deleted) before
        assert all(Path(runlab.load(i, root=root).path).is_dir() for i in done)


@pytest.mark.parametrize(
    ("refs", "expected"),
    [(["d0", "d0"], 1), (["d0", "ID0", "ID0[:5]"], 1), (["d1", "d0", "ID1"], 2)],
    ids=["same name twice", "name, id and prefix", "two runs, one twice"],
)
def test_compare_shows_a_run_named_twice_once(root: Path, done: list[str], refs: list[str], expected: int) -> None:
    def ref(text: str) -> str:
        if text.startswith("ID"):
            full = done[int(text[2])]
            return full[:5] if text.endswith("[:5]") else full
        return text

    result = _invoke(root, "compare", *map(ref, refs), "-f", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == expected  # was: one column per reference


@pytest.mark.parametrize(
    "args",
    [
        ["watch", "-i", "nan", "--once"],
        ["watch", "-i", "inf", "--once"],
        ["watch", "-i", "1e300", "--once"],
        ["logs", "d0", "-F", "--interval", "nan"],
        ["metrics", "d0", "loss", "-F", "--interval", "inf"],
    ],
    ids=lambda a: " ".join(a),
)
def test_an_interval_that_cannot_be_slept_is_refused(root: Path, done: list[str], args: list[str]) -> None:
    result = _invoke(root, *args)
    assert result.exit_code == 2, result.output  # was: ValueError/OverflowError traceback from time.sleep
    assert "Invalid value for" in result.output and "interval" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("values", "read_back"),
    [
        ([0.1, float("nan")], ["0.1", "NaN"]),  # a float parameter and the text NaN stands for
        ([1, "one"], ["1", "one"]),
        ([True, 2], ["True", "2"]),
        ([[1, "a"], "x"], ['[1, "a"]', "x"]),
        ([0.5, 2], [0.5, 2.0]),  # numbers stay numbers
    ],
    ids=["float and NaN", "int and text", "bool and int", "list and text", "numbers"],
)
def test_parquet_export_of_a_parameter_of_mixed_types(root: Path, tmp_path: Path, values: list[object],
                                                      read_back: list[object]) -> None:  # fmt: skip
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    for value in values:
        with runlab.start_run(root=root, params={"p": value}, capture=False):
            pass
    target = tmp_path / "runs.parquet"
    result = _invoke(root, "export", "-o", str(target))
    assert result.exit_code == 0, result.output  # was: a pyarrow ArrowInvalid traceback
    assert pd.read_parquet(target)["params.p"].tolist() == read_back
