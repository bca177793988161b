"""User commands that change runs: tags, notes, archive, delete, gc, and the extra query filters."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import runlab
from runlab.errors import RunNotFoundError, UsageError
from runlab.store import _manage
from runlab.store._files import read_json, write_json_atomic


def _run(root: Path, name: str, **kw: object) -> str:
    with runlab.start_run(name=name, root=root, capture=False, **kw) as run:  # type: ignore[arg-type]
        run.log_metric("m", 1.0)
    return run.id


def test_tags_and_note_rewrite_run_json_and_index(store: runlab.Store, root: Path) -> None:
    rid = _run(root, "a", tags=["x"])
    rec = _manage.set_tags(store, "a", add=["best", "best", "x"])
    assert rec.tags == ("x", "best") and read_json(rec.path / "run.json")["tags"] == ["x", "best"]
    assert [r.id for r in store.runs(where="'best' in tags")] == [rid]
    assert rec.summaries["m"].last == 1.0  # metric rows kept
    assert _manage.set_tags(store, rid, remove=["x"]).tags == ("best",)
    assert _manage.set_description(store, rid, "note").description == "note"
    assert store.rebuild_index().indexed == 1 and store.load(rid).tags == ("best",)
    with pytest.raises(UsageError, match="Invalid tag"):
        _manage.set_tags(store, rid, add=["a,b"])


BAD_TAGS = ["", "  ", "a,b", "line\nbreak", "tab\there", "bad \udcff", 5]


@pytest.mark.parametrize("tag", BAD_TAGS)
@pytest.mark.parametrize("via", ["start_run", "add_tags", "set_tags"])
def test_one_tag_rule_wherever_tags_enter(store: runlab.Store, root: Path, via: str, tag: object) -> None:
    """start_run took 'two words' but `runlab tag`/`untag` refused it (a tag the CLI could not remove);
    a tag with lone surrogates was accepted, then failed writing run.json with a raw TypeError."""
    with runlab.start_run(root=root, capture=False, tags=["two words"]) as run:
        if via != "set_tags":
            with pytest.raises(UsageError, match="Invalid tag"):
                if via == "start_run":
                    runlab.start_run(root=root, capture=False, tags=[tag])  # type: ignore[list-item]
                else:
                    run.add_tags(tag)  # type: ignore[arg-type]
    if via == "set_tags":
        with pytest.raises(UsageError, match="Invalid tag"):
            _manage.set_tags(store, run.id, add=[tag])  # type: ignore[list-item]
    assert _manage.set_tags(store, run.id, remove=["two words"]).tags == ()  # a tag start_run took can be removed
    assert [r.id for r in store.runs()] == [run.id]  # no run was made by the refused calls


def test_dry_run_changes_nothing(store: runlab.Store, root: Path) -> None:
    rid = _run(root, "a")
    _manage.set_tags(store, rid, add=["t"], dry_run=True)
    _manage.delete(store, rid, dry_run=True)
    _manage.archive(store, rid, dry_run=True)
    assert store.load(rid).tags == () and store.load(rid).path.is_dir()


def test_archive_and_unarchive(store: runlab.Store, root: Path) -> None:
    rid = _run(root, "a")
    old = store.load(rid).path
    dest = _manage.archive(store, rid)
    assert dest == root / ".archive" / old.relative_to(root) and not old.exists() and dest.is_dir()
    assert len(store.runs()) == 0 and store.rebuild_index().indexed == 0  # hidden from the store
    owner, rec = _manage.find_record(store, rid[:5])
    assert owner.root == root / ".archive" and rec.summaries["m"].count == 1
    with pytest.raises(UsageError, match="already archived"):
        _manage.archive(store, rid)
    with pytest.raises(RunNotFoundError):
        _manage.find_record(store, rid, archived=False)
    _manage.unarchive(store, rid)
    assert store.load(rid).path == old and len(_manage.archive_store(store).runs()) == 0


def test_delete_removes_folder_and_index_row(store: runlab.Store, root: Path) -> None:
    rid = _run(root, "a", namespace="ns/deep")
    path = _manage.delete(store, rid)
    assert not path.exists() and not (root / "ns").exists() and store.count() == 0


def test_running_run_is_refused(store: runlab.Store, root: Path) -> None:
    with runlab.start_run(name="live", root=root, capture=False) as run:
        for action in (
            lambda: _manage.set_tags(store, run.id, add=["x"]),
            lambda: _manage.set_description(store, run.id, "x"),
            lambda: _manage.delete(store, run.id),
            lambda: _manage.archive(store, run.id),
        ):
            with pytest.raises(_manage.RunIsLiveError, match="still running"):
                action()


def _crash(store: runlab.Store, rid: str, age: float) -> None:
    """Make a run look crashed (running, dead pid) and created ``age`` seconds ago."""
    rec = store.load(rid)
    meta = read_json(rec.path / "run.json")
    when = time.time() - age
    from datetime import datetime

    meta.update(status="running", created=datetime.fromtimestamp(when).astimezone().isoformat(),
                heartbeat={"pid": 2**22 + 12345, "host": os.uname().nodename, "time": when})  # fmt: skip
    write_json_atomic(rec.path / "run.json", meta)
    store.rebuild_index()


def test_gc_candidates(store: runlab.Store, root: Path) -> None:
    old, young, ok = _run(root, "old"), _run(root, "young"), _run(root, "ok")
    _crash(store, old, 10 * 86400)
    _crash(store, young, 60)
    assert store.load(old).status == "crashed"
    found = _manage.gc_candidates(store, older_than=86400)
    assert [(r.id, why) for r, why in found] == [(old, "crashed")]
    assert {r.id for r, _ in _manage.gc_candidates(store, older_than=0)} == {old, young}
    assert ok not in {r.id for r, _ in _manage.gc_candidates(store, older_than=0)}
    _manage.delete(store, old)  # a crashed run may be removed
    assert store.count() == 2


def test_query_name_glob_and_time_window(store: runlab.Store, root: Path) -> None:
    for name in ("lr-1", "lr-2", "other"):
        _run(root, name)
    assert sorted(r.name for r in _manage.query(store, name="lr-*")) == ["lr-1", "lr-2"]
    assert _manage.query_count(store, name="other") == 1
    assert _manage.query_count(store, since=_manage.parse_since("1h")) == 3
    assert _manage.query_count(store, until=_manage.parse_since("1h")) == 0


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("2m", 120), ("1.5h", 5400), ("7d", 604800),
                                               ("1w", 604800), ("2", 172800)])  # fmt: skip
def test_parse_age(text: str, seconds: float) -> None:
    assert _manage.parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "-1d", "3y"])
def test_parse_age_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="Invalid age"):
        _manage.parse_age(text)
