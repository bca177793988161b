"""A running run's life in one process: signals, forks, output capture, resuming and odd values.

Each case failed before its fix; the processes, files and signals are real.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.store import RunlabWarning

from ..conftest import forget_stores, run_python

# -- SIGTERM: the handler a run replaced comes back, however the runs end ------------------------

_MINE = """
import os, signal, sys, threading, runlab
root = sys.argv[1]
def mine(signum, frame):
    print("user handler", flush=True)
    os._exit(5)
"""

SIGTERM_CASES = [
    # (case, script after _MINE, exit code, words on stdout)
    (
        "finish() without with keeps the user's handler",
        """
signal.signal(signal.SIGTERM, mine)
run = runlab.start_run(root=root, capture=False)
run.finish()
os.kill(os.getpid(), signal.SIGTERM)
""",
        5,
        "user handler",
    ),
    (
        "ExperimentManager start/complete keeps the user's handler",
        """
signal.signal(signal.SIGTERM, mine)
manager = runlab.ExperimentManager(root)
run_id = manager.create_experiment(capture=False)
manager.start_experiment(run_id)
manager.complete_experiment(run_id)
os.kill(os.getpid(), signal.SIGTERM)
""",
        5,
        "user handler",
    ),
    (
        "a handler the user installs during the run stays",
        """
with runlab.start_run(root=root, capture=False):
    signal.signal(signal.SIGTERM, mine)
os.kill(os.getpid(), signal.SIGTERM)
""",
        5,
        "user handler",
    ),
    (
        "runs ending out of order leave the default",
        """
a = runlab.start_run(root=root, capture=False)
b = runlab.start_run(root=root, capture=False)
a.finish()
b.finish()
c = runlab.start_run(root=root, capture=False)
c.finish()
print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
os.kill(os.getpid(), signal.SIGTERM)
""",
        -signal.SIGTERM,
        "True",
    ),
    (
        "the last run finished in another thread: SIGTERM still ends the process",
        """
run = runlab.start_run(root=root, capture=False)
threading.Thread(target=run.finish).start()
import time; time.sleep(0.5)
os.kill(os.getpid(), signal.SIGTERM)
import time; time.sleep(5)
""",
        -signal.SIGTERM,
        "",
    ),
]


@pytest.mark.parametrize(("case", "script", "code", "words"), SIGTERM_CASES, ids=[c[0] for c in SIGTERM_CASES])
def test_the_sigterm_handler_a_run_replaced_comes_back(root: Path, case: str, script: str, code: int,
                                                       words: str) -> None:  # fmt: skip
    out = run_python(_MINE + textwrap.dedent(script), str(root), check=False, timeout=30)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert words in out.stdout and "RunTerminated" not in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert {r.status for r in runlab.runs(root=root)} == {"completed"}


def test_sigterm_in_nested_runs_cancels_both_and_ends_the_process(root: Path) -> None:
    code = f"""
import os, signal, runlab
with runlab.start_run(root={str(root)!r}, capture=False, name="outer"):
    with runlab.start_run(root={str(root)!r}, capture=False, name="inner"):
        os.kill(os.getpid(), signal.SIGTERM)
        import time; time.sleep(5)
"""
    out = run_python(code, check=False, timeout=30)
    assert out.returncode == -signal.SIGTERM, out.stderr
    assert sorted((r.name, r.status) for r in runlab.runs(root=root)) == [
        ("inner", "cancelled"),
        ("outer", "cancelled"),
    ]


# -- fork: the child never writes the parent's pending output again --------------------------

FORK_CASES = [
    (
        "os.fork, child exits normally",
        "pid = os.fork()\nif pid == 0:\n    print('child')\n    sys.exit(0)\nos.waitpid(pid, 0)",
    ),
    (
        "multiprocessing fork Process",
        "import multiprocessing as mp\np = mp.get_context('fork').Process(target=print, args=('child',))\n"
        "p.start(); p.join()",
    ),
]


@pytest.mark.parametrize(("case", "fork"), FORK_CASES, ids=[c[0] for c in FORK_CASES])
def test_a_forked_child_does_not_repeat_the_parents_pending_output(root: Path, case: str, fork: str) -> None:
    code = f"""
import os, sys, runlab
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    print("partial-", end="")
{textwrap.indent(fork, "    ")}
    print("end")
