"""Fault injection: damaged files and crash points, as tables.

Every case damages one file (or stops one operation half-way) in a store of three runs and
asserts: a clear error or a recorded ``damaged`` state, the other runs untouched, and
``runlab index check`` clean after ``runlab index rebuild``. A new file or field of the
store gets a row in these tables, not an ad-hoc test.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlab
from runlab.cli import cli
from runlab.cli._main import _register
from runlab.store import _manage

from ..conftest import forget_stores

_register()
RUNLAB = [sys.executable, "-m", "runlab"]
RANDOM = bytes(range(256)) * 3 + b"\x00\xff\xfe garbage"


def invoke(root: Path, *args: str) -> Any:
    forget_stores()
    result = CliRunner().invoke(cli, [*args, "--root", str(root)], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def three(root: Path) -> list[runlab.Run]:
    """Three finished runs with params, tags, metrics and data; the middle one is the victim."""
    made = []
    for i in range(3):
        with runlab.start_run(name=f"r{i}", params={"i": i, "lr": 0.1 / (i + 1)}, tags=["t"], root=root,
                              capture=False) as run:  # fmt: skip
            run.log_metric("loss", 1.0 / (i + 1))
            run.log_metric("loss", 0.5 / (i + 1))
            run.data["result"] = i
        made.append(run)
    forget_stores()
    return made


def snapshot(root: Path, ids: list[str]) -> dict[str, Any]:
    """What the store says about the given runs (to prove they are untouched)."""
    forget_stores()
    out = {}
    for rid in ids:
        rec = runlab.load(rid, root=root)
        out[rid] = (rec.status, dict(rec.params), rec.tags, rec.summaries["loss"].last, rec.data, rec.path)
    return out


def check_clean_after_rebuild(root: Path) -> None:
    assert invoke(root, "index", "rebuild").exit_code == 0
    checked = invoke(root, "index", "check")
    assert checked.exit_code == 0, checked.output
    assert "OK: the index matches" in checked.output


# -- run.json: corruption kind x (rebuild, list, show, tag, check, delete) ---------------------
def _edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        meta = json.loads(path.read_text())
        change(meta)
        path.write_text(json.dumps(meta))

    return apply


def _set(key: str, value: Any) -> Callable[[Path], None]:
    return _edit(lambda meta: meta.__setitem__(key, value))


RUN_JSON_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    # kind: (how the file is damaged, what `show` and the index say)
    "half-written": (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "not valid JSON"),
    "empty": (lambda p: p.write_bytes(b""), "run.json is empty"),
    "random bytes": (lambda p: p.write_bytes(RANDOM), "not valid JSON"),
    "a JSON list": (lambda p: p.write_text("[1, 2]"), "holds a list"),
    "params list": (_set("params", [1]), "'params' is a list"),
    "created not a date": (_set("created", "notadate"), "'created' is the text 'notadate'"),
    "metrics list": (_set("metrics", [1]), "'metrics' is a list"),
    "heartbeat text": (_set("heartbeat", "x"), "'heartbeat' is the text 'x'"),
    "name object": (_set("name", {"a": 1}), "'name' is an object"),
    "status unknown": (_set("status", "exploded"), "'status' is the text 'exploded'"),
    "tags text": (_set("tags", "best"), "'tags' is the text 'best'"),
    "id number": (_set("id", 5), "'id' is the number 5"),
    "huge pid": (_set("heartbeat", {"pid": 10**30, "host": "h", "time": 1.0}), "'heartbeat.pid'"),
    "metric count text": (_edit(lambda m: m["metrics"]["loss"].__setitem__("count", "2")), "'metrics.loss.count'"),
    # a folder with the run's files but no run.json was skipped: the run vanished from the index unreported
    "missing": (lambda p: p.unlink(), "run.json is missing (the folder holds metrics.jsonl, data.json"),
}


def _bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


@pytest.mark.parametrize("kind", list(RUN_JSON_DAMAGE))
def test_damaged_run_json_is_kept_listed_and_explained(kind: str, root: Path, three: list[runlab.Run]) -> None:
    damage, says = RUN_JSON_DAMAGE[kind]
    good, victim, other = three
    before = snapshot(root, [good.id, other.id])
    damage(victim.path / "run.json")
    damaged_bytes = _bytes(victim.path / "run.json")

    # the index is stale: check says so; a rebuild keeps the run as damaged and reports it
    stale = invoke(root, "index", "check")
    assert stale.exit_code == 1 and victim.path.name in stale.output
    rebuilt = invoke(root, "index", "rebuild")
    assert rebuilt.exit_code == 0 and "Indexed 3 runs" in rebuilt.output
    assert victim.path.name in rebuilt.output and says in rebuilt.output
    assert _bytes(victim.path / "run.json") == damaged_bytes  # never modified (nor created)
    forget_stores()
    rec = runlab.load(victim.id, root=root)
    assert rec.status == "damaged" and says in (rec.problem or "")
    assert [r.id for r in runlab.runs(status="damaged", root=root)] == [victim.id]
    assert snapshot(root, [good.id, other.id]) == before

    listed = invoke(root, "list", "--format", "json")
    assert listed.exit_code == 0
    assert {r["id"]: r["status"] for r in json.loads(listed.output)}[victim.id] == "damaged"
    shown = invoke(root, "show", victim.id)
    assert shown.exit_code == 0 and "Damaged files" in shown.output and "run.json" in shown.output
    assert says in shown.output
    tagged = invoke(root, "tag", "x", victim.id)
    assert tagged.exit_code == 1 and "damaged" in tagged.output and "run.json" in tagged.output
    assert _bytes(victim.path / "run.json") == damaged_bytes
    checked = invoke(root, "index", "check")
    assert checked.exit_code == 0 and "damaged" in checked.output and says in checked.output
    check_clean_after_rebuild(root)

    # with the index gone, listing rebuilds it and works for the whole store
    shutil.rmtree(root / ".runlab")
    again = invoke(root, "list", "--format", "json")
    assert again.exit_code == 0 and len(json.loads(again.output)) == 3
    deleted = invoke(root, "delete", "--yes", victim.id)
    assert deleted.exit_code == 0 and not victim.path.exists()
    assert snapshot(root, [good.id, other.id]) == before
    check_clean_after_rebuild(root)


@pytest.mark.parametrize("kind", ["empty", "missing", "namespace number"])
def test_a_damaged_run_keeps_the_namespace_its_folder_says(root: Path, kind: str) -> None:
    """A damaged run in mnist/ was listed under the namespace 'default'."""
    with runlab.start_run(root=root, capture=False, namespace="mnist/small") as run:
        run.log_metric("loss", 1.0)
    path = run.path / "run.json"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "missing":
        path.unlink()
    else:
        _set("namespace", 5)(path)
    runlab.Store(root).rebuild_index()
    forget_stores()
    [record] = runlab.runs(root=root, where="namespace == 'mnist/small'")
    assert record.id == run.id and record.status == "damaged"


def test_damaged_run_json_through_real_processes(root: Path, three: list[runlab.Run]) -> None:
    victim = three[1]
    (victim.path / "run.json").write_bytes(b"")
    (root / ".runlab" / "index.sqlite").unlink()
    for args, code in ((["list"], 0), (["show", victim.id], 0), (["tag", "x", victim.id], 1),
                       (["index", "check"], 0), (["delete", "-y", victim.id], 0)):  # fmt: skip
        done = subprocess.run([*RUNLAB, *args, "--root", str(root)], capture_output=True, text=True, timeout=120)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
    assert not victim.path.exists() and len(runlab.runs(root=root)) == 2


FIELDS = ["id", "name", "namespace", "status", "created", "started", "ended", "duration", "heartbeat", "params",
          "tags", "metrics", "error", "sweep", "description"]  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(FIELDS),
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=6,
    ),
)
def test_any_value_in_any_field_never_breaks_a_rebuild(
    field: str, value: Any, root: Path, three: list[runlab.Run]
) -> None:
    victim, others = three[1], [three[0].id, three[2].id]
    path = victim.path / "run.json"
    original = path.read_bytes()
    try:
        _set(field, value)(path)
        report = runlab.Store(root).rebuild_index()
        assert report.indexed == 3
        forget_stores()
        statuses = {r.id: r.status for r in runlab.runs(root=root)}
        assert [statuses[i] for i in others] == ["completed", "completed"]
        assert runlab.Store(root).check_index().ok
    finally:
        path.write_bytes(original)
        forget_stores()


# -- data.json and metrics.jsonl: corruption kind x (show, API, `runlab metrics`) --------------
FILE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "empty": lambda p: p.write_bytes(b""),
    "random bytes": lambda p: p.write_bytes(RANDOM),
    "half-written": lambda p: p.write_bytes(p.read_bytes()[: max(1, len(p.read_bytes()) // 2)].rstrip(b"\n")),
}


@pytest.mark.parametrize("kind", [*FILE_DAMAGE, "a JSON list"])
def test_damaged_data_json_names_the_file(kind: str, root: Path, three: list[runlab.Run]) -> None:
    victim = three[1]
    path = victim.path / "data.json"
    if kind == "a JSON list":
        path.write_text("[1]")
    else:
        FILE_DAMAGE[kind](path)
    rec = runlab.load(victim.id, root=root)
    with pytest.raises(runlab.DamagedFileError, match=r"data\.json") as caught:
        _ = rec.data
    assert caught.value.path == str(path) and "orjson" not in str(caught.value)
    shown = invoke(root, "show", victim.id)
    assert shown.exit_code == 0 and "Damaged files" in shown.output and str(path) in shown.output
    as_json = invoke(root, "show", victim.id, "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.output)["problems"]
    assert runlab.load(three[0].id, root=root).data == {"result": 0}
    check_clean_after_rebuild(root)


@pytest.mark.parametrize("kind", list(FILE_DAMAGE))
def test_damaged_metrics_file_names_the_file(kind: str, root: Path, three: list[runlab.Run]) -> None:
    victim = three[1]
    path = victim.path / "metrics.jsonl"
    FILE_DAMAGE[kind](path)
    rec = runlab.load(victim.id, root=root)
    with pytest.raises(runlab.DamagedFileError, match=r"metrics\.jsonl") as caught:
        rec.metrics("loss")
    assert "it has: loss" not in str(caught.value)
    result = invoke(root, "metrics", victim.id, "loss")
    assert result.exit_code == 1 and "metrics.jsonl" in result.output and "it has" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    shown = invoke(root, "show", victim.id)
    assert shown.exit_code == 0 and "Damaged files" in shown.output and str(path) in shown.output
    with pytest.raises(runlab.MetricNotFoundError, match="it has: loss"):
        rec.metrics("acc")  # a metric that was never logged is still "not found", not "damaged"
    assert runlab.load(three[0].id, root=root).metrics("loss").values == [1.0, 0.5]
    check_clean_after_rebuild(root)


# -- the index files: corruption kind x (store index, archive index) -----------------------
def _sql(*statements: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.unlink()
        conn = sqlite3.connect(path)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()

    return apply


def _rewrite(change: Callable[[bytes], bytes | None]) -> Callable[[Path], None]:
    """Replace the index file's bytes (None: remove it), its WAL and shared-memory files removed."""

    def apply(path: Path) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        data = change(path.read_bytes())
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data)

    return apply


