"""The store: root resolution, folders, IDs, lookup, the index and its rebuild."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

import runlab
from runlab.store import RunlabWarning, resolve_root

from ..conftest import forget_stores, run_python


# -- root resolution ---------------------------------------------------------------------
def test_root_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    monkeypatch.chdir(project / "sub")
    assert resolve_root() == project / "sub" / "runs"  # default ./runs
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.runlab]\nroot = "data/runs"\n')
    assert resolve_root() == project / "data" / "runs"  # relative to the pyproject.toml
    monkeypatch.setenv("RUNLAB_ROOT", str(tmp_path / "env-root"))
    assert resolve_root() == tmp_path / "env-root"
    assert resolve_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_pyproject_without_runlab_section_uses_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    monkeypatch.chdir(tmp_path)
    assert resolve_root() == tmp_path / "runs"


def test_bad_root_in_pyproject_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.runlab]\nroot = 3\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(runlab.UsageError, match=r"Invalid value for 'root' in \[tool.runlab\].*3 is not a path"):
        resolve_root()


def test_start_run_uses_the_default_root(tmp_path: Path) -> None:
    with runlab.start_run(capture=False) as run:
        pass
    assert run.path.parent.parent == tmp_path / "runs"
    assert runlab.load(run.id).id == run.id


# -- folders and IDs ---------------------------------------------------------------------
def test_run_folder_layout(root: Path) -> None:
    with runlab.start_run(namespace="mnist/base", root=root) as run:
        run.log_metric("m", 1)
        run.data["x"] = 1
        run.save_text("a.txt", "a")
        print("out")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_[0-9a-f]{8}", run.path.name)
    assert run.path.name.endswith(run.id)
    assert run.path.parent == root / "mnist" / "base"
    names = {p.relative_to(run.path).as_posix() for p in run.path.rglob("*")}
    assert {"run.json", "data.json", "metrics.jsonl", "out.log", "artifacts/a.txt", "env/requirements.txt",
            "env/dependencies.json"} <= names  # fmt: skip
    assert (root / ".runlab" / "index.sqlite").exists()
    meta = json.loads((run.path / "run.json").read_text())
    for key in ("id", "name", "namespace", "experiment", "status", "created", "started", "ended", "duration",
                "error", "params", "tags", "description", "git", "env", "sweep", "study", "parent"):  # fmt: skip
        assert key in meta


def test_ids_are_8_hex_and_unique(root: Path) -> None:
    ids = set()
    for _ in range(50):
        with runlab.start_run(root=root, capture=False) as run:
            pass
        assert re.fullmatch(r"[0-9a-f]{8}", run.id)
        ids.add(run.id)
    assert len(ids) == 50


def test_invalid_namespace_and_name(root: Path) -> None:
    for bad in ("../x", "/abs", "a//b", ".hidden", "a b"):
        with pytest.raises(runlab.UsageError, match="Invalid namespace"):
            runlab.start_run(namespace=bad, root=root, capture=False)
    with pytest.raises(runlab.UsageError, match="Invalid run name"):
        runlab.start_run(name="  ", root=root, capture=False)
    with pytest.raises(runlab.UsageError, match="Invalid tag"):
        runlab.start_run(tags=["a,b"], root=root, capture=False)
    assert len(runlab.runs(root=root)) == 0, "bad input writes nothing"


# -- lookup -------------------------------------------------------------------------------
def test_lookup_by_id_prefix_and_name(root: Path) -> None:
    made = []
    for i in range(20):  # 20 IDs over 16 first characters: some prefix is shared
        with runlab.start_run(name=f"run-{i}", root=root, capture=False) as run:
            pass
        made.append(run.id)
    for rid in made:
        assert runlab.load(rid, root=root).id == rid
        assert runlab.load(rid[:7], root=root).id == rid
    assert runlab.load("run-3", root=root).id == made[3]
    first_chars = [rid[0] for rid in made]
    shared = next(c for c in first_chars if first_chars.count(c) > 1)
    with pytest.raises(runlab.AmbiguousRunError) as info:
        runlab.load(shared, root=root)
    expected = sorted(rid for rid in made if rid[0] == shared)
    assert sorted(info.value.candidates) == expected
    for rid in expected:
        assert rid in str(info.value)
    with pytest.raises(runlab.RunNotFoundError, match="No run matches 'nope'"):
        runlab.load("nope", root=root)


def test_duplicate_names_are_ambiguous(root: Path) -> None:
    for _ in range(2):
        with runlab.start_run(name="baseline", root=root, capture=False):
            pass
    with pytest.raises(runlab.AmbiguousRunError, match="'baseline' matches 2 runs"):
        runlab.load("baseline", root=root)


# -- rebuild --------------------------------------------------------------------------------
def _index_snapshot(root: Path) -> list[tuple]:
    conn = sqlite3.connect(root / ".runlab" / "index.sqlite")
    try:
        return [
            conn.execute("SELECT * FROM runs ORDER BY id").fetchall(),
            conn.execute("SELECT * FROM params ORDER BY run_id, key").fetchall(),
            conn.execute("SELECT * FROM tags ORDER BY run_id, tag").fetchall(),
            conn.execute("SELECT * FROM metrics ORDER BY run_id, name").fetchall(),
        ]
    finally:
        conn.close()


def test_rebuild_recreates_the_identical_index(root: Path) -> None:
    for i in range(5):
        with runlab.start_run(namespace=f"ns{i % 2}", params={"a": i, "opt": {"lr": 0.1 * i}}, tags=["t", f"t{i}"],
                              root=root, capture=False) as run:  # fmt: skip
            run.log_metric("loss", 1.0 / (i + 1))
    with pytest.raises(ValueError), runlab.start_run(root=root, capture=False):
        raise ValueError("boom")
    before = _index_snapshot(root)
    report = runlab.Store(root).rebuild_index()
    assert report.indexed == 6 and report.added == [] and report.removed == [] and report.problems == []
    assert _index_snapshot(root) == before


def test_rebuild_picks_up_copied_folders_and_drops_deleted_ones(root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-machine"
    with runlab.start_run(namespace="remote", params={"a": 7}, root=other, capture=False) as foreign:
        foreign.log_metric("acc", 0.75)
    with runlab.start_run(root=root, capture=False) as local:
        pass
    with runlab.start_run(root=root, capture=False) as doomed:
        pass
    shutil.copytree(foreign.path, root / "remote" / foreign.path.name)
    shutil.rmtree(doomed.path)
    assert {r.id for r in runlab.runs(root=root)} == {local.id, doomed.id}
    report = runlab.Store(root).rebuild_index()
    assert report.added == [foreign.id] and report.removed == [doomed.id]
    rec = runlab.load(foreign.id, root=root)
    assert rec.params == {"a": 7} and rec.summaries["acc"].last == 0.75
    assert rec.path == root / "remote" / foreign.path.name
    assert runlab.runs(where="params.a == 7", root=root).ids == [foreign.id]


def test_missing_index_is_rebuilt_on_first_use(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        pass
    forget_stores()
    shutil.rmtree(root / ".runlab")
    assert runlab.runs(root=root).ids == [run.id]


def test_damaged_index_is_quarantined_and_rebuilt(root: Path) -> None:
    with runlab.start_run(params={"a": 1}, root=root, capture=False) as run:
        run.log_metric("m", 3.0)
    forget_stores()
    index = root / ".runlab" / "index.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    index.write_bytes(b"this is not a database" * 100)
    with pytest.warns(RunlabWarning, match="damaged"):
        found = runlab.runs(root=root)
    assert found.ids == [run.id] and found[0].summaries["m"].last == 3.0
    assert list((root / ".runlab").glob("index.sqlite.damaged-*"))


def test_rebuild_reports_unreadable_files_without_changing_them(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as good:
        good.log_metric("m", 1.0)
    with runlab.start_run(root=root, capture=False) as torn:
        torn.log_metric("m", 1.0)
    (torn.path / "run.json").write_text(json.dumps({**json.loads((torn.path / "run.json").read_text()),
                                                    "status": "running", "metrics": None}))  # fmt: skip
    with (torn.path / "metrics.jsonl").open("ab") as handle:
        handle.write(b'{"name":"m","val')
    bad = root / "default" / "2026-01-01_00-00-00_deadbeef"
    bad.mkdir(parents=True)
    (bad / "run.json").write_text("{not json")
    report = runlab.Store(root).rebuild_index()
    assert report.indexed == 3  # the damaged run is kept, flagged
    assert any("deadbeef" in p and "run.json is not valid JSON" in p for p in report.problems)
    assert [f for f, _ in report.damaged] == ["default/2026-01-01_00-00-00_deadbeef"]
    assert runlab.load("deadbeef", root=root).status == "damaged"
    assert any("metrics.jsonl:2" in p for p in report.problems)
    assert (bad / "run.json").read_text() == "{not json"
    assert runlab.load(torn.id, root=root).summaries["m"].count == 1


# -- many processes -----------------------------------------------------------------------
def test_four_processes_creating_runs_at_once(root: Path) -> None:
    import subprocess
    import sys

    code = f"""
