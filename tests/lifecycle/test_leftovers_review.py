"""Leftovers of the review of the run core and the store: each case here failed before its fix
(except the last test, which pins why a ``created`` run of a process that is gone is not ``crashed``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.lifecycle._run import Run
from runlab.store import RunlabWarning
from runlab.store._folder_locks import FolderLocks
from runlab.store._manage import delete, gc_candidates

from ..conftest import forget_stores, run_python


class BadRepr:
    """A value whose ``repr()`` raises (a half-built object, a proxy whose target is gone)."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _artifacts(run: runlab.Run) -> list[str]:
    folder = run.path / "artifacts"
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


# -- 1. save_text of text that is not valid Unicode -----------------------------------------------------
# (case, text, words in the message); each left an empty artifact file and raised UnicodeEncodeError
# (or, not text, a plain TypeError)
TEXTS: list[tuple[str, Any, list[str]]] = [
    ("lone low surrogate", "a\udc80", ["'notes.txt'", "lone surrogates", "character 1", "save_bytes"]),
    ("lone high surrogate", "\ud800 at the start", ["'notes.txt'", "lone surrogates", "character 0"]),
    ("long text", "x" * 100_000 + "\udcff", ["'notes.txt'", "100001 characters", "character 100000"]),
    ("bytes", b"abc" * 100_000, ["Invalid text for artifact 'notes.txt'", "not bytes", "save_bytes"]),
    ("not text", BadRepr(), ["expected a str, not BadRepr"]),
]


@pytest.mark.parametrize(("case", "text", "words"), TEXTS, ids=[c[0] for c in TEXTS])
def test_save_text_refuses_text_a_file_cannot_hold_and_writes_nothing(
    root: Path, case: str, text: Any, words: list[str]
) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.save_text("kept.txt", "kept")
        with pytest.raises(runlab.UsageError) as caught:
            run.save_text("notes.txt", text)
        message = str(caught.value)
        assert "\n" not in message and len(message) < 400, message
        for word in words:
            assert word in message, message
        assert _artifacts(run) == ["kept.txt"]  # no empty notes.txt left behind
        run.data["after"] = 1  # the run goes on
    assert runlab.load(run.id, root=root).status == "completed"


# -- 2. artifact names that are not text -----------------------------------------------------------------
def _log_artifact(run: runlab.Run, name: Any, tmp: Path) -> Any:
    source = tmp / "source.txt"
    source.write_text("x", encoding="utf-8")
    return run.log_artifact(source, name)


def _log_figure(run: runlab.Run, name: Any, tmp: Path) -> Any:
    figure = pytest.importorskip("matplotlib.figure").Figure()
    return run.log_figure(figure, name)


NAME_CALLS: dict[str, Callable[[runlab.Run, Any, Path], Any]] = {
    "save_text": lambda run, name, tmp: run.save_text(name, "x"),
    "save_bytes": lambda run, name, tmp: run.save_bytes(name, b"x"),
    "save_json": lambda run, name, tmp: run.save_json(name, {}),
    "artifact_path": lambda run, name, tmp: run.artifact_path(name),
    "log_artifact": _log_artifact,
    "log_figure": _log_figure,
}
# (case, name, the name as the message gives it); each raised a plain TypeError
NOT_TEXT: list[tuple[str, Any, str]] = [
    ("int", 3, "Invalid artifact name 3:"),
    ("None", None, "Invalid artifact name None:"),
    ("float", 2.5, "Invalid artifact name 2.5:"),
    ("object whose repr raises", BadRepr(), "Invalid artifact name <BadRepr object: its repr() raised RuntimeError>"),
]
NAME_CASES = [
    (call, *case)
    for call in NAME_CALLS
    for case in NOT_TEXT
    if not (call == "log_artifact" and case[1] is None)  # log_artifact(path, None) means: its own name
]


