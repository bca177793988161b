"""The experiment layer stays easy to read: small modules, one loader for user files."""

from __future__ import annotations

from pathlib import Path

import runlab

PACKAGE = Path(runlab.__file__).resolve().parent


def test_no_module_of_the_experiment_layer_is_over_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (PACKAGE / "experiment").glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_user_files_are_loaded_only_by_the_one_loader() -> None:
    """``spec_from_file_location`` (making a module of a user's file) appears in runlab/_pyfile.py only."""
    users = sorted(
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "spec_from_file_location" in p.read_text(encoding="utf-8")
    )
    assert users == ["_pyfile.py"]
