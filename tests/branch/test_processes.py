"""Branching across process events: a forked child (multiprocessing, pre-forking servers) and Ctrl-C.

Real subprocesses and a real store: a child forked after the parent used a branched function
must run and record its own branches in a session run of its own; an interrupted sync call
records the branches it was waiting for as cancelled instead of dropping them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import runlab.branch as rb

from ..conftest import run_python

FORK_SCRIPT = """
import json, os, signal, sys, time
import runlab.branch as rb

root, strategy, exit_how = sys.argv[1:4]
logger = rb.StoreLogger(root=root, flush_interval=0.05)

@rb.branch(configs=[{"n": 1}, {"n": 2}], strategy=strategy, logger=logger)
def f(who, config):
    return f"{who}:{config['n']}"

f("parent")                      # the parent's threads, writer and session run exist before the fork
f.branching.join(10)
logger.flush()
pid = os.fork()
if pid == 0:
    signal.alarm(30)             # a child that hangs must not outlive the test
    for _ in range(3):
        f("child")
    f.branching.join(5)
    if exit_how == "os._exit":   # how multiprocessing's workers end: no exit hooks
        time.sleep(0.5)          # the child's own writer thread flushes every 0.05 s
        os._exit(0)
    sys.exit(0)
deadline = time.monotonic() + 40
while time.monotonic() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.05)
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    status = "hung"
f("parent")
rb.shutdown()
print(json.dumps({"child": status, "session": f.branching.session.id, "sessions": [
    {"session": s.params["session"], "outputs": sorted(r["output"] for r in rb.read_branches(s))}
    for s in rb.sessions(root=root)]}))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork")
@pytest.mark.parametrize(
    ("strategy", "exit_how", "child_rows"),
    [
        ("multi_branch", "sys.exit", 6),  # the awaited branches' threads: a call in the child waited forever
        ("shadow", "sys.exit", 6),        # background jobs were queued for threads the child does not have
        ("round_robin", "os._exit", 3),   # no writer thread in the child: its branches were never written
    ],
)  # fmt: skip
def test_a_forked_child_records_its_own_branches_in_its_own_session(tmp_path: Path, strategy: str, exit_how: str,
                                                                    child_rows: int) -> None:  # fmt: skip
    out = run_python(FORK_SCRIPT, str(tmp_path / "store"), strategy, exit_how, env={"RUNLAB_BRANCH_EXIT_TIMEOUT": "2"},
                     timeout=120)  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["child"] == 0, out.stderr
    by_session = {s["session"]: s["outputs"] for s in result["sessions"]}
    assert len(by_session) == 2, result  # the child's session run is its own, with its own session id
    parent = by_session.pop(result["session"])
    (child,) = by_session.values()
    parent_rows = 4 if strategy != "round_robin" else 2
    assert len(parent) == parent_rows and all(o.startswith("parent:") for o in parent), parent
    assert len(child) == child_rows and all(o.startswith("child:") for o in child), child
    assert "ForeignRunError" not in out.stderr and "could not" not in out.stderr, out.stderr


INTERRUPT_SCRIPT = """
import os, signal, sys, threading, time
import runlab.branch as rb

signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job's children start with SIGINT ignored

@rb.branch(configs=[{"d": float(sys.argv[2])}, {"d": 5.0}], strategy="multi_branch",
           logger=rb.StoreLogger(root=sys.argv[1]))
def f(config):
    time.sleep(config["d"])
    return config["d"]

threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    f()
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to oneself")
@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("0.1", {0.1: ("success", None), 5.0: ("cancelled", "the call was interrupted (KeyboardInterrupt)")}),
        ("3.0", {3.0: ("cancelled", "KeyboardInterrupt: "), 5.0: ("cancelled", "the call was interrupted")}),
    ],
    ids=["while-waiting-for-the-others", "inside-the-callers-branch"],
)
def test_ctrl_c_records_the_branches_the_call_waited_for_as_cancelled(
    tmp_path: Path, first: str, expected: dict[float, tuple[str, str | None]]
) -> None:
    root = tmp_path / "store"
    out = run_python(INTERRUPT_SCRIPT, str(root), first, timeout=120)
    assert out.stdout.strip() == "interrupted", out.stderr
    (session,) = rb.sessions(root=root)
    rows = {r["config"]["d"]: r for r in rb.read_branches(session)}  # before: the 5 s branch was never recorded
    assert set(rows) == set(expected)
    for d, (status, message) in expected.items():
        assert rows[d]["status"] == status
        if message is not None:
            assert rows[d]["exception"]["message"].startswith(message)
