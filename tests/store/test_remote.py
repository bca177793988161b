"""Runs that write their folders only (``RUNLAB_INDEX_WRITES=0``): markers, and readers indexing them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runlab.store import Store
from runlab.store._rebuild import read_entry

REMOTE = {"RUNLAB_INDEX_WRITES": "0"}

WRITER = """\
import os, sys, time
import runlab
gate, mode = sys.argv[1], sys.argv[2]
with runlab.start_run(root=sys.argv[3], name="far", capture=False) as run:
    run.log_metric("loss", 0.5)
    run.log_metric("loss", 0.25)
    deadline = time.time() + 120
    while not os.path.exists(gate) and time.time() < deadline:
        time.sleep(0.05)
    if mode == "die":
        os.kill(os.getpid(), 9)
"""


def start_writer(tmp_path: Path, root: Path, mode: str) -> tuple[subprocess.Popen[bytes], Path]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    gate = tmp_path / "gate"
    proc = subprocess.Popen([sys.executable, str(script), str(gate), mode, str(root)], env={**os.environ, **REMOTE})
    return proc, gate


def wait_until(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def index_rows(root: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(root / ".runlab" / "index.sqlite")
    try:
        return conn.execute("SELECT id, status FROM runs").fetchall()
    finally:
        conn.close()


def markers(root: Path) -> list[str]:
    folder = root / ".runlab" / "unindexed"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize(("mode", "final"), [("ok", "completed"), ("die", "crashed")])
def test_a_reader_sees_a_folder_only_run_live_and_at_its_end(tmp_path: Path, root: Path, mode: str,
                                                             final: str) -> None:  # fmt: skip
    root.mkdir()
    Store(root).rebuild_index()
    proc, gate = start_writer(tmp_path, root, mode)
    try:
        wait_until(lambda: len(markers(root)) == 1)
        assert index_rows(root) == []  # the run never writes the index
        store = Store(root)  # a reader (this process writes the index)

        def live() -> bool:
            runs = store.runs()
            return len(runs) == 1 and runs[0].status == "running" and "loss" in runs[0].summaries

        wait_until(live)
        (run,) = store.runs()
        assert run.summaries["loss"].last == 0.25 and run.summaries["loss"].count == 2
        assert store.load("far").id == run.id and store.count() == 1
    finally:
        gate.touch()
        proc.wait(60)
    (run,) = store.runs()
    assert run.status == final
    assert markers(root) == []  # indexed for good: finished, or crashed (its pid here is dead)
    assert index_rows(root) == [(run.id, "completed" if mode == "ok" else "running")]


def test_a_late_reading_never_replaces_a_finished_run(tmp_path: Path, root: Path) -> None:
    proc, gate = start_writer(tmp_path, root, "ok")
    store = Store(root)
    wait_until(lambda: len(list(root.glob("*/*/metrics.jsonl"))) == 1)
    folder = next(root.glob("*/*/run.json")).parent
    wait_until(lambda: "loss" in (read_entry(root, folder).summaries or {}))  # type: ignore[union-attr]
    running = read_entry(root, folder)  # a reader reads the folder while the run runs ...
    assert running is not None and running.meta["status"] == "running"
    gate.touch()
    proc.wait(60)
    assert store.runs()[0].status == "completed"  # ... another reader indexes its end ...
    store._safe(lambda idx: idx.refresh([running]))  # ... then the first one writes what it read
    assert store.runs()[0].status == "completed"
    assert index_rows(root) == [(running.run_id, "completed")]


@pytest.mark.parametrize("content", ["", "../elsewhere", "/etc", "default/no-such-folder"])
def test_a_bad_or_stale_marker_is_dropped(root: Path, content: str) -> None:
    (root / ".runlab" / "unindexed").mkdir(parents=True)
    (root / ".runlab" / "unindexed" / "0badc0de").write_text(content)
    store = Store(root)
    assert len(store.runs()) == 0 and markers(root) == []
    assert not (root / "elsewhere").exists()


def test_stores_that_do_not_write_the_index_do_not_reconcile(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / ".runlab" / "unindexed").mkdir(parents=True)
    (root / ".runlab" / "unindexed" / "0badc0de").write_text("default/x")
    monkeypatch.setenv("RUNLAB_INDEX_WRITES", "0")
    assert Store(root).reconcile() == 0 and markers(root) == ["0badc0de"]
    monkeypatch.delenv("RUNLAB_INDEX_WRITES")
    assert Store(root).reconcile() == 0 and markers(root) == []


def test_a_resumed_folder_only_run_is_marked_again(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runlab

    monkeypatch.setenv("RUNLAB_INDEX_WRITES", "0")
    with pytest.raises(KeyboardInterrupt), runlab.start_run(root=root, name="again", capture=False) as run:
        run.log_metric("loss", 1.0)
        raise KeyboardInterrupt
    assert markers(root) == [run.id]  # ended: nobody indexed it yet
    monkeypatch.delenv("RUNLAB_INDEX_WRITES")
    reader = Store(root)
    assert [(r.id, r.status) for r in reader.runs()] == [(run.id, "cancelled")] and markers(root) == []
    monkeypatch.setenv("RUNLAB_INDEX_WRITES", "0")
    with runlab.start_run(root=root, resume=str(run.path), capture=False) as again:  # as a requeued job does
        assert again.id == run.id and markers(root) == [run.id]
        again.log_metric("loss", 0.5)
        again._flush()
        assert reader.load(run.id).status == "running"  # the reader sees the resumed run live
    assert reader.load(run.id).status == "completed" and reader.load(run.id).summaries["loss"].count == 2
    assert markers(root) == []


def test_a_lasting_reader_reads_only_what_a_running_run_appended(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The UI (one Store for its life) follows a long remote run without reading its file again."""
    import runlab

    monkeypatch.setenv("RUNLAB_INDEX_WRITES", "0")
    with runlab.start_run(root=root, name="long", capture=False) as run:
        monkeypatch.delenv("RUNLAB_INDEX_WRITES")
        reader = Store(root)  # a process that writes the index, as `runlab ui` does
        for step in range(1000):
            run.log_metric("loss", 1.0 / (1 + step), step=step)
        run._flush()
        first = reader.load(run.id).summaries["loss"]
        live = reader._unindexed_seen[run.id][3]
        read = live.tail.offset
        assert (first.count, first.min, first.step) == (1000, 0.001, 999) and read == (
            run.path / "metrics.jsonl"
        ).stat().st_size
        for step in range(1000, 1500):
            run.log_metric("loss", 5.0, step=step)
        run._flush()
        second = reader.load(run.id).summaries["loss"]
        assert (second.count, second.min, second.max, second.last, second.step) == (1500, 1.0 / 1000, 5.0, 5.0, 1499)
        assert reader._unindexed_seen[run.id][3] is live and live.tail.offset > read  # the same reading, carried on
    done = reader.load(run.id)
    assert done.status == "completed" and done.summaries["loss"].count == 1500 and run.id not in reader._unindexed_seen


