"""A damaged study on disk, command by command: its Optuna journal (``NAME.log``) or its study file
(``NAME.json``) torn, with garbage in it, empty or not JSON.

A journal whose last line a killed writer left torn goes on as if the line was never written. Anything
else that cannot be read is one line naming the file, what is wrong (the line when there is one) and
what to do: exit 2 and nothing in the store changed for ``optimize`` and ``study show``, a row marked
damaged (the other studies still listed) for ``study list``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runlab.store import Store

from .test_optimize import invoke

QUAD = "X = 0.0\ndef main():\n    return (X - 2) ** 2\n"
OPTIMIZE = ["optimize", "-n", "1", "-x", "inline", "--search", "X=float(0,4)"]


def _append(data: bytes) -> Callable[[bytes], bytes]:
    return lambda old: old + data


def _middle(data: bytes) -> Callable[[bytes], bytes]:
    """``data`` as the third line: the journal's later lines are good."""
    return lambda old: b"".join([*old.splitlines(keepends=True)[:2], data, *old.splitlines(keepends=True)[2:]])


def _replace(data: bytes) -> Callable[[bytes], bytes]:
    return lambda old: data


# (file, damage, change, what the error says, {end}: the line after the journal's last; None: the study goes on)
DAMAGES: list[tuple[str, str, Callable[[bytes], bytes], str | None]] = [
    ("log", "torn last line", _append(b'{"op_code":4,"worker_id":"8f3a'), None),
    ("log", "garbage in the middle", _middle(b"\x00garbage\xff\n"), "line 3 is not an Optuna journal entry (not JSON"),
    ("log", "truncated JSON line", _append(b'{"op_code":4,"worker_id":"8f3a\n'), "line {end} is not an Optuna journal"),
    ("log", "random bytes appended", _append(b"\x8b\xfe garbage"), "line {end} is not an Optuna journal entry (bytes"),
    ("log", "empty file", _replace(b""), "is empty and holds no study 'quad'"),
    ("log", "not JSON", _replace(b"hello\nworld\n"), "line 1 is not an Optuna journal entry (not JSON"),
    ("json", "empty file", _replace(b""), "is empty"),
    ("json", "not JSON", _replace(b"{bad"), "is not JSON"),
    ("json", "wrong types", lambda old: json.dumps({**json.loads(old), "runs": [1]}).encode(), "runs is [1], not dict"),
    ("json", "not an object", _replace(b"[]"), "holds list, not an object"),
]  # fmt: skip
COMMANDS = ["optimize", "show", "list"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with study ``quad`` (2 trials) and study ``other`` (1 trial), made once and copied per test."""
    folder = tmp_path_factory.mktemp("pristine")
    (folder / "quad.py").write_text(QUAD)
    root = folder / "store"
    for args in (["-n", "2"], ["--study", "other"]):
        result = invoke("--root", str(root), *OPTIMIZE[:1], str(folder / "quad.py"), *OPTIMIZE[1:], *args)
        assert result.exit_code == 0, result.output
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error(result: Any) -> str:
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("suffix", "damage", "change", "what"), DAMAGES, ids=[f"{d[0]}-{d[1]}" for d in DAMAGES])
def test_a_damaged_study(suffix: str, damage: str, change: Callable[[bytes], bytes], what: str | None,
                         command: str, pristine: Path, tmp_path: Path) -> None:  # fmt: skip
    shutil.copytree(pristine, tmp_path / "copy")
    root, quad = tmp_path / "copy" / "store", tmp_path / "copy" / "quad.py"
    studies = root / ".runlab" / "studies"
    path = studies / f"quad.{suffix}"
    end = (studies / "quad.log").read_bytes().count(b"\n") + 1
    path.write_bytes(change(path.read_bytes()))
    before, runs = _files(studies), len(Store(root).runs())
    args = {"optimize": [OPTIMIZE[0], str(quad), *OPTIMIZE[1:]], "show": ["study", "show", "quad"],
            "list": ["study", "list", "-f", "json"]}[command]  # fmt: skip
    result = invoke("--root", str(root), *args)
    what = what and what.format(end=end)
    if what is None:  # a torn last line: the study goes on as if it was never written
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        if command == "optimize":
            assert "trial 2 " in result.output
        shown = invoke("--root", str(root), "study", "show", "quad", "-f", "json")
        assert shown.exit_code == 0, shown.output
        assert [t["trial"] for t in json.loads(shown.stdout)] == ([0, 1, 2] if command == "optimize" else [0, 1])
        return
    if command == "list":  # every study listed; the damaged one says so
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        rows = {row["name"]: row for row in json.loads(result.stdout)}
        assert set(rows) == {"quad", "other"} and rows["other"]["trials"] == 1
        assert "damaged" in str(rows["quad"]["best"])
        assert f"{path}" in result.stderr and what in result.stderr, result.stderr
    else:
        assert result.exit_code == 2, result.output
        error = _one_error(result)
        assert f"{path}" in error and what in error, error
        assert "move" in error.lower() or "delete" in error.lower() or "restore" in error.lower(), error
    assert _files(studies) == before and len(Store(root).runs()) == runs  # nothing changed
