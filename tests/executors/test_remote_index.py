"""Runs on other hosts write their folders, not the SQLite index; the submitting process indexes them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
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
    index = sqlite3.connect(root / ".runlab" / "index.sqlite")
    assert index.execute("SELECT count(*) FROM runs").fetchone() == (0,)  # nothing from the workers
    index.close()
    markers = sorted(p.name for p in (root / ".runlab" / "unindexed").iterdir())
    assert markers == sorted(r.run_id for r in results)  # each run left its marker
    store = Store(root)
    assert len(list(store.run_folders())) == 3
    assert sorted(r.id for r in store.runs()) == markers  # the first reader indexes the folders
    assert all(r.status == "completed" for r in store.runs())
    assert not list((root / ".runlab" / "unindexed").iterdir())  # finished runs: markers gone
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


LIVE = """\
import os, time
import runlab
X = 0
GATE = ""

def main():
    runlab.log_results({"loss": 1.0}, step=0)
    runlab.log_results({"loss": 0.5 + X}, step=1)
    deadline = time.time() + 180
    while not os.path.exists(GATE) and time.time() < deadline:
        time.sleep(0.05)
    runlab.log_results({"loss": 0.25}, step=2)
    return X
"""


def reader(root: Path, *args: str) -> Any:
    """What a user's terminal shows: ``runlab ... --format json`` in a process of its own."""
    out = subprocess.run([sys.executable, "-m", "runlab", "--root", str(root), *args, "--format", "json"],
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("name", ["dask", "slurm"])
def test_running_runs_on_other_hosts_show_live(name: str, tmp_path: Path, root: Path) -> None:
    script = tmp_path / "live.py"
    script.write_text(LIVE)
    gate = tmp_path / "gate"
    with remote(name) as ex:
        assert not ex.index_writes
        for i in range(2):
            ex.submit(req(script, root, f"--X={i}", f"--GATE={gate}"))
        deadline = time.monotonic() + 120
        while True:  # the workers never write the index; a reader still sees both runs, live
            rows = reader(root, "list") if (root / ".runlab").is_dir() else []
            live = [r for r in rows if r["status"] == "running" and r["summaries"].get("loss", {}).get("step") == 1]
            if len(live) == 2:
                break
            assert time.monotonic() < deadline, f"the running runs never showed up live: {rows}"
            time.sleep(0.3)
        assert sorted(r["summaries"]["loss"]["last"] for r in live) == [0.5, 1.5]
        shown = reader(root, "show", live[0]["id"])
        assert shown["status"] == "running" and shown["summaries"]["loss"]["count"] == 2
        index = sqlite3.connect(root / ".runlab" / "index.sqlite")
        assert index.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (2,)
        index.close()
        gate.touch()
        results = list(ex.results())
    assert [str(r.status) for r in results] == ["completed"] * 2
    rows = reader(root, "list")  # nothing missing once they ended: final records and every metric point
    assert sorted((r["params"]["X"], r["status"], r["summaries"]["loss"]["count"]) for r in rows) == [
        (0, "completed", 3),
        (1, "completed", 3),
    ]
    assert not list((root / ".runlab" / "unindexed").iterdir())
    assert Store(root).check_index().ok
