"""A workflow driver killed with SIGKILL: its record reads crashed (as a run's does), and running the
workflow again starts a new one that runs every step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runlab.store import Store
from runlab.workflow import load_workflow

HOLD = (  # the slow step: runs while the file HOLD exists
    "import os, time\nHOLD = {hold!r}\n"
    "def main():\n    while os.path.exists(HOLD):\n        time.sleep(0.05)\n    return 1\n"
)
FILE = (
    "steps:\n  quick: {script: quick.py}\n  slow: {script: slow.py, after: [quick]}\n"
    "  last: {script: quick.py, after: [slow]}\n"
)
DRIVER = (
    "import sys\nfrom runlab import Parallel\n"
    "if __name__ == '__main__':\n    Parallel(['slow.py', 'quick.py'], mode='subprocess', root=sys.argv[1]).run()\n"
)

#: (how the driver is started, the steps' states once it is killed, the slow run's possible states)
CASES = {
    "workflow run FILE (local, forked runs)": (
        ["-m", "runlab", "--root", "{root}", "workflow", "run", "wf.yml"],
        {"quick": "completed", "slow": "crashed", "last": "pending"},
        {"cancelled", "crashed"},
    ),
    "workflow sequential (runs in the driver)": (
        ["-m", "runlab", "--root", "{root}", "workflow", "sequential", "quick.py", "slow.py", "quick.py"],
        {"quick": "completed", "slow": "crashed", "quick-2": "pending"},
        {"crashed"},
    ),
    "Parallel(mode='subprocess').run() in a script": (
        ["driver.py", "{root}"],
        {"slow": "crashed", "quick": "completed"},
        {"crashed", "cancelled"},
    ),
}


def wait_for(check: Any, what: str, proc: subprocess.Popen[str] | None = None, limit: float = 60) -> Any:
    deadline = time.monotonic() + limit
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        assert proc is None or proc.poll() is None, f"the driver ended before {what}: {proc.communicate()}"
        time.sleep(0.05)
    return found


def status_of(path: Path) -> str | None:
    try:
        return str(json.loads(path.read_text())["status"])
    except (OSError, ValueError, KeyError):
        return None


@pytest.mark.parametrize("case", list(CASES))
def test_a_killed_driver_leaves_a_crashed_record_and_a_rerun_runs_every_step(case: str, tmp_path: Path) -> None:
    command, steps, slow_states = CASES[case]
    root, hold = tmp_path / "store", tmp_path / "hold"
    hold.touch()
    (tmp_path / "slow.py").write_text(HOLD.format(hold=str(hold)))
    (tmp_path / "quick.py").write_text("def main():\n    return 2\n")
    (tmp_path / "wf.yml").write_text(FILE)
    (tmp_path / "driver.py").write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "RUNLAB_HEARTBEAT_INTERVAL": "0.2"}
    argv = [sys.executable, *(a.format(root=root) for a in command)]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    try:
        slow_json = wait_for(lambda: [p for p in root.glob("slow/*/run.json") if status_of(p) == "running"],
                             "the slow step runs", proc)[0]  # fmt: skip
        [path] = (root / ".runlab" / "workflows").glob("*.json")
        first = json.loads(path.read_text())["heartbeat"]["time"]
        wait_for(lambda: json.loads(path.read_text())["heartbeat"]["time"] > first, "the driver beats again", proc)
        live = {name: "running" if state == "crashed" else state for name, state in steps.items()}
        wait_for(lambda: {n: s.state for n, s in load_workflow(root, path.stem).steps.items()} == live,
                 "the other steps are where the kill should find them", proc)  # fmt: skip
        assert load_workflow(root, path.stem).state == "running"  # a live driver's record is not crashed
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    record = load_workflow(root, path.stem)
    assert (record.state, {name: s.state for name, s in record.steps.items()}) == ("crashed", steps)
    run_id = json.loads(slow_json.read_text())["id"]
    status = wait_for(lambda: (s := Store(root).load(run_id).status) != "running" and s, "the slow run ends")
    assert status in slow_states

    hold.unlink()  # the same workflow again: a new record, every step run again (nothing is resumed)
    again = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    records = {p.stem: load_workflow(root, p.stem) for p in (root / ".runlab" / "workflows").glob("*.json")}
    assert records.pop(path.stem).state == "crashed"
    [rerun] = records.values()
    assert rerun.state == "completed" and all(s.state == "completed" and s.runs for s in rerun.steps.values())
    runs = Store(root).runs()
    assert len(runs) == 2 * len(steps) - sum(state == "pending" for state in steps.values())
    assert "running" not in {r.status for r in runs}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


HOST = os.uname().nodename
#: (the record's state and heartbeat as written, the state it reads, the running step's state it reads)
RECORDS = {
    "live driver": ("running", lambda: {"pid": os.getpid(), "host": HOST, "time": time.time()}, "running", "running"),
    "dead driver": ("running", lambda: {"pid": dead_pid(), "host": HOST, "time": time.time()}, "crashed", "crashed"),
    "other host, fresh beat": ("running", lambda: {"pid": 1, "host": "elsewhere", "time": time.time()}, "running",
                               "running"),
    "other host, stale beat": ("running", lambda: {"pid": 1, "host": "elsewhere", "time": time.time() - 3600},
                               "crashed", "crashed"),
    "written before heartbeats": ("running", lambda: None, "crashed", "crashed"),
    "malformed heartbeat": ("running", lambda: {"pid": "1", "host": HOST, "time": "now"}, "crashed", "crashed"),
    "no such pid": ("running", lambda: {"pid": 2**40, "host": HOST, "time": time.time()}, "crashed", "crashed"),
    "ended, driver gone": ("failed", lambda: {"pid": dead_pid(), "host": HOST, "time": 0}, "failed", "running"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(RECORDS))
def test_a_running_record_reads_crashed_by_the_rule_runs_use(case: str, root: Path) -> None:
    state, beat, reads, step_reads = RECORDS[case]
    folder = root / ".runlab" / "workflows"
    folder.mkdir(parents=True)
    steps = {"a": {"after": [], "runs": ["r1"], "state": "completed"}, "b": {"after": ["a"], "state": "running"},
             "c": {"after": ["b"], "state": "pending"}}  # fmt: skip
    record = {"kind": "pipeline", "steps": steps, "id": "w1", "state": state, "created": time.time()}
    if (heartbeat := beat()) is not None:
        record["heartbeat"] = heartbeat
    (folder / "w1.json").write_text(json.dumps(record))
    loaded = load_workflow(root, "w1")
    assert (loaded.state, [s.state for s in loaded.steps.values()]) == (reads, ["completed", step_reads, "pending"])
    assert json.loads((folder / "w1.json").read_text()) == record  # reading changes nothing on disk