@pytest.mark.parametrize(("call", "case", "name", "shown"), NAME_CASES, ids=[f"{c[0]}-{c[1]}" for c in NAME_CASES])
def test_artifact_names_that_are_not_text_are_refused_with_a_usage_error(
    root: Path, tmp_path: Path, call: str, case: str, name: Any, shown: str
) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.save_text("kept.txt", "kept")
        with pytest.raises(runlab.ArtifactPathError) as caught:
            NAME_CALLS[call](run, name, tmp_path)
        assert isinstance(caught.value, runlab.UsageError)
        assert shown in str(caught.value) and "an artifact name is a relative path" in str(caught.value)
        assert _artifacts(run) == ["kept.txt"]
    assert runlab.load(run.id, root=root).status == "completed"


# -- 3. tags whose repr() raises, tags that are not a list --------------------------------------------
def _set_tags(root: Path, run: runlab.Run, tags: Any) -> Any:
    from runlab.store._manage import set_tags

    return set_tags(runlab.Store(root), run.id, add=[tags])


TAG_CALLS: dict[str, Callable[[Path, runlab.Run, Any], Any]] = {
    "add_tags": lambda root, run, tags: run.add_tags(tags),
    "start_run": lambda root, run, tags: runlab.start_run(root=root, capture=False, tags=tags),
    "set_tags": _set_tags,
}
# (case, how the tags are given, the tags, the value as the message names it); each raised the
# RuntimeError of repr() (or "object is not iterable") instead of the tag error
TAG_CASES: list[tuple[str, str, Any, str]] = [
    ("add_tags, repr raises", "add_tags", BadRepr(), "<BadRepr object: its repr() raised RuntimeError>"),
    ("start_run list, repr raises", "start_run", ["ok", BadRepr()], "<BadRepr object: its repr() raised"),
    ("start_run one object, repr raises", "start_run", BadRepr(), "<BadRepr object: its repr() raised"),
    ("start_run a number", "start_run", 3, "Invalid tag 3:"),
    ("set_tags, repr raises", "set_tags", BadRepr(), "<BadRepr object: its repr() raised"),
]


@pytest.mark.parametrize(("case", "via", "tags", "shown"), TAG_CASES, ids=[c[0] for c in TAG_CASES])
def test_a_value_that_is_no_tag_gives_the_tag_error(root: Path, case: str, via: str, tags: Any, shown: str) -> None:
    with runlab.start_run(root=root, capture=False, tags=["first"]) as run:
        if via != "set_tags":
            with pytest.raises(runlab.UsageError, match="Invalid tag") as caught:
                TAG_CALLS[via](root, run, tags)
    if via == "set_tags":  # a finished run's tags
        with pytest.raises(runlab.UsageError, match="Invalid tag") as caught:
            TAG_CALLS[via](root, run, tags)
    assert shown in str(caught.value) and "a tag is a non-empty line of text" in str(caught.value)
    forget_stores()
    assert [(r.id, r.tags) for r in runlab.runs(root=root)] == [(run.id, ("first",))]


# -- 4. a folder holding links to nothing ----------------------------------------------------------------
def _tree(base: Path, links: dict[str, str]) -> None:
    (base / "sub").mkdir(parents=True)
    (base / "a.txt").write_text("a", encoding="utf-8")
    (base / "sub" / "b.txt").write_text("b", encoding="utf-8")
    for link, to in links.items():
        os.symlink(to, base / link)


# (case, links to make: name -> target, the links the warning names); each raised a shutil.Error
# listing every failure after copying the rest
DANGLING: list[tuple[str, dict[str, str], list[str]]] = [
    ("a link to a missing file", {"gone.txt": "missing.txt"}, ["gone.txt"]),
    ("one in a subfolder", {"sub/gone": "/nonexistent/runlab-test"}, ["sub/gone"]),
    ("a link to itself", {"self": "self"}, ["self"]),
    ("dangling and looping links", {"gone.txt": "missing.txt", "sub/up": ".."}, ["gone.txt", "sub/up"]),
]


@pytest.mark.parametrize(("case", "links", "named"), DANGLING, ids=[c[0] for c in DANGLING])
def test_links_to_nothing_in_a_folder_are_skipped_with_one_warning(
    tmp_path: Path, case: str, links: dict[str, str], named: list[str]
) -> None:
    source = tmp_path / "source"
    _tree(source, links)
    with runlab.start_run(root=tmp_path / "store", capture=False) as run:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run.log_artifact(source, "copy")
        ours = [w for w in caught if issubclass(w.category, RunlabWarning)]
        assert len(ours) == 1, [str(w.message) for w in caught]
        for link in named:
            assert str(source / link) in str(ours[0].message)
        run.data["after"] = 1
    copied = run.path / "artifacts" / "copy"
    assert {p.relative_to(copied).as_posix() for p in copied.rglob("*")} == {"a.txt", "sub", "sub/b.txt"}
    assert runlab.load(run.id, root=tmp_path / "store").status == "completed"