"""
    run_python(code, timeout=30)
    log = next(root.glob("default/*/out.log")).read_text()
    assert log.count("partial-") == 1 and "end" in log, log


# -- output capture ---------------------------------------------------------------------------

OUTPUT_CASES = [
    # (case, code in the run, bytes on the terminal, text in out.log)
    ("bytes to sys.stdout.buffer", "sys.stdout.buffer.write(b'raw bytes\\n')", b"raw bytes\n", "raw bytes\n"),
    (
        "bytes that are not UTF-8, split multi-byte characters",
        "sys.stdout.buffer.write(b'a\\xff\\xc3'); sys.stdout.buffer.write(b'\\xa9\\n')",
        b"a\xff\xc3\xa9\n",
        "a\ufffd\u00e9\n",
    ),
    ("writelines to the buffer", "sys.stdout.buffer.writelines([b'1', b'2\\n'])", b"12\n", "12\n"),
]


@pytest.mark.parametrize(("case", "body", "terminal", "logged"), OUTPUT_CASES, ids=[c[0] for c in OUTPUT_CASES])
def test_out_log_gets_what_the_terminal_gets(root: Path, case: str, body: str, terminal: bytes, logged: str) -> None:
    code = f"""
import sys, runlab
with runlab.start_run(root={str(root)!r}, capture=False) as run:
    {body}
    sys.stdout.flush()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=True)
    assert out.stdout == terminal
    assert next(root.glob("default/*/out.log")).read_text(encoding="utf-8") == logged


def test_streams_are_the_originals_again_after_runs_of_threads_end_in_any_order(root: Path) -> None:
    code = f"""
import sys, threading, runlab
out, err = sys.stdout, sys.stderr
a = runlab.start_run(root={str(root)!r}, capture=False, name="a")
opened, release = threading.Event(), threading.Event()
def other():
    with runlab.start_run(root={str(root)!r}, capture=False, name="b"):
        opened.set()
        release.wait()
thread = threading.Thread(target=other)
thread.start(); opened.wait()
a.finish()  # the first run ends while the thread's is open
release.set(); thread.join()
print(sys.stdout is out, sys.stderr is err)
"""
    assert run_python(code, timeout=30).stdout.strip() == "True True"


# -- resume: one attempt at a time ----------------------------------------------------------------

_CRASH = """
import os, sys, runlab
run = runlab.start_run(root=sys.argv[1], name="job", capture=False)
print(run.id, flush=True)
os._exit(0)
"""

_HOLDER = """
import os, sys, runlab
from runlab.lifecycle._resume import resume_run
from runlab.store._api import get_store
root, run_id, then = sys.argv[1:4]
run = resume_run(get_store(root), run_id)  # reopened, about to start
print("reopened", flush=True)
sys.stdin.readline()
if then == "crash":
    os._exit(0)
with run:
    pass
print("done", flush=True)
"""

_SECOND = """
import sys, runlab
try:
    with runlab.start_run(root=sys.argv[1], resume=sys.argv[2], capture=False) as run:
        print("resumed")
except runlab.RunNotResumableError as exc:
    print("refused:", exc)
"""

RESUME_CASES = [
    # (case, when the second resume comes, what the holder then does, second's answer, final attempts)
    ("while another process reopened it", "before", "finish", "being run by another process", ["crashed", "completed"]),
    ("after the other attempt completed", "after", "finish", "completed", ["crashed", "completed"]),
    ("after the other process died", "after", "crash", "resumed", ["crashed", "completed"]),
]


@pytest.mark.parametrize(("case", "when", "then", "answer", "attempts"), RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_two_resumes_of_one_run_never_run_at_once(root: Path, case: str, when: str, then: str, answer: str,
                                                  attempts: list[str]) -> None:  # fmt: skip
    run_id = run_python(_CRASH, str(root)).stdout.strip()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(root), run_id, then], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "reopened"
    second = ""
    if when == "before":
        second = run_python(_SECOND, str(root), run_id, timeout=30).stdout
    holder.stdin.write("go\n")
    holder.stdin.flush()
    holder.communicate(timeout=30)
    if when == "after":
        second = run_python(_SECOND, str(root), run_id, timeout=30).stdout
    assert answer in second, second
    forget_stores()
    rec = runlab.load(run_id, root=root)
    assert [a["status"] for a in rec.metadata["attempts"]] == attempts


# -- artifacts: folders that hold the run, links that loop ----------------------------------------


def _tree(base: Path, links: str) -> None:
    """A folder ``a`` (with ``f.txt``) and ``b``; ``links``: ``up`` (a/up -> ..) or ``mutual`` (a <-> b)."""
    (base / "a").mkdir(parents=True)
    (base / "b").mkdir()
    (base / "a" / "f.txt").write_text("content")
    if links == "up":
        (base / "a" / "up").symlink_to("..")
    else:
        (base / "a" / "to_b").symlink_to(base / "b")
        (base / "b" / "to_a").symlink_to(base / "a")