INDEX_DAMAGE: dict[str, Callable[[Path], None]] = {
    "0 bytes": _rewrite(lambda data: b""),
    "random bytes": _rewrite(lambda data: RANDOM * 10),
    "truncated": _rewrite(lambda data: data[:1500]),
    "wrong schema": _sql("CREATE TABLE runs(foo)"),
    "wrong columns, our version": _sql("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                                       "INSERT INTO meta VALUES ('schema', '3')", "CREATE TABLE runs(id, foo)"),
    "older schema": _sql("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                         "INSERT INTO meta VALUES ('schema', '1')"),
    "missing": _rewrite(lambda data: None),
}  # fmt: skip


@pytest.mark.parametrize("which", ["store", "archive"])
@pytest.mark.parametrize("kind", list(INDEX_DAMAGE))
def test_damaged_index_is_detected_and_rebuilt(kind: str, which: str, root: Path, three: list[runlab.Run]) -> None:
    store = runlab.Store(root)
    _manage.archive(store, three[2].id)
    store.close()
    store.archive.close()
    forget_stores()
    index = (root / ".archive" if which == "archive" else root) / ".runlab" / "index.sqlite"
    INDEX_DAMAGE[kind](index)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = invoke(root, "list", "--all", "--format", "json")
    assert listed.exit_code == 0, listed.output
    if kind in ("random bytes", "truncated"):  # an unreadable file is moved aside, with a warning
        assert any("damaged" in str(w.message) for w in caught)
        assert list(index.parent.glob("index.sqlite.damaged-*"))
    rows = {r["id"]: r for r in json.loads(listed.output)}
    assert sorted(rows) == sorted(r.id for r in three)
    assert rows[three[2].id]["archived"] is True and rows[three[0].id]["archived"] is False
    shown = invoke(root, "show", three[2].id)
    assert shown.exit_code == 0 and "(archived)" in shown.output
    check_clean_after_rebuild(root)


# -- crash points x files ---------------------------------------------------------------------
def _archived_unindexed(root: Path, runs: list[runlab.Run]) -> str:
    """archive() stopped after moving the folder, before updating either index."""
    src = runs[1].path
    dest = root / ".archive" / src.relative_to(root)
    _manage.archive(runlab.Store(root), runs[0].id)  # the archive exists with its index
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)
    return runs[1].id


def _deleted_folder(root: Path, runs: list[runlab.Run]) -> str:
    """delete() stopped after removing the folder, before the index row."""
    shutil.rmtree(runs[1].path)
    return ""


def _deleted_half_way(root: Path, runs: list[runlab.Run]) -> str:
    """delete() stopped half-way through removing the files (it renames the folder to a hidden one first)."""
    src = runs[1].path
    hidden = src.with_name(f".removing-{src.name}.1.1")
    os.rename(src, hidden)
    (hidden / "run.json").unlink()  # what is left holds metrics.jsonl: not a run, as it is hidden
    return ""


def _copied_in(root: Path, runs: list[runlab.Run]) -> str:
    """A run folder copied in from elsewhere (or created by a process that died before indexing it)."""
    folder = root / "default" / "2026-01-01_00-00-00_0badf00d"
    shutil.copytree(runs[1].path, folder)
    meta = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**meta, "id": "0badf00d"}))
    return "0badf00d"


