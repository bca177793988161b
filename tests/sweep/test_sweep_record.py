"""A damaged sweep record (a field of the wrong type, edited by hand or cut short) is reported in one
line naming the file and the field, by ``runlab sweep show``, ``runlab sweep list`` and a resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runlab.sweep import SweepRecord, load_sweep

SWEEP_ID = "0869dcbe"
GOOD = {"id": SWEEP_ID, "definition": {"path": "exp.py"}, "entries": [{"config": "c1", "argv": ["--X=1"]}]}


def _runlab(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runlab", "--root", "runs", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


@pytest.mark.parametrize(
    ("damage", "message"),
    [  # each of these was an AttributeError or TypeError traceback in 'sweep show' or 'sweep list'
        ({"definition": 5}, "definition is 5, not dict"),
        ({"executor": 3}, "executor is 3, not dict"),
        ({"state": 5}, "state is 5, not str"),
        ({"created": "yesterday"}, "created is 'yesterday', not int or float"),
        ({"pid": True}, "pid is True, not int"),
        ({"entries": [7]}, "entries[0] is not a JSON object"),
        ({"entries": [{"config": "c1", "argv": [], "attempts": "x"}]}, "entries[0].attempts is 'x', not int"),
        ({"entries": [{"config": "c1", "argv": [], "bogus": 1}]}, "entries[0].bogus is not a field of a sweep entry"),
        ({"id": "../../elsewhere"}, "id '../../elsewhere' is not a sweep id"),
    ],
)
def test_a_damaged_sweep_record_is_one_line_naming_the_field(
    damage: dict[str, object], message: str, tmp_path: Path
) -> None:
    folder = tmp_path / "runs" / ".runlab" / "sweeps"
    folder.mkdir(parents=True)
    (folder / f"{SWEEP_ID}.json").write_text(json.dumps({**GOOD, **damage}))
    show = _runlab(tmp_path, "sweep", "show", SWEEP_ID)
    assert show.returncode == 2 and "Traceback" not in show.stderr, show.stderr
    assert f"cannot be read ({message})" in show.stderr and show.stderr.count("\n") == 1, show.stderr
    listed = _runlab(tmp_path, "sweep", "list")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert f"Skipped the sweep record {folder / SWEEP_ID}.json" in listed.stderr


def test_a_good_record_reads_back_and_odd_definition_values_show(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / ".runlab" / "sweeps"
    folder.mkdir(parents=True)
    (folder / f"{SWEEP_ID}.json").write_text(json.dumps({**GOOD, "definition": {"sweeps": 5, "argv": [1, 2]}}))
    record = load_sweep(tmp_path / "runs", SWEEP_ID)
    assert isinstance(record, SweepRecord) and record.entries[0].argv == ["--X=1"]
    show = _runlab(tmp_path, "sweep", "show", SWEEP_ID)
    assert show.returncode == 0, show.stderr
    assert "sweeps: 5" in show.stdout and "argv: 1 2" in show.stdout
