"""``runlab reproduce`` on a run whose saved environment is damaged, or that has not ended: exit 2, one line, no env."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli._main import _register, cli
from runlab.lifecycle._reproducible import find_uv

_register()

pytestmark = pytest.mark.skipif(find_uv() is None, reason="uv is not installed (pip install 'runlab[reproduce]')")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store with one completed reproducible run (recorded once: saving its sources takes seconds)."""
    root = tmp_path_factory.mktemp("recorded") / "store"
    with runlab.start_run(root=root, params={"x": 1}, reproducible=True) as run:
        pass
    return root, run.id


def _deps(folder: Path) -> Path:
    return folder / "env" / "dependencies.json"


def _edit_deps(edit: Callable[[dict], None]) -> Callable[[Path], None]:  # type: ignore[type-arg]
    def change(folder: Path) -> None:
        record = json.loads(_deps(folder).read_text())
        edit(record)
        _deps(folder).write_text(json.dumps(record))

    return change


def _not_ended(folder: Path) -> None:  # as a running run, or one whose process was killed, leaves its folder
    _deps(folder).unlink()
    meta = json.loads((folder / "run.json").read_text())
    meta["reproducible"] = {"pending": True}
    (folder / "run.json").write_text(json.dumps(meta))


def _drop_sources(folder: Path) -> None:
    shutil.rmtree(folder / "env" / "sources")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: _deps(f).write_text(_deps(f).read_text()[:100]), "dependencies.json is damaged (Expecting"),
        (lambda f: _deps(f).unlink(), "dependencies.json is damaged (it is missing); restore the run folder"),
        (lambda f: _deps(f).write_text("[]"), "is damaged (it does not list 'distributions')"),
        (_edit_deps(lambda r: r["distributions"]["click"].pop("version")), "(package click has no version: None)"),
        (_edit_deps(lambda r: r["distributions"]["click"].update(version=["8"])), "package click has no version"),
        (_drop_sources, "The saved source of the editable package runlab is missing: "),
        (_not_ended, "was recorded in reproducible mode but has not ended (it is running, or its process died"),
    ],
)
def test_a_damaged_or_unfinished_run_is_refused_in_one_line(
    damage: Callable[[Path], None], message: str, recorded: tuple[Path, str], tmp_path: Path
) -> None:
    root = tmp_path / "store"
    shutil.copytree(recorded[0], root)
    [folder] = root.glob(f"*/*_{recorded[1]}")
    damage(folder)
    result = CliRunner().invoke(cli, ["--root", str(root), "reproduce", recorded[1], "--env-only"])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (root / ".runlab" / "envs").exists()  # refused before an environment was made
    assert [r.id for r in runlab.Store(root).runs()] == [recorded[1]]  # and no new run
