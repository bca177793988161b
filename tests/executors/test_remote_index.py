"""Runs on other hosts write their folders, not the SQLite index; the submitting process indexes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runlab.executors import get_executor
from runlab.request import RunOptions
from runlab.store import Store
from runlab.sweep import build_requests, plan_sweep, run_sweep

from .conftest import req

N = 12


def remote(name: str) -> Any:
    if name == "dask":
        pytest.importorskip("distributed")
        return get_executor("dask", settings=False, workers=2, index=False)
    pytest.importorskip("submitit")
    return get_executor("slurm", settings=False, workers=2, cluster="local", folder="jobs", poll=0.2)


@pytest.mark.parametrize("name", ["dask", "slurm"])
def test_runs_write_only_their_folders(name: str, script: Path, root: Path) -> None:
    root.mkdir()
    Store(root).rebuild_index()  # the index exists (opening a store without one indexes every folder)
    assert (root / ".runlab" / "index.sqlite").is_file()
    with remote(name) as ex:
        assert not ex.index_writes
        for i in range(3):
            ex.submit(req(script, root, f"--X={i}"))
        results = list(ex.results())
    assert [str(r.status) for r in results] == ["completed"] * 3
    store = Store(root)
    assert len(list(store.run_folders())) == 3
    assert len(store.runs()) == 0  # nothing reached the index from the workers
    assert store.rebuild_index().indexed == 3


@pytest.mark.parametrize("name", ["dask", "slurm"])
def test_a_sweep_indexes_what_its_workers_wrote(name: str, script: Path, root: Path) -> None:
    argvs = [[f"--X={i}", "--MODE=fail" if i == 3 else "--MODE=ok"] for i in range(N)]
    sweep_id, configs = plan_sweep(build_requests(script, argvs, options=RunOptions(root=str(root), capture=False)))
    with remote(name) as ex:
        record = run_sweep(configs, sweep_id, root, ex, on_hook=lambda *a, **k: None)
    store = Store(root)
    runs = store.runs()
    assert len(runs) == N and sorted(r.params["X"] for r in runs) == list(range(N))
    assert {r.id for r in runs} == set(record.run_ids)
    assert sorted(r.status for r in runs).count("failed") == 1
    for run in runs:  # every index entry matches its folder
        assert run.metadata["status"] == run.status and run.sweep == sweep_id
    before = {(r.id, r.status) for r in runs}
    store.rebuild_index()
    assert {(r.id, r.status) for r in store.runs()} == before
