"""SLURM: the files an executor writes in its job folder are its own, never a later executor's.

The result files were named ``{pid}-{id(self)}-{count}.result.json``. A later executor in the same process
and folder that got the same ``id()`` (the first one garbage-collected) counted from 1 again: its first
job found the first executor's result file under its own name, saw a run that had ended, and returned
that run's result instead of running its request (an earlier attempt of the same job, as far as it
could tell). Now each executor names its files with a random token.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path

import pytest

from .conftest import make_executor, req

pytest.importorskip("submitit")

NAME = re.compile(r"(\d+)-(\w+)-(\d+)\.result\.json")


def _result_files(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*.result.json")}


def test_a_later_executor_with_the_same_id_runs_its_own_jobs(
    script: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second executor has the first one's ``id()``. CPython hands a collected object's address to a
    later object only now and then (a job's run allocates enough in between that 300 new executors did
    not get it back), so the test makes ``id()`` return one number for every object in the executor's
    module: the old code then named both executors' files alike, as it did at a reused address."""
    monkeypatch.setattr(
        "runlab.executors._slurm.id", lambda obj: 12345, raising=False
    )  # builtins.id, for that module only
    folder = Path("slurm-jobs")
    with make_executor("slurm", workers=1) as first:
        first.submit(req(script, root, "--X=1"))
        [earlier] = first.results()
    assert str(earlier.status) == "completed" and earlier.value == 2, earlier
    files = _result_files(folder)
    del first
    gc.collect()

    with make_executor("slurm", workers=1) as second:
        second.submit(req(script, root, "--X=5"))
        [result] = second.results()
    # the old code: the first executor's result (its run, value 2); this request never ran
    assert str(result.status) == "completed", result
    assert result.run_id != earlier.run_id, "the second executor returned the first one's run"
    assert result.value == 10, result
    assert len(_result_files(folder) - files) == 1, (files, _result_files(folder))


def test_executors_name_their_files_apart(script: Path, root: Path) -> None:
    """Two executors one after the other in one folder and process: the files of each share a prefix
    (pid and token) that the other's do not, whatever ``id()`` each got."""
    folder = Path("slurm-jobs")
    prefixes = []
    seen: set[str] = set()
    for x in (1, 2):
        with make_executor("slurm", workers=2) as ex:
            ex.submit(req(script, root, f"--X={x}"))
            ex.submit(req(script, root, f"--X={x + 10}"))
            results = list(ex.results())
        assert [r.value for r in results] == [2 * x, 2 * (x + 10)], results
        new = _result_files(folder) - seen
        seen |= new
        matches = [NAME.fullmatch(name) for name in new]
        assert all(matches) and len(matches) == 2, new
        assert {m.group(3) for m in matches if m} == {"1", "2"}, new  # counted from 1 in each executor
        heads = {(m.group(1), m.group(2)) for m in matches if m}
        assert len(heads) == 1, new  # one executor's files recognisable by their prefix
        prefixes.append(heads.pop())
        del ex
        gc.collect()
    assert prefixes[0] != prefixes[1], prefixes
    assert prefixes[0][1] != prefixes[1][1], "the token repeated"