import runlab, sys
w = int(sys.argv[1])
for i in range(100):
    with runlab.start_run(namespace=f"w{{w}}", params={{"worker": w, "i": i}}, root={str(root)!r},
                          capture=False, capture_output=False) as run:
        run.log_metric("i", i)
"""
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(w)], stderr=subprocess.PIPE, text=True) for w in range(4)
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    found = runlab.runs(root=root)
    assert len(found) == 400
    assert {(r.params["worker"], r.params["i"]) for r in found} == {(w, i) for w in range(4) for i in range(100)}
    wrong = [
        (r.id, r.status, dict(r.summaries))
        for r in found
        if r.status != "completed" or r.summaries["i"].last != r.params["i"]
    ]
    assert not wrong
    before = _index_snapshot(root)
    report = runlab.Store(root).rebuild_index()
    assert report.indexed == 400 and not report.problems
    assert _index_snapshot(root) == before


def test_queries_from_another_process_see_running_runs(root: Path) -> None:
    with runlab.start_run(name="live", root=root, capture=False) as run:
        out = run_python(f"import runlab; print(runlab.load('live', root={str(root)!r}).status)")
        assert out.stdout.strip() == "running"
    assert run.status == "completed"


def test_index_from_an_older_schema_is_rebuilt(root: Path) -> None:
    with runlab.start_run(params={"a": 1}, root=root, capture=False) as run:
        run.log_metric("m", 1.0)
    forget_stores()
    conn = sqlite3.connect(root / ".runlab" / "index.sqlite")
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    found = runlab.runs(where="params.a == 1", root=root)
    assert found.ids == [run.id] and found[0].summaries["m"].last == 1.0


def test_rebuild_while_other_processes_write_loses_nothing(root: Path) -> None:
    import subprocess
    import sys

    writer = f"""