# -- 5. lock files of resumed and debug runs --------------------------------------------------------------
def _locks(root: Path) -> list[str]:
    folder = root / ".runlab" / "locks"
    return sorted(p.name for p in folder.iterdir() if p.name != "changes.lock") if folder.exists() else []


def _resumed(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.cancel("stopped")
    with runlab.start_run(root=root, capture=False, resume=run.id):
        assert len(_locks(root)) == 1  # held while it runs


def _debug(root: Path) -> None:
    store = runlab.Store(root)
    for _ in range(2):  # the second replaces the first's folder
        run = Run.create(store=store, folder_name="debug", capture=False)
        assert _locks(root) == ["default%debug.lock"]
        with run:
            pass


@pytest.mark.parametrize("make", [_resumed, _debug], ids=["resumed run", "debug runs"])
def test_a_run_that_ends_leaves_no_lock_file(root: Path, make: Callable[[Path], None]) -> None:
    make(root)
    assert _locks(root) == []


_HOLD = """
import sys, time, runlab
run = runlab.start_run(root=sys.argv[1], capture=False, resume=sys.argv[2])
print("held", flush=True)
time.sleep(60)
"""


def test_deleting_a_run_removes_the_lock_its_killed_process_left_but_never_a_held_one(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.cancel("stopped")
    forget_stores()
    child = subprocess.Popen([sys.executable, "-c", _HOLD, str(root), run.id], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        lock = root / ".runlab" / "locks" / (run.path.relative_to(root).as_posix().replace("/", "%") + ".lock")
        assert lock.exists()
        FolderLocks(root).drop(run.path)  # held by the live child: it stays, and stays its
        assert lock.exists() and not FolderLocks(root).hold(run.path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert lock.exists()  # the system dropped the flock; the file stays behind
    forget_stores()
    store = runlab.Store(root)
    assert store.load(run.id).status == "crashed"
    delete(store, run.id)
    assert _locks(root) == [] and not run.path.exists()


_RACE = """
import os, sys, time
from pathlib import Path
from runlab.store._folder_locks import FolderLocks
root = Path(sys.argv[1])
folder, owner = root / "ns" / "debug", root / "owner"
locks = FolderLocks(root)
deadline, turns = time.monotonic() + 1.5, 0
while time.monotonic() < deadline:
    if not locks.hold(folder):
        continue
    fd = os.open(owner, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # fails if another holds the folder too
    os.close(fd)
    os.unlink(owner)
    locks.release(folder)
    turns += 1
print(turns)
"""


def test_removing_lock_files_never_lets_two_processes_hold_one_folder(root: Path) -> None:
    """Lock files are removed when let go; a process that opened one just before must not hold the
    removed file while another holds the new one (each holder makes an exclusive marker file)."""
    root.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    assert sum(int(out) for out, _ in results) > 20
    assert _locks(root) == []


# -- 6. a run created by a process that is gone stays "created" (not a defect: by design) ---------------
_CREATE = """
import sys, runlab
print(runlab.ExperimentManager(sys.argv[1]).create_experiment(name="later", capture=False))
"""


def test_a_created_run_of_a_process_that_is_gone_stays_startable(root: Path) -> None:
    """A run is created by one process and started by another (ExperimentManager, as Yanex's): it
    must not be reported as crashed, nor removed by gc, once its creator exits."""
    run_id = run_python(_CREATE, str(root)).stdout.strip()
    time.sleep(0.05)
    store = runlab.Store(root)
    assert store.load(run_id).status == "created"
    assert gc_candidates(store, 0, now=time.time() + 3600) == []
    manager = runlab.ExperimentManager(root)
    manager.start_experiment(run_id)
    manager.complete_experiment(run_id)
    assert store.load(run_id).status == "completed"
