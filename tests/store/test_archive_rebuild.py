"""The store owns its archive and its query vocabulary; rebuilds are streamed in short chunks;
a debug folder that a live run holds is never reused."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import runlab
from runlab.store import _manage, _rebuild
from runlab.store._records import FIELD_KINDS

from ..conftest import forget_stores

SRC = Path(runlab.__file__).parent


@pytest.fixture
def mixed(root: Path) -> runlab.Store:
    """Six runs with params a = 0..5; the odd ones archived."""
    for a in range(6):
        with runlab.start_run(name=f"a{a}", params={"a": a}, root=root, capture=False) as run:
            run.log_metric("score", 10 - a)
    store = runlab.Store(root)
    for rec in store.runs(where="params.a in [1, 3, 5]"):
        _manage.archive(store, rec)
    return store


@pytest.mark.parametrize(
    ("order_by", "limit", "expected"),
    [
        ("params.a", None, [0, 1, 2, 3, 4, 5]),
        ("-params.a", 4, [5, 4, 3, 2]),
        ("metrics.score", 3, [5, 4, 3]),
        ("-created", 2, [5, 4]),
        ("name", None, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_runs_archived_none_orders_and_limits_both_as_one(
    mixed: runlab.Store, order_by: str, limit: int | None, expected: list[int]
) -> None:
    found = mixed.runs(order_by=order_by, limit=limit, archived=None)
    assert [r.params["a"] for r in found] == expected
    assert [r.archived for r in found] == [a % 2 == 1 for a in expected]
    for rec in found:  # archived records point into the archive, and load from there
        assert rec.path.is_dir() and (".archive" in rec.path.parts) == rec.archived


def test_runs_archived_false_true_and_counts(mixed: runlab.Store) -> None:
    assert sorted(r.params["a"] for r in mixed.runs()) == [0, 2, 4]
    assert sorted(r.params["a"] for r in mixed.runs(archived=True)) == [1, 3, 5]
    assert all(r.archived for r in mixed.runs(archived=True)) and not any(r.archived for r in mixed.runs())
    both = mixed.runs(where="params.a >= 2", order_by="params.a", archived=None)
    assert [r.params["a"] for r in both] == [2, 3, 4, 5]
    assert (mixed.count(), mixed.count(archived=True), mixed.count(archived=None)) == (3, 3, 6)
    assert len(runlab.runs(root=mixed.root, archived=None)) == 6 and len(runlab.runs(root=mixed.root)) == 3
    assert mixed.count(where="metrics.score > 6", archived=None) == 4
    assert mixed.archive.is_archive and mixed.archive is mixed.archive
    with pytest.raises(runlab.UsageError, match="archive already"):
        _ = mixed.archive.archive


def test_list_all_through_the_cli_marks_archived_runs(mixed: runlab.Store, root: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "runlab", "list", "-a", "--sort", "params.a", "--format", "json",
                           "--root", str(root)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["params"]["a"], r["archived"]) for r in rows] == [(a, a % 2 == 1) for a in range(6)]


def test_one_field_list_for_records_queries_and_columns() -> None:
    from runlab.cli import _fields
    from runlab.store import _filter

    assert _fields.BASE_FIELDS == runlab.RunRecord.FIELDS == tuple(FIELD_KINDS)
    queryable = [name for name, kind in FIELD_KINDS.items() if kind]
    assert all(name in _filter.FIELDS_HELP for name in queryable)
    for name in queryable:
        if name != "tags":
            _filter.compile_where(f"{name} != null")  # every queryable field compiles


def test_nothing_outside_the_store_decides_archived_from_a_folder_name() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if "store" in path.relative_to(SRC).parts[:1]:
            continue
        text = path.read_text()
        if '".archive"' in text or "'.archive'" in text or "ARCHIVE_DIR" in text or "_runlab_archive" in text:
            offenders.append(str(path))
    assert offenders == []


# -- rebuild: streamed, chunked, same result --------------------------------------------------
def _dump(root: Path) -> dict[str, list[tuple[object, ...]]]:
    forget_stores()
    index = runlab.Store(root).index
    return {t: sorted(index.execute(f"SELECT * FROM {t}"), key=repr) for t in ("runs", "params", "tags", "metrics")}


def test_rebuild_in_chunks_gives_the_same_index(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(25):
        with runlab.start_run(params={"i": i, "nested": {"x": i}}, tags=[f"t{i % 3}"], root=root,
                              capture=False) as run:  # fmt: skip
            run.log_metric("m", i)
    (root / "default" / "2026-01-01_00-00-00_0badc0de").mkdir()
    (root / "default" / "2026-01-01_00-00-00_0badc0de" / "run.json").write_text("[]")
    report = runlab.Store(root).rebuild_index()
    assert report.indexed == 26 and len(report.damaged) == 1
    whole = _dump(root)
    chunks: list[int] = []
    real = runlab.store._index.Index.write_chunk

    def counting(self: runlab.store._index.Index, entries: list[object], refresh: object) -> object:
        chunks.append(len(entries))
        return real(self, entries, refresh)  # type: ignore[arg-type]

    monkeypatch.setattr(_rebuild, "CHUNK", 4)
    monkeypatch.setattr(runlab.store._index.Index, "write_chunk", counting)
    (root / ".runlab" / "index.sqlite").unlink()
    forget_stores()
    again = runlab.Store(root).rebuild_index()
    assert again.indexed == 26 and max(chunks) <= 4 and len(chunks) >= 7
    assert _dump(root) == whole


def test_writers_proceed_and_nothing_is_lost_while_a_rebuild_runs(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(60):
        with runlab.start_run(params={"i": i}, root=root, capture=False, capture_output=False):
            pass
    monkeypatch.setattr(_rebuild, "CHUNK", 5)
    slow = _rebuild.read_entry

    def read_slowly(*args: object, **kwargs: object) -> object:
        time.sleep(0.01)
        return slow(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_rebuild, "read_entry", read_slowly)
    code = textwrap.dedent(f"""
        import runlab
        for i in range(15):
            with runlab.start_run(namespace="writer", params={{"i": i}}, root={str(root)!r}, capture=False,
                                  capture_output=False) as run:
                run.log_metric("m", i)
    """)
    writer = subprocess.Popen([sys.executable, "-c", code])
    reports = []
    thread = threading.Thread(target=lambda: reports.append(runlab.Store(root).rebuild_index()))
    thread.start()
    assert writer.wait(timeout=300) == 0
    thread.join(timeout=300)
    forget_stores()
    assert runlab.Store(root).count() == 75 and runlab.Store(root).count(namespace="writer") == 15
    assert runlab.Store(root).check_index().ok


# -- debug folders ----------------------------------------------------------------------------
EXPERIMENT = """
import os
import time
from runlab import Experiment