def _running_torn(root: Path, runs: list[runlab.Run]) -> str:
    """A run killed while running: status 'running', a dead pid, a torn last metrics line."""
    path = runs[1].path
    meta = json.loads((path / "run.json").read_text())
    meta.update(status="running", metrics=None, heartbeat={"pid": 2**22 + 12345, "host": os.uname().nodename,
                                                           "time": 1.0})  # fmt: skip
    (path / "run.json").write_text(json.dumps(meta))
    with (path / "metrics.jsonl").open("ab") as handle:
        handle.write(b'{"name":"loss","ste')
    (path / ".run.json.123.140.tmp").write_text("{")  # an atomic write that never got renamed
    return runs[1].id


CRASH_POINTS: dict[str, tuple[Callable[[Path, list[runlab.Run]], str], str | None]] = {
    # crash point: (make it, the status `show` gives afterwards; None: the run is gone)
    "archive: folder moved, indexes not updated": (_archived_unindexed, "completed"),
    "delete: folder removed, index row left": (_deleted_folder, None),
    "delete: stopped half-way through the files": (_deleted_half_way, None),
    "folder copied in, not indexed": (_copied_in, "completed"),
    "killed while running": (_running_torn, "crashed"),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_crash_points_are_found_by_check_and_fixed_by_rebuild(point: str, root: Path, three: list[runlab.Run]) -> None:
    make, status = CRASH_POINTS[point]
    untouched = three[2].id
    before = snapshot(root, [untouched])
    forget_stores()
    rid = make(root, three)
    if point != "killed while running":  # the index is out of date: check says so
        stale = invoke(root, "index", "check")
        assert stale.exit_code == 1 and "index rebuild" in stale.output
    check_clean_after_rebuild(root)
    if rid:
        shown = invoke(root, "show", rid)
        assert shown.exit_code == 0 and status in shown.output
    assert snapshot(root, [untouched]) == before