import runlab, sys, time
for i in range(60):
    with runlab.start_run(namespace="a-new", params={{"w": int(sys.argv[1]), "i": i}}, root={str(root)!r},
                          capture=False, capture_output=False) as run:
        run.log_metric("i", i)
        time.sleep(0.02)
"""
    rebuilder = f"""
import runlab, time
store = runlab.Store({str(root)!r})
for _ in range(15):  # rebuild while the writers are busy, then stop: nothing repairs a stale row later
    store.rebuild_index()
    time.sleep(0.02)
"""
    for i in range(400):  # scanned after the new runs: writers act while a rebuild still reads these
        with runlab.start_run(namespace="z-old", params={"i": i}, root=root, capture=False, capture_output=False):
            pass
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, str(w)], stderr=subprocess.PIPE, text=True) for w in range(2)
    ]
    rebuild = subprocess.Popen([sys.executable, "-c", rebuilder], stderr=subprocess.PIPE, text=True)
    assert rebuild.wait(timeout=120) == 0, rebuild.communicate()[1]
    errors = [p.communicate(timeout=240)[1] for p in writers]
    assert [p.returncode for p in writers] == [0, 0], errors
    found = runlab.runs(namespace="a-new", root=root)
    assert len(found) == 120 and runlab.Store(root).count() == 520
    wrong = [(r.id, r.status, dict(r.summaries)) for r in found if r.status != "completed" or "i" not in r.summaries]
    assert not wrong


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    root = tmp_path / "nowhere"
    assert len(runlab.runs(root=root)) == 0 and runlab.Store(root).count() == 0
    with pytest.raises(runlab.RunNotFoundError):
        runlab.load("abc", root=root)
    with pytest.raises(runlab.FilterError):
        runlab.runs(where="bogus.field == 1", root=root)  # input is still checked
    with pytest.raises(runlab.FilterError):
        runlab.runs(order_by="bogus", root=root)
    assert not root.exists()


def test_opening_a_fresh_index_waits_for_a_lock_held_elsewhere(tmp_path: Path) -> None:
    """Opening waits for another connection's lock instead of failing (see also Index._connect's retry)."""
    import threading
    import time

    from runlab.store._index import Index

    path = tmp_path / "index.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    started = time.monotonic()
    assert Index(path).count() == 0
    assert time.monotonic() - started >= 0.4
    holder.close()


def test_a_store_folder_created_meanwhile_is_never_called_a_file(tmp_path: Path) -> None:
    # two threads (or processes) opening a new store at once: one saw "not a folder" and then "exists"
    # as the other created it, and refused the store as a file ("store folder ... is a file")
    import sys
    import threading

    from runlab.errors import UsageError
    from runlab.store._store import _check_folder

    root = tmp_path / "new"
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            root.mkdir(exist_ok=True)
            root.rmdir()

    errors: list[str] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so the check is caught halfway
    thread = threading.Thread(target=flip)
    thread.start()
    try:
        for _ in range(3000):
            try:
                _check_folder(root / "runs")
            except UsageError as exc:
                errors.append(str(exc))
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert errors == []


def test_a_name_wins_over_an_id_prefix(root: Path) -> None:
    """A run named like the start of another run's ID is found by its name (1 in 256 IDs start with ``d0``:
    a test naming runs d0, d1 failed that often)."""
    store = runlab.Store(root)
    other = runlab.start_run(root=root, capture=False)
    other.complete()
    named = runlab.start_run(root=root, name=other.id[:2], capture=False)
    named.complete()
    assert store.load(other.id[:2]).id == named.id
    assert store.load(other.id[:4]).id == other.id  # a longer prefix still finds the other run


@pytest.mark.parametrize("forged", ["../../../victim", "a/b", "", ".hidden", "x" * 101, 12345678, None])
def test_an_id_that_is_not_a_plain_name_is_not_indexed(root: Path, forged: object) -> None:
    """An edited run.json's id becomes paths (``.runlab/envs/<id>``, which reproduce clears) and URLs: the
    run is indexed under its folder's ID instead and the rebuild names the problem."""
    with runlab.start_run(root=root, capture=False) as run:
        pass
    meta = json.loads((run.path / "run.json").read_text())
    meta["id"] = forged
    (run.path / "run.json").write_text(json.dumps(meta))
    report = runlab.Store(root).rebuild_index()
    assert [r.id for r in runlab.runs(root=root)] == [run.id]  # the folder's ID (..._<id>)
    assert any("'id'" in p and "run ID" in p for p in report.problems), report.problems