STEPS: int = 30
GATE: str = ""  # a file to wait for before ending (keeps the run live on a loaded machine)

experiment = Experiment(glob=globals())


@experiment
def main(e):
    for i in range(e.STEPS):
        e.track("x", i)
        time.sleep(0.05)
    while e.GATE and not os.path.exists(e.GATE):
        time.sleep(0.02)


experiment.run_if_main()
"""


def test_two_debug_runs_at_once_never_share_a_folder(tmp_path: Path, root: Path) -> None:
    script = tmp_path / "exp.py"
    script.write_text(EXPERIMENT)
    env_root = ["--__DEBUG__=True"]
    import os

    env = {**os.environ, "RUNLAB_ROOT": str(root)}
    gate = tmp_path / "gate"
    first = subprocess.Popen([sys.executable, str(script), *env_root, f"--GATE={gate}"], env=env,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (root / "exp" / "debug" / "metrics.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the first run is live and logging
    second = subprocess.run([sys.executable, str(script), *env_root], env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    gate.touch()
    _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (first_err, second.stderr)
    assert "still running" in second.stderr and "debug-" in second.stderr
    forget_stores()
    runs = list(runlab.runs(root=root))
    assert len(runs) == 2 and all(r.status == "completed" for r in runs)
    folders = {r.path.name for r in runs}
    assert "debug" in folders and any(f.startswith("debug-") for f in folders)
    for rec in runs:  # each folder holds its own run's record and metrics
        assert json.loads((rec.path / "run.json").read_text())["id"] == rec.id
        assert rec.metrics("x").values == list(range(30))
    # once nobody holds it, the next debug run replaces the debug folder as before
    third = subprocess.run([sys.executable, str(script), "--__DEBUG__=True", "--STEPS=1"], env=env,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert third.returncode == 0 and "still running" not in third.stderr
    forget_stores()
    assert len(runlab.runs(root=root)) == 2
    gc = _manage.gc_candidates(runlab.Store(root), older_than=0, now=time.time() + 10)
    assert sorted(r.path.name[:6] for r, why in gc if why == "debug") == ["debug", "debug-"]


def test_records_are_built_without_parsing_and_parse_on_access(root: Path) -> None:
    with runlab.start_run(params={"lr": 0.1}, tags=["a"], root=root, capture=False) as run:
        run.log_metric("loss", 0.5)
    row = list(runlab.Store(root).index.execute("SELECT * FROM runs")[0])
    from runlab.store._index import RUN_COLUMNS

    broken = list(row)
    broken[RUN_COLUMNS.index("params")] = "{not json"
    rec = runlab.RunRecord(tuple(broken), root)  # nothing is parsed yet
    assert rec.id == run.id and rec.status == "completed" and rec.path == run.path
    with pytest.raises(ValueError):
        _ = rec.params
    good = runlab.RunRecord(tuple(row), root)
    assert good.params == {"lr": 0.1} and good.tags == ("a",) and good.summaries["loss"].last == 0.5
    assert good == runlab.load(run.id, root=root) and hash(good) == hash(runlab.load(run.id, root=root))
    with pytest.raises(AttributeError, match="read-only"):
        good.name = "x"  # type: ignore[misc]
