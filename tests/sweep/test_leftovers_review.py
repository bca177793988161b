"""Review leftovers of the commands that start runs: a sweep refuses what a single run refuses, a dry run
of a resumed sweep says what it skips, Ctrl-C reports the cancelled run, ``runlab gc`` removes stale locks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli._main import _register, cli
from runlab.store import Store
from runlab.store._folder_locks import FolderLocks

_register()

TOOLS = "K = 0\n\n\ndef evaluate(checkpoint):\n    return checkpoint\n"
MISSING = "no value for its argument 'checkpoint'"


def _cli(root: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


# 1. A sweep of a plain script refuses an entry point's missing argument before anything exists, as a single run.


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["tools.py:evaluate"], 2, MISSING),  # the single run: the reference behaviour
        (["tools.py:evaluate", "--sweep", "K=1,2", "-x", "inline"], 2, MISSING),
        (["tools.py", "-e", "evaluate", "--sweep", "K=1,2", "-x", "inline"], 2, MISSING),
        (["tools.py:evaluate", "-p", "K=choice(1,2)", "-x", "inline"], 2, MISSING),
        (["tools.py:evaluate", "--sweep", "K=1,2", "--dry-run"], 2, MISSING),
        (["tools.py:evaluate", "--sweep", "K=1,2", "-p", "checkpoint=best.pt", "-x", "inline"], 0, None),
        (["tools.py:evaluate", "--sweep", "checkpoint=a.pt,b.pt", "-x", "inline"], 0, None),
    ],
)
def test_a_sweep_refuses_a_missing_entry_point_argument_before_any_run(
    args: list[str], code: int, message: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tools.py").write_text(TOOLS)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    exit_code, out, err = _cli(root, "run", *args)
    assert exit_code == code, (out, err)
    if message is None:
        assert "failed" not in out and len(Store(root).runs(status="completed")) == 2, (out, err)
        return
    assert message in err and err.count("\n") == 1 and err.startswith("Error: "), err
    assert not root.exists(), "a refused sweep created its store, a run or its record"


# 2. The dry run of a sweep that ran before says what its resume skips, as the real start does.

PARTLY = "X = 0\n\n\ndef main():\n    if X == 2:\n        raise ValueError('two')\n    return X\n"


@pytest.mark.parametrize(
    ("flags", "todo", "note", "skipped"),
    [
        ([], 0, " (2 skipped: 1 already completed, 1 failed before; --retry-failed runs them again)",
         {1: "completed", 2: "failed"}),
        (["--retry-failed"], 1, " (1 skipped: 1 already completed)", {1: "completed"}),
    ],
)  # fmt: skip
def test_a_dry_run_of_a_resumed_sweep_says_what_it_skips(
    flags: list[str], todo: int, note: str, skipped: dict[int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "partly.py").write_text(PARTLY)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    command = ["run", "partly.py", "--sweep", "X=1,2", "-x", "inline"]
    assert _cli(root, *command)[0] == 1  # X=2 failed: the sweep ran partly
    runs = {r.params["X"]: r.id for r in Store(root).runs()}
    before = sorted(p.name for p in root.rglob("*"))
    code, out, err = _cli(root, *command, *flags, "--dry-run")
    assert code == 0, err
    header, *lines = out.splitlines()
    sweep_id = re.match(r"sweep (\w+): ", header)
    assert sweep_id is not None and header == (f"sweep {sweep_id[1]}: {todo} run(s) of partly.py{note} (dry run: "
                                               "nothing is run)"), out  # fmt: skip
    assert len(lines) == 2, out
    for x, line in zip((1, 2), lines, strict=True):
        mark = f"  (skipped: {skipped[x]} in run {runs[x]})" if x in skipped else ""
        assert line.endswith(f"X={x}{mark}"), (line, mark)
    assert sorted(p.name for p in root.rglob("*")) == before  # a dry run changes nothing
    code, _, err = _cli(root, *command, *flags)  # the real start does what the dry run said
    assert f"sweep {sweep_id[1]}: {todo} run(s){note}\n" in err, err
    assert len(Store(root).runs()) == 2 + todo


# 3. Ctrl-C of a running sweep prints the cancelled run's line as the other runs' (a real process, a real SIGINT).

SLOW = """\
import time
X = 0


def main():
    if X == 1:
        time.sleep(60)
    return X
"""


@pytest.mark.parametrize("executor", [["-x", "inline"], ["-x", "local", "-j", "2"]], ids=["inline", "local"])
def test_ctrl_c_prints_the_line_of_the_run_it_cancelled(executor: list[str], tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "runlab", "--root", "runs", "run", "slow.py", "--sweep", "X=0,1", *executor]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))  # fmt: skip
    store = Store(tmp_path / "runs")
    try:
        deadline = time.monotonic() + 60
        while not ((store.root / ".runlab").is_dir() and {(r.params["X"], r.status) for r in store.runs()} >= {
            (0, "completed"), (1, "running")}):  # fmt: skip
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    runs = {r.params["X"]: r for r in store.runs()}
    assert runs[1].status == "cancelled", err
    assert out.splitlines() == [f"run {runs[0].id:<8} completed {runs[0].path}",
                                f"run {runs[1].id:<8} cancelled {runs[1].path}"], (out, err)  # fmt: skip


# 4. `runlab gc` removes the lock files that processes killed while holding one left, and no other.

KILLED_HOLDER = """\
import os, signal, sys
from pathlib import Path
from runlab.store._folder_locks import FolderLocks

root = Path(sys.argv[1])
locks = FolderLocks(root)
assert locks.hold(root / "default" / "debug") and locks.hold(root / ".runlab" / "sweeps" / "0123abcd")
os.kill(os.getpid(), signal.SIGKILL)
"""

LOCKS = {  # lock file -> whether gc removes it
    "default%debug.lock": True,  # a debug run's process was killed holding it
    ".runlab%sweeps%0123abcd.lock": True,  # a sweep's process was killed holding it
    "default%held.lock": False,  # held now
    "changes.lock": False,  # the lock of user changes: never removed
}


@pytest.mark.parametrize(
    ("flags", "answer", "removes", "summary"),
    [
        (["--dry-run"], None, False, None),
        (["--yes"], None, True, "Removed 2 stale lock files."),
        ([], "n\n", False, None),
        ([], "y\n", True, "Removed 2 stale lock files."),
    ],
)
def test_gc_removes_the_lock_files_no_process_holds(
    flags: list[str], answer: str | None, removes: bool, summary: str | None, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, "-c", KILLED_HOLDER, str(root)], env=env, capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (root / ".runlab" / "locks" / "changes.lock").touch()
    holder = FolderLocks(root)  # its own open file: flock makes it another holder for gc, as another process
    assert holder.hold(root / "default" / "held")
    folder = root / ".runlab" / "locks"
    try:
        assert sorted(p.name for p in folder.iterdir()) == sorted(LOCKS)
        code, out, err = _cli(root, "gc", *flags, input=answer)
        assert code == 0, err
        stale = [name for name, gone in LOCKS.items() if gone]
        assert sorted(re.findall(r"remove lock file \S+/([^/\s]+) ", out + err)) == sorted(stale), (out, err)
        left = {name for name, gone in LOCKS.items() if not (gone and removes)}
        assert {p.name for p in folder.iterdir()} == left, (out, err)
        if summary:
            assert out.strip().splitlines()[-1] == summary, out
        else:
            assert "Removed" not in out, out
        assert not FolderLocks(root).hold(root / "default" / "held")
    finally:
        holder.release(root / "default" / "held")
    assert not (folder / "default%held.lock").exists()  # its holder removes it when it lets go
