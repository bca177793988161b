"""Files every run of a process captures alike are one copy (hard links), never written through."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import runlab
from runlab.store._files import write_or_link


def _writer(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text)


def _same_file(a: Path, b: Path) -> bool:
    return os.stat(a).st_ino == os.stat(b).st_ino


def test_the_same_key_links_the_earlier_file(tmp_path: Path) -> None:
    key = ("t", object())
    write_or_link(tmp_path / "a", key, _writer("one"))
    write_or_link(tmp_path / "b", key, _writer("ignored: linked"))
    assert _same_file(tmp_path / "a", tmp_path / "b") and (tmp_path / "b").read_text() == "one"
    assert (tmp_path / "a").stat().st_nlink == 2
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o444  # an editor cannot change every run's copy in place


def _append(p: Path) -> None:
    p.chmod(0o644)  # shared copies are read-only
    with p.open("a") as f:
        f.write("!")


def _replace(p: Path) -> None:
    p.unlink()
    p.write_text("new")


def _touch_later(p: Path) -> None:
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_append, id="changed-in-place"),
        pytest.param(_replace, id="replaced"),
        pytest.param(lambda p: p.unlink(), id="deleted"),
        pytest.param(_touch_later, id="touched"),
    ],
)
def test_an_earlier_file_changed_since_is_not_linked(tmp_path: Path, change: Callable[[Path], None]) -> None:
    key = ("t", object())
    write_or_link(tmp_path / "a", key, _writer("one"))
    change(tmp_path / "a")
    write_or_link(tmp_path / "b", key, _writer("one"))
    assert (tmp_path / "b").read_text() == "one" and (tmp_path / "b").stat().st_nlink == 1


def test_an_existing_target_is_replaced_not_written_through(tmp_path: Path) -> None:
    """A resumed run captures again into its folder: the file it shares with another run stays as it was."""
    first = ("t", object())
    write_or_link(tmp_path / "a", first, _writer("one"))
    write_or_link(tmp_path / "b", first, _writer("one"))  # b is a link of a
    write_or_link(tmp_path / "b", ("t", object()), _writer("two"))
    assert (tmp_path / "a").read_text() == "one" and (tmp_path / "b").read_text() == "two"


def test_another_file_system_gets_a_copy(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system (/dev/shm)")
    key = ("t", object())
    write_or_link(tmp_path / "a", key, _writer("one"))
    other = shm / f"runlab-test-{os.getpid()}"
    try:
        write_or_link(other, key, _writer("one"))  # os.link fails with EXDEV: written instead
        assert other.read_text() == "one" and other.stat().st_nlink == 1
    finally:
        other.unlink(missing_ok=True)


def test_runs_of_one_process_share_their_captured_files(tmp_path: Path, root: Path) -> None:
    source = tmp_path / "exp.py"
    source.write_text("X = 1\n")
    runs = []
    for _ in range(3):
        with runlab.start_run(root=root, source=source) as run:
            run.log_metric("m", 1.0)
        runs.append(run.path)
    first, *others = runs
    for name in ("code/exp.py", "env/requirements.txt", "env/dependencies.json"):
        assert all(_same_file(first / name, other / name) for other in others), name
    assert (first / "code/exp.py").read_text() == "X = 1\n"
    assert json.loads((first / "env/dependencies.json").read_text())
    source.write_text("X = 2\n")  # an edited source is a new copy; the earlier runs keep theirs
    with runlab.start_run(root=root, source=source) as run:
        pass
    assert (run.path / "code/exp.py").read_text() == "X = 2\n" and (first / "code/exp.py").read_text() == "X = 1\n"


def test_a_reproducible_run_replaces_the_shared_dependency_record(tmp_path: Path, root: Path) -> None:
    source = tmp_path / "exp.py"
    source.write_text("X = 1\n")
    with runlab.start_run(root=root, source=source) as light:
        pass
    before = (light.path / "env/dependencies.json").read_bytes()
    with runlab.start_run(root=root, source=source, reproducible=True) as full:
        pass
    assert (light.path / "env/dependencies.json").read_bytes() == before
    assert "distributions" in json.loads((full.path / "env/dependencies.json").read_text())