ARTIFACT_CASES = [
    # (case, source relative to tmp_path (None: the run's folder), refused with, files expected)
    ("a folder holding the store", ".", "would copy itself", None),
    ("the run's own folder", None, "would copy itself", None),
    ("a link to the folder above", "up", None, {"a/f.txt"}),
    ("two links leading to each other", "mutual", None, {"a/f.txt", "b/to_a/f.txt"}),
]


@pytest.mark.parametrize(("case", "source", "refused", "files"), ARTIFACT_CASES, ids=[c[0] for c in ARTIFACT_CASES])
def test_logging_a_folder_never_copies_itself(tmp_path: Path, case: str, source: str | None, refused: str | None,
                                              files: set[str] | None) -> None:  # fmt: skip
    if source in ("up", "mutual"):
        _tree(tmp_path / source, source)
    with runlab.start_run(root=tmp_path / "store", capture=False) as run:
        src = tmp_path / source if source is not None else run.path
        if refused is not None:
            with pytest.raises(runlab.UsageError, match=refused):
                run.log_artifact(src, "copy")
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run.log_artifact(src, "copy")
            assert any(issubclass(w.category, RunlabWarning) and "not followed" in str(w.message) for w in caught)
        run.data["after"] = 1  # the run goes on
    copied = run.path / "artifacts" / "copy"
    found = {p.relative_to(copied).as_posix() for p in copied.rglob("*") if p.is_file()} if copied.exists() else None
    assert found == files
    assert runlab.load(run.id, root=tmp_path / "store").status == "completed"


# -- odd values: a clear typed error, never the value's own failure ---------------------------------


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


def _save_json_nan(run: runlab.Run) -> Any:
    return json.loads(run.save_json("v.json", {"loss": math.nan, "t": (1, 2)}).read_text())


VALUE_CASES = [
    # (case, call, expected result or error type, words)
    ("save_json keeps NaN as text", _save_json_nan, {"loss": "NaN", "t": [1, 2]}, ""),
    ("save_json of a structure holding itself", lambda r: r.save_json("s.json", _loop()), runlab.DataError, "levels"),
    ("save_json of an object", lambda r: r.save_json("o.json", object()), runlab.DataError, "'o.json'"),
    ("a dict key whose repr raises", lambda r: r.data.__setitem__("k", {BadRepr(): 1}), runlab.DataError, "BadRepr"),
    ("a data key whose repr raises", lambda r: r.data.__setitem__(BadRepr(), 1), runlab.UsageError, "BadRepr"),
    ("a metric value whose repr raises", lambda r: r.log_metric("m", BadRepr()), runlab.MetricError, "BadRepr"),
    ("a metric name whose repr raises", lambda r: r.log_metric(BadRepr(), 1.0), runlab.MetricError, "BadRepr"),
    ("a step whose repr raises", lambda r: r.log_metric("m", 1.0, step=BadRepr()), runlab.MetricError, "BadRepr"),
    (
        "log_metrics of a non-mapping whose repr raises",
        lambda r: r.log_metrics(BadRepr()),
        runlab.UsageError,
        "BadRepr",
    ),
    ("log_params of None", lambda r: r.log_params(None), runlab.UsageError, "expected a mapping"),
    ("a parameter whose repr raises", lambda r: r.log_params({"p": BadRepr()}) or r.params["p"], None, "BadRepr"),
]


def _loop() -> dict[str, Any]:
    d: dict[str, Any] = {}
    d["d"] = d
    return d


@pytest.mark.parametrize(("case", "call", "expected", "words"), VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_odd_values_get_a_clear_error_and_the_run_goes_on(root: Path, case: str, call: Any, expected: Any,
                                                          words: str) -> None:  # fmt: skip
    with runlab.start_run(root=root, capture=False) as run:
        run.data["kept"] = 1
        if isinstance(expected, type) and issubclass(expected, Exception):
            with pytest.raises(expected, match=words) as info:
                call(run)
            assert "\n" not in str(info.value)
        else:
            result = call(run)
            assert result == expected if expected is not None else words in result
        run.log_metric("after", 1.0)
    rec = runlab.load(run.id, root=root)
    assert rec.status == "completed" and rec.data["kept"] == 1 and "after" in rec.summaries
    assert all(p.stat().st_size > 0 for p in run.path.glob("artifacts/*"))  # a refused value writes no file


def test_a_parameter_whose_repr_raises_still_starts_the_run(root: Path) -> None:
    with runlab.start_run(root=root, capture=False, params={"model": BadRepr(), "lr": 0.1}) as run:
        pass
    params = runlab.load(run.id, root=root).metadata["params"]
    assert params["model"]["usable"] is False and "BadRepr" in params["model"]["value"]
    assert params["lr"]["value"] == 0.1
