"""``runlab optimize`` and ``runlab study``: bad values for a new study exit 2 and write nothing; damaged or
out-of-place study files give one line; a continued study with the largest seed goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runlab.cli._main import _register
from runlab.store import Store

from .test_optimize import invoke

_register()

QUAD = "X = 0.0\ndef main():\n    return (X - 2) ** 2\n"


@pytest.fixture
def quad(tmp_path: Path) -> Path:
    path = tmp_path / "quad.py"
    path.write_text(QUAD)
    return path


def _one_error(result: Any) -> str:
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "-1"], "Invalid --seed -1: Optuna's samplers take a whole number from 0 to 4294967295"),
        (["--seed", str(2**32)], f"Invalid --seed {2**32}"),
        (["--timeout", "nan"], "'nan' is not a number of seconds > 0"),
        (["--timeout", "inf"], "inf is not in the range"),
        (["--storage", "bogus://x"], "Cannot open the Optuna storage 'bogus://x'"),
        (["--storage", "sqlite:////no/such/folder/s.db"], "unable to open database file"),
        (["--sampler", "grid"], "--sampler grid cannot enumerate X"),
        (["--prune-metric", "loss"], "--prune-metric loss names the metric a pruner reads, but no --pruner"),
    ],
)
def test_bad_values_for_a_new_study_exit_2_and_write_nothing(args: list[str], message: str, quad: Path,
                                                             root: Path) -> None:  # fmt: skip
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "2", "-x", "inline",
                    "--search", "X=float(0,4)", *args)  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in _one_error(result)
    studies = root / ".runlab" / "studies"
    assert not studies.exists() or not list(studies.iterdir())  # no journal, no study file
    assert not root.exists() or not Store(root).runs()


def test_a_study_seeded_with_the_largest_seed_is_continued(quad: Path, root: Path) -> None:
    for _ in range(2):  # the second command seeds the sampler with the seed plus the trials done
        result = invoke("--root", str(root), "optimize", str(quad), "-n", "2", "-x", "inline",
                        "--search", "X=float(0,4)", "--seed", str(2**32 - 1))  # fmt: skip
        assert result.exit_code == 0, result.output
    assert "trial 3" in result.output


@pytest.mark.parametrize(("content", "what"), [(b"{bad", "is not JSON"), (b"[]", "holds list, not an object")])
@pytest.mark.parametrize("command", [["study", "show", "quad"], ["study", "best", "quad"], ["optimize"]])
def test_a_damaged_study_file_is_one_line_naming_it(content: bytes, what: str, command: list[str], quad: Path,
                                                    root: Path) -> None:  # fmt: skip
    optimize = ["optimize", str(quad), "-n", "1", "-x", "inline", "--search", "X=float(0,4)"]
    assert invoke("--root", str(root), *optimize).exit_code == 0
    path = root / ".runlab" / "studies" / "quad.json"
    path.write_bytes(content)
    result = invoke("--root", str(root), *(optimize if command == ["optimize"] else command))
    assert result.exit_code == 2, result.output
    error = _one_error(result)
    assert f"The study file of study 'quad' is damaged: {path} {what}" in error and "Delete it" in error
    assert path.read_bytes() == content  # left for the user to look at
    path.unlink()  # the way out the message gives: the study goes on, its trials kept
    result = invoke("--root", str(root), *optimize)
    assert result.exit_code == 0 and "trial 1 " in result.output, result.output


@pytest.mark.parametrize("name", ["../../outside", "../studies/quad", "/abs/quad"])
def test_a_study_name_is_never_a_path(name: str, quad: Path, root: Path) -> None:
    assert invoke("--root", str(root), "optimize", str(quad), "-n", "1", "-x", "inline",
                  "--search", "X=float(0,4)").exit_code == 0  # fmt: skip
    (root / "outside.json").write_text("{}")  # a JSON file outside .runlab/studies is not a study
    result = invoke("--root", str(root), "study", "show", name)
    assert result.exit_code == 2, result.output
    assert f"No study named {name!r}" in _one_error(result)


def test_the_command_line_offers_the_samplers_and_pruners_the_study_knows() -> None:
    """``runlab optimize`` spells them out itself (importing the study module would slow every command's start)."""
    from runlab.cli import _optimize_cmd
    from runlab.sweep import _study

    assert _optimize_cmd._SAMPLERS == _study.SAMPLERS and _optimize_cmd._PRUNERS == _study.PRUNERS
