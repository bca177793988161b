"""Many processes against one store, processes killed between a run's folder and its index row, and
damaged bookkeeping files, as tables (real processes, real SQLite files, real signals).

Each case failed before its fix:

* a damaged marker in ``.runlab/unindexed/`` (bytes that are not UTF-8, a NUL byte) made every query
  (``runlab list``, ``show``, the UI) fail with a traceback; one naming a folder through ``..`` had
  a folder outside the store indexed as a run;
* tag, note, archive and delete from several processes at once lost changes silently (8 concurrent
  ``runlab tag`` commands kept 3 of the 8 tags) or stopped with a traceback (``FileNotFoundError``,
  ``IndexError``) when another process had moved or removed the run meanwhile;
* a run killed after writing its final ``run.json`` and before its index row stayed listed as
  ``crashed`` while ``runlab index check`` said the index was fine, and ``runlab gc`` deleted the
  completed run as a crashed one.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli._main import _register
from runlab.store import _manage

from ..conftest import forget_stores

_register()


def invoke(root: Path, *args: str) -> object:
    forget_stores()
    result = CliRunner().invoke(cli, [*args, "--root", str(root)], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _finished_runs(root: Path, n: int) -> list[runlab.Run]:
    made = []
    for i in range(n):
        with runlab.start_run(name=f"r{i}", params={"i": i}, root=root, capture=False, capture_output=False) as run:
            run.log_metric("loss", 1.0 / (i + 1))
        made.append(run)
    forget_stores()
    return made


def _check_clean(root: Path) -> None:
    forget_stores()
    result = runlab.Store(root).check_index()
    assert result.ok, (result.problems, result.archive and result.archive.problems)


# -- damaged markers of runs that write their folders only ------------------------------------------
MARKERS: dict[str, bytes] = {
    "bytes that are not UTF-8": b"\xff\xfe\x00 not text",
    "a NUL byte in the folder name": b"default/a\x00b",
    "a folder outside the store through '..'": b"default/../../outside/2026-01-01_00-00-00_0badf00d",
    "an absolute path": b"/etc",
    "empty": b"",
}


@pytest.mark.parametrize("kind", list(MARKERS))
def test_a_damaged_marker_never_breaks_a_query_nor_reaches_outside(kind: str, root: Path, tmp_path: Path) -> None:
    runs = _finished_runs(root, 2)
    outside = tmp_path / "outside" / "2026-01-01_00-00-00_0badf00d"  # a run folder that is not the store's
    outside.mkdir(parents=True)
    meta = json.loads((runs[0].path / "run.json").read_text())
    (outside / "run.json").write_text(json.dumps({**meta, "id": "0badf00d", "name": "stranger"}))
    marker = root / ".runlab" / "unindexed" / "0badf00d"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_bytes(MARKERS[kind])
    listed = invoke(root, "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert sorted(r["id"] for r in json.loads(listed.output)) == sorted(r.id for r in runs)
    assert invoke(root, "show", runs[1].id).exit_code == 0
    assert runlab.Store(root).count() == 2 and not marker.exists()  # dropped: it names no run folder here
    _check_clean(root)


# -- changes from several processes at once ---------------------------------------------------------
_WORKER = textwrap.dedent(
    """
    import sys, time
    import runlab
    from runlab.store import _manage

    root, op, index, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = runlab.Store(root)
    records = list(store.runs(archived=None, order_by="name"))  # listed first, changed later, as the CLI does
    while time.time() < go:
        time.sleep(0.001)
    for record in records:
        try:
            if op == "tag":
                _manage.set_tags(store, record, add=[f"p{index}"])
            else:
                getattr(_manage, op)(store, record)
        except runlab.RunlabError as exc:  # a one-line error is fine: the run changed meanwhile
            assert "\\n" not in str(exc), exc
            print("refused:", type(exc).__name__, exc)
    """
)


def _at_once(root: Path, ops: list[str]) -> list[subprocess.CompletedProcess[str]]:
    go = f"{time.time() + 1.5:.3f}"  # every process lists the runs, then all change them at this moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(root), op, str(i), go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, op in enumerate(ops)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


TAGGERS: dict[str, tuple[str, ...]] = {
    # case: (what each process does, in the order started)
    "commands at once": ("tag",) * 6,
    "commands while the index is busy": ("tag",) * 4,
    "tag and note commands while the index is busy": ("tag", "note", "tag", "note"),
}


@pytest.mark.parametrize("case", list(TAGGERS))
def test_concurrent_changes_to_a_run_lose_nothing(case: str, root: Path) -> None:
    run = _finished_runs(root, 1)[0]
    holder = sqlite3.connect(root / ".runlab" / "index.sqlite", isolation_level=None, timeout=30)
    if "busy" in case:  # the changes' index writes wait: each process has read and written run.json by then
        holder.execute("BEGIN IMMEDIATE")
    procs = [
        subprocess.Popen([sys.executable, "-m", "runlab", "--root", str(root), op, f"p{i}" if op == "tag" else
                          f"note {i}", run.id], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i, op in enumerate(TAGGERS[case])
    ]  # fmt: skip
    if "busy" in case:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (run.path / "run.json").read_bytes().count(b'"p') < 1:
            time.sleep(0.02)  # the first change waits for the index now
        time.sleep(1.0)  # and the others reach theirs
        holder.execute("ROLLBACK")
    holder.close()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), outputs
    tags = {f"p{i}" for i, op in enumerate(TAGGERS[case]) if op == "tag"}
    notes = {f"note {i}" for i, op in enumerate(TAGGERS[case]) if op == "note"}
    on_disk = json.loads((run.path / "run.json").read_text())
    forget_stores()
    indexed = runlab.Store(root).load(run.id)
    assert set(on_disk["tags"]) == set(indexed.tags) == tags  # every tag kept, in the folder and the index
    assert on_disk["description"] == indexed.description and (on_disk["description"] in notes or not notes)
    assert on_disk["status"] == "completed" and on_disk["metrics"]["loss"]["count"] == 1
    _check_clean(root)


MOVERS: dict[str, list[str]] = {
    "archive twice": ["archive", "archive"],
    "delete twice": ["delete", "delete"],
    "archive and delete": ["archive", "delete", "archive", "delete"],
    "tag while others archive and delete": ["tag", "archive", "delete"],
}


@pytest.mark.parametrize("case", list(MOVERS))
def test_concurrent_moves_and_deletes_give_one_line_errors(case: str, root: Path) -> None:
    runs = _finished_runs(root, 8)
    done = _at_once(root, MOVERS[case])
    assert [p.returncode for p in done] == [0] * len(done), [p.stderr[-2000:] for p in done]
    forget_stores()
    store = runlab.Store(root)
    live = {r.id for r in store.runs()}
    archived = {r.id for r in store.runs(archived=True)}
    assert not live & archived
    for run in runs:  # each run is where its index says, once, with its own record intact
        if run.id in live | archived:
            meta = json.loads((store.load(run.id).path if run.id in live else store.archive.load(run.id).path)
                              .joinpath("run.json").read_text())  # fmt: skip
            assert meta["id"] == run.id and meta["status"] == "completed"
    if "delete" not in MOVERS[case]:
        assert live | archived == {r.id for r in runs}
    _check_clean(root)


# -- a process killed between writing run.json and its index row --------------------------------------
_VICTIM = textwrap.dedent(
    """
    import sys
    import runlab
    from runlab.lifecycle import Run

    root, point = sys.argv[1], sys.argv[2]
    if point == "create":
        print("ready", flush=True); sys.stdin.readline()
    run = runlab.start_run(name="victim", root=root, capture=False, capture_output=False) if point != "start" else \\
        Run.create(store=runlab.Store(root), name="victim", capture=False, capture_output=False)
    run.log_metric("loss", 0.5)
    print("ready", flush=True); sys.stdin.readline()
    run.start() if point == "start" else run.finish()
    """
)

CRASHES: dict[str, tuple[str, str, bool]] = {
    # killed while its index write waits: (status in run.json, status after a rebuild, then a gc candidate)
    "create: run.json written, not indexed": ("created", "crashed", True),  # its creator died: crashed
    "start: run.json says running, index says created": ("running", "crashed", True),
    "finish: run.json says completed, index says running": ("completed", "completed", False),
}


@pytest.mark.parametrize("point", list(CRASHES))
def test_a_run_killed_between_its_folder_and_its_index_is_found_by_check(point: str, root: Path) -> None:
    written, after, gc = CRASHES[point]
    other = _finished_runs(root, 1)[0]
    victim = subprocess.Popen([sys.executable, "-c", _VICTIM, str(root), point.split(":")[0]],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert victim.stdout is not None and victim.stdin is not None
    try:
        assert victim.stdout.readline().strip() == "ready"
        holder = sqlite3.connect(root / ".runlab" / "index.sqlite", isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")  # the victim's next index write waits here, after its run.json
        victim.stdin.write("go\n")
        victim.stdin.flush()
        deadline = time.monotonic() + 30
        found: dict[str, object] = {}
        while time.monotonic() < deadline and found.get("status") != written:
            for path in root.glob("default/*/run.json"):
                meta = json.loads(path.read_bytes() or b"{}")
                if meta.get("name") == "victim":
                    found = meta
            time.sleep(0.02)
        time.sleep(0.2)
        assert found.get("status") == written
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    holder.execute("ROLLBACK")
    holder.close()
    rid = str(found["id"])
    stale = invoke(root, "index", "check")
    assert stale.exit_code == 1 and rid in stale.output and "index rebuild" in stale.output  # not "OK"
    forget_stores()
    candidates = {rec.id for rec, _ in _manage.gc_candidates(runlab.Store(root), older_than=0)}
    assert candidates <= ({rid} if written == "running" else set())  # gc never removes a finished run
    assert invoke(root, "index", "rebuild").exit_code == 0
    _check_clean(root)
    forget_stores()
    candidates = {rec.id for rec, _ in _manage.gc_candidates(runlab.Store(root), older_than=0)}
    assert candidates == ({rid} if gc else set())
    shown = invoke(root, "list", "--format", "json")
    assert {r["id"]: r["status"] for r in json.loads(shown.output)} == {rid: after, other.id: "completed"}