def test_live_summaries_start_again_on_a_replaced_or_shorter_file(tmp_path: Path) -> None:
    from runlab.store._remote import LiveSummaries

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"name":"a","step":0,"value":1.0,"time":0}\n{"name":"a","step":1,"value":3.0,"time":0}\n')
    live = LiveSummaries(path)
    assert live.update()["a"]["count"] == 2 and live.current()
    with open(path, "a") as handle:
        handle.write('{"name":"a","step":2,"value":2.0,"time":0}\n{"name":"a","step":3,')  # the last one is unfinished
    assert live.update()["a"] == {"last": 2.0, "min": 1.0, "max": 3.0, "count": 3, "step": 2}
    replacement = tmp_path / "new.jsonl"
    replacement.write_text('{"name":"b","step":0,"value":7.0,"time":0}\n')
    os.replace(replacement, path)
    assert not live.current()  # index_folder then starts a new reading
    assert LiveSummaries(path).update() == {"b": {"last": 7.0, "min": 7.0, "max": 7.0, "count": 1, "step": 0}}


def test_a_marker_that_cannot_be_written_never_breaks_the_run(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runlab
    from runlab.store import RunlabWarning

    (root / ".runlab").mkdir(parents=True)
    (root / ".runlab" / "unindexed").write_text("a file where the folder should be")
    monkeypatch.setenv("RUNLAB_INDEX_WRITES", "0")
    warned = pytest.warns(RunlabWarning, match="Cannot leave the marker")
    with warned, runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 1.0)
    assert run.status == "completed" and (run.path / "run.json").is_file()
    monkeypatch.delenv("RUNLAB_INDEX_WRITES")
    assert Store(root).rebuild_index().indexed == 1
