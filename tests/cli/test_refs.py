"""``show NAME`` with a name several runs share, and ``NAME~N``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli._main import _register

_register()


@pytest.fixture
def three(root: Path) -> list[str]:
    ids = []
    for i in range(3):
        with runlab.start_run(root=root, name="base", params={"i": i}, capture=False) as run:
            ids.append(run.id)
    with runlab.start_run(root=root, name="solo", capture=False) as run:
        ids.append(run.id)
    return ids


def _show(root: Path, ref: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), "show", ref])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("ref", "index", "which"), [("base", 2, "the latest"), ("base~1", 1, "1 before the latest"),
                                                     ("base~2", 0, "2 before the latest")])  # fmt: skip
def test_a_shared_name_shows_the_latest_with_a_note_and_tilde_goes_back(
    root: Path, three: list[str], ref: str, index: int, which: str
) -> None:
    code, out, err = _show(root, ref)
    assert code == 0
    assert out.splitlines()[0].split() == ["id", three[index]]
    assert f"3 runs are named 'base'; this is {which} ({three[index]})" in err
    back = 0 if ref == "base" else int(ref.split("~")[1])
    assert (f"'base~{back + 1}' is the one before" in err) == (back < 2)  # the oldest has none before it


@pytest.mark.parametrize(("ref", "message"), [("base~3", "only 3 runs are named 'base'"),
                                              ("solo~1", "only one run is named 'solo'")])  # fmt: skip
def test_going_back_too_far_exits_2(root: Path, three: list[str], ref: str, message: str) -> None:
    code, _, err = _show(root, ref)
    assert code == 2 and message in err


def test_a_unique_name_and_a_name_with_a_tilde(root: Path, three: list[str]) -> None:
    code, out, err = _show(root, "solo")
    assert code == 0 and out.splitlines()[0].split() == ["id", three[3]] and err == ""
    with runlab.start_run(root=root, name="odd~1", capture=False) as run:
        pass
    code, out, _ = _show(root, "odd~1")
    assert code == 0 and out.splitlines()[0].split() == ["id", run.id]


def test_show_prints_plugin_records_as_fields(root: Path) -> None:
    with runlab.start_run(root=root, name="p", capture=False) as run:
        run.record_plugin("mirror", version="1.0", source="builtin", run_id="abc123", params_truncated=["a", "b"])
        run.record_plugin("mirror", error={"hook": "run_finishing", "error": "RuntimeError: boom"})
    code, out, _ = _show(root, run.id)
    assert code == 0
    section = out[out.index("Plugins") :].splitlines()
    assert section[1:5] == [
        "  mirror (1.0, builtin)",
        "    run_id            abc123",
        "    params_truncated  a, b",
        "    error in run_finishing: RuntimeError: boom",
    ]


@pytest.mark.parametrize(
    ("name", "archived", "ref", "index", "note"),
    [
        ("odd~1", False, "odd~1", 1, "2 runs are named 'odd~1'; this is the latest"),  # was: AmbiguousRunError
        ("odd~1", False, "odd~1~1", 0, "2 runs are named 'odd~1'; this is 1 before the latest"),
        ("gone", True, "gone", 1, "2 runs are named 'gone'; this is the latest"),  # was: "No run matches '<id>'"
        ("gone", True, "gone~1", 0, "2 runs are named 'gone'; this is 1 before the latest"),
    ],
)
def test_a_name_two_runs_share_with_a_tilde_or_only_in_the_archive(
    root: Path, name: str, archived: bool, ref: str, index: int, note: str
) -> None:
    ids = []
    for _ in range(2):
        with runlab.start_run(root=root, name=name, capture=False) as run:
            ids.append(run.id)
    if archived:
        assert CliRunner().invoke(cli, ["--root", str(root), "archive", name, "--yes"]).exit_code == 2  # ambiguous
        for run_id in ids:
            assert CliRunner().invoke(cli, ["--root", str(root), "archive", run_id, "--yes"]).exit_code == 0
    code, out, err = _show(root, ref)
    assert code == 0, err
    assert out.splitlines()[0].split() == ["id", ids[index]]
    assert f"{note} ({ids[index]})" in err
    assert ("(archived)" in out) == archived


def _change(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("ref", "index"), [("base~0", 2), ("base~1", 1), ("base~2", 0), ("solo", 3)])
@pytest.mark.parametrize("command", ["tag", "note"])
def test_commands_that_change_runs_take_name_tilde_n(
    root: Path, three: list[str], ref: str, index: int, command: str
) -> None:
    code, _, err = _change(root, command, "picked", ref)
    assert code == 0, err
    changed = [rid for rid in three if ("picked" in runlab.load(rid, root=root).tags if command == "tag"
                                        else runlab.load(rid, root=root).description == "picked")]  # fmt: skip
    assert changed == [three[index]]


@pytest.mark.parametrize(("ref", "message"), [("base", "base"), ("base~3", "only 3 runs are named 'base'")])
def test_a_shared_name_alone_or_too_far_back_changes_nothing(
    root: Path, three: list[str], ref: str, message: str
) -> None:
    code, _, err = _change(root, "delete", "-y", ref)
    assert code == 2 and message in err, err
    assert all(runlab.load(rid, root=root) for rid in three)
