"""Export formats (a real spreadsheet or a refusal) and answering "n" to a confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli._main import _register

from ..conftest import REPO, run_python

_register()


@pytest.fixture
def two(root: Path) -> list[str]:
    ids = []
    for i in range(2):
        with runlab.start_run(root=root, name=f"r{i}", params={"lr": 0.1 * (i + 1), "layers": [i, 2]},
                              tags=["a", "b"], capture=False) as run:  # fmt: skip
            run.log_metric("loss", 1 / (i + 1))
            ids.append(run.id)
    return ids


def _invoke(root: Path, *args: str, input: str | None = None) -> object:
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=input)


def test_xlsx_export_is_a_real_spreadsheet(root: Path, two: list[str], tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    target = tmp_path / "runs.xlsx"
    result = _invoke(root, "export", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:2] == b"PK"  # a zip container, not CSV text
    sheet = openpyxl.load_workbook(target)["runs"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert len(rows) == 3 and {"id", "params.lr", "metrics.loss"} <= set(header)
    by_id = {row[header.index("id")]: row for row in rows[1:]}
    assert set(by_id) == set(two)
    assert by_id[two[1]][header.index("params.lr")] == pytest.approx(0.2)
    assert by_id[two[0]][header.index("tags")] == "a,b" and by_id[two[0]][header.index("params.layers")] == "[0, 2]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "runs.xls"], "Cannot tell the export format from 'runs.xls'"),
        (["-o", "runs.xlsx", "-f", "csv"], "--format csv does not match the file name 'runs.xlsx'"),
        (["-o", "-", "-f", "xlsx"], "cannot be written to stdout"),
    ],
)
def test_an_export_that_would_mislead_is_refused(root: Path, two: list[str], tmp_path: Path, args: list[str],
                                                 message: str) -> None:  # fmt: skip
    result = _invoke(root, "export", *[str(tmp_path / a) if a.startswith("runs.") else a for a in args])
    assert result.exit_code == 2 and message.replace("'runs.", f"'{tmp_path}/runs.") in result.output, result.output
    assert not list(tmp_path.glob("runs.*"))


@pytest.mark.parametrize("command", [["delete", "r0"], ["archive", "r0"], ["gc", "--older-than", "0"]])
def test_answering_n_changes_nothing_and_exits_0(root: Path, two: list[str], command: list[str]) -> None:
    if command[0] == "gc":  # a crashed run: its process ended without finishing it
        code = f"import os, runlab; runlab.start_run(root={str(root)!r}, capture=False); os._exit(0)"
        run_python(code, env={"PYTHONPATH": str(REPO / "src")})
    before = sorted(r.id for r in runlab.runs(root=root))
    result = _invoke(root, *command, input="n\n")
    assert result.exit_code == 0 and "Nothing changed." in result.output, result.output
    assert sorted(r.id for r in runlab.runs(root=root)) == before


@pytest.mark.parametrize("command", [["list"], ["watch"]])
def test_a_root_that_does_not_exist_is_named(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no-such-store"
    result = CliRunner().invoke(cli, ["--root", str(missing), *command])
    assert result.exit_code == 2 and f"The store folder {missing} (from --root) does not exist" in result.output
    result = CliRunner().invoke(cli, command, env={"RUNLAB_ROOT": str(missing)})
    assert result.exit_code == 2 and "(from RUNLAB_ROOT) does not exist" in result.output
    assert not missing.exists()
