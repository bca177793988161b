"""200 trivial runs through each executor with 2 workers into one store: none lost, none duplicated.

SLURM (submitit's local executor) gets fewer runs: each of its jobs is a fresh interpreter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runlab.store import Store

from .conftest import make_executor, req

N = 200
N_SLURM = 30  # submitit's local executor starts a fresh interpreter and submitit per job: ~1 s each


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inline", "local", "dask", "slurm"])
def test_200_runs_none_lost_none_duplicated(name: str, script: Path, root: Path) -> None:
    n = N_SLURM if name == "slurm" else N
    with make_executor(name) as ex:
        for i in range(n):
            ex.submit(req(script, root, f"--X={i}", sweep="rel"))
        results = list(ex.results())
    assert [r.value for r in results] == [2 * i for i in range(n)]
    assert {r.status for r in results} == {"completed"}
    store = Store(root)
    runs = store.runs()
    assert len(runs) == n and len({r.id for r in runs}) == n
    assert sorted(r.params["X"] for r in runs) == list(range(n))
    assert {r.id for r in runs} == {r.run_id for r in results}
    folders = sorted(p.name for p in store.run_folders())
    assert folders == sorted(r.path.name for r in runs)
    for run in runs:  # every index entry matches its folder
        meta = run.metadata
        assert (meta["id"], meta["status"], meta["params"]["X"]["value"]) == (run.id, run.status, run.params["X"])
    report = store.rebuild_index()
    assert len(store.runs()) == n, report
