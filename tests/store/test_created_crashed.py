"""A ``created`` run whose creating process died before starting it reads ``crashed``.

``Run.create`` records its creator (``heartbeat``: pid, host, time); on the same host a dead creator
is decisive, as a dead pid is for a running run. Real processes are killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli._main import _register
from runlab.store import _manage, effective_status
from runlab.store._remote import MARKERS

from ..conftest import forget_stores

_register()
HOST = os.uname().nodename

CREATOR = """
import sys, runlab
from runlab.lifecycle import Run, add_listener

root, how = sys.argv[1], sys.argv[2]

def ready(run_id):
    print(run_id, flush=True)
    return sys.stdin.readline().strip()  # killed here, or told to go on

if how == "create":  # a user's Run.create(...), started (or not) later by this same process
    run = Run.create(store=runlab.Store(root), name="orphan", capture=False, capture_output=False)
    if ready(run.id) == "start":
        run.start()
        run.log_metric("loss", 0.5)
        run.complete()
elif how == "start_run":  # killed between start_run's Run.create and its start()
    add_listener(lambda event, run, **data: data.get("new") == "created" and ready(run.id))
    with runlab.start_run(root=root, name="orphan", capture=False, capture_output=False):
        pass
elif how == "manager":  # staged for another process to start (ExperimentManager, as Yanex's)
    ready(runlab.ExperimentManager(root).create_experiment(name="orphan", capture=False))
"""


def _list(root: Path, status: str) -> set[str]:
    forget_stores()
    result = CliRunner().invoke(cli, ["list", "--status", status, "--format", "json", "--root", str(root)])
    assert result.exit_code == 0, result.output
    return {row["id"] for row in json.loads(result.output)}


def _statuses(root: Path, run_id: str) -> dict[str, Any]:
    """How every reader reports the run: load, the status filter, the filter language, the CLI, gc."""
    forget_stores()
    store = runlab.Store(root)
    return {
        "load": runlab.load(run_id, root=root).status,
        "runs(status=)": {s for s in ("created", "crashed") if run_id in {r.id for r in store.runs(status=s)}},
        "where": {s for s in ("created", "crashed") if store.runs(where=f"id == '{run_id}' and status == '{s}'")},
        "list --status": {s for s in ("created", "crashed") if run_id in _list(root, s)},
        "gc": run_id in {r.id for r, _ in _manage.gc_candidates(store, older_than=0)},
    }


def _expected(status: str) -> dict[str, Any]:
    return {"load": status, "runs(status=)": {status}, "where": {status}, "list --status": {status},
            "gc": status == "crashed"}  # fmt: skip


class Creator:
    """A process that creates a run and waits: ``kill()`` it, or ``go(line)`` and let it end."""

    def __init__(self, root: Path, how: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CREATOR, str(root), how], env={**os.environ, **env},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)  # fmt: skip
        assert self.proc.stdout is not None
        self.run_id = self.proc.stdout.readline().strip()
        if len(self.run_id) != 8:
            self.kill()
            raise AssertionError(self.proc.stderr.read() if self.proc.stderr else "no output")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=60)

    def go(self, line: str) -> None:
        _, err = self.proc.communicate(line + "\n", timeout=60)
        assert self.proc.returncode == 0, err


@pytest.fixture
def creators() -> Iterator[list[Creator]]:
    made: list[Creator] = []
    yield made
    for creator in made:  # never leave one behind, whatever failed
        if creator.proc.poll() is None:
            creator.kill()


# how the creating process makes the run, its environment, and how the run reads once it is SIGKILLed
KILLED: dict[str, tuple[str, dict[str, str], str]] = {
    "Run.create, never started": ("create", {}, "crashed"),
    "start_run, killed between create and start": ("start_run", {}, "crashed"),
    "Run.create writing its folder only (RUNLAB_INDEX_WRITES=0)": ("create", {"RUNLAB_INDEX_WRITES": "0"}, "crashed"),
    "ExperimentManager.create_experiment (staged: stays created)": ("manager", {}, "created"),
}


@pytest.mark.parametrize("case", list(KILLED))
def test_a_created_run_whose_creator_is_killed(case: str, root: Path, creators: list[Creator]) -> None:
    how, env, after = KILLED[case]
    creator = Creator(root, how, env)
    creators.append(creator)
    assert _statuses(root, creator.run_id) == _expected("created")  # its creator is alive
    creator.kill()
    assert _statuses(root, creator.run_id) == _expected(after)
    assert not (root / ".runlab" / MARKERS / creator.run_id).exists()  # a folder-only run's marker went
    forget_stores()
    assert runlab.Store(root).rebuild_index().indexed == 1  # the folder says so too, not only the index
    assert _statuses(root, creator.run_id) == _expected(after)


def test_a_created_run_of_a_live_creator_stays_created_and_starts_later(root: Path, creators: list[Creator]) -> None:
    creator = Creator(root, "create", {})
    creators.append(creator)
    time.sleep(0.2)
    assert _statuses(root, creator.run_id) == _expected("created")
    creator.go("start")
    record = runlab.load(creator.run_id, root=root)
    assert record.status == "completed" and record.summaries["loss"].last == 0.5
    assert [a["status"] for a in record.metadata["attempts"]] == ["completed"]


def test_a_crashed_created_run_resumes(root: Path, creators: list[Creator]) -> None:
    creator = Creator(root, "create", {})
    creators.append(creator)
    creator.kill()
    assert runlab.load(creator.run_id, root=root).status == "crashed"
    forget_stores()
    with runlab.start_run(root=root, name="orphan", resume="auto", capture=False, capture_output=False) as run:
        assert run.id == creator.run_id
        run.log_metric("loss", 0.25)
    record = runlab.load(creator.run_id, root=root)
    assert record.status == "completed" and record.path == run.path and record.summaries["loss"].last == 0.25
    meta = record.metadata
    assert meta["resumed"] == 1 and [a["status"] for a in meta["attempts"]] == ["completed"]
    assert meta["heartbeat"]["pid"] == os.getpid() and len(runlab.runs(root=root)) == 1


@pytest.fixture(scope="module")
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# a created run's record (its ``heartbeat``) -> how it reads
RECORDS: dict[str, tuple[dict[str, Any] | None, str]] = {
    "old format: no creator recorded": (None, "created"),
    "creator on this host, alive": ({"pid": os.getpid(), "host": HOST}, "created"),
    "creator on this host, dead": ({"pid": "dead", "host": HOST}, "crashed"),
    "creator on another host (no heartbeat to age)": ({"pid": "dead", "host": "elsewhere.example"}, "created"),
    "creator with no pid": ({"pid": None, "host": HOST}, "created"),
}


@pytest.mark.parametrize("case", list(RECORDS))
def test_how_a_created_record_reads(case: str, root: Path, dead_pid: int) -> None:
    beat, expected = RECORDS[case]
    if beat is not None:
        beat = {**beat, "pid": dead_pid if beat["pid"] == "dead" else beat["pid"], "time": time.time() - 7200}
        assert effective_status("created", beat["pid"], beat["host"], beat["time"]) == expected
    meta = {"name": "r", "namespace": "default", "status": "created", "created": "2026-01-01T00:00:00+00:00"}
    if beat is not None:
        meta["heartbeat"] = beat
    meta, _ = runlab.Store(root).create(meta)
    assert _statuses(root, str(meta["id"])) == _expected(expected)
    forget_stores()
    runlab.Store(root).rebuild_index()
    assert _statuses(root, str(meta["id"])) == _expected(expected)
