"""Odd workflows: deep chains, bad values refused before any record or run, Ctrl-C in a sequential flow."""

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
from click.testing import CliRunner

from runlab import Parallel, Pipeline, Script
from runlab.cli._main import _register, cli
from runlab.errors import UsageError, ValidationError
from runlab.store import Store
from runlab.workflow import Step, order_steps

_register()


def records(root: Path) -> list[dict[str, Any]]:
    """The workflow records of the store at ``root``."""
    return [json.loads(p.read_text()) for p in (root / ".runlab" / "workflows").glob("*.json")]


@pytest.fixture
def ok(tmp_path: Path) -> Path:
    path = tmp_path / "ok.py"
    path.write_text("def main():\n    return 1\n")
    return path


def test_a_chain_deeper_than_the_recursion_limit_is_ordered() -> None:
    n = sys.getrecursionlimit() + 500
    steps = [Step(f"s{i}", None, [f"s{i - 1}"] if i else []) for i in reversed(range(n))]
    assert order_steps(steps) == [f"s{i}" for i in range(n)]
    steps[-1].after = [f"s{n - 1}"]  # s0 after the last one: a cycle through every step
    with pytest.raises(ValidationError, match=rf"cycle: s{n - 1} -> s{n - 2} -> .* -> s1 -> s0 -> s{n - 1}\. Remove"):
        order_steps(steps)


def test_a_failure_skips_a_chain_deeper_than_the_recursion_limit(tmp_path: Path, root: Path) -> None:
    fail = tmp_path / "fail.py"
    fail.write_text("def main():\n    raise RuntimeError('broke')\n")
    n = sys.getrecursionlimit() + 200
    script = Script(fail)
    steps = [Step("s0", script), *(Step(f"s{i}", script, [f"s{i - 1}"]) for i in range(1, n))]
    pipe = Pipeline(steps, root=root)
    pipe.run()
    assert pipe.record is not None and pipe.record.state == "failed"
    states = [s.state for s in pipe.record.steps.values()]
    assert states == ["failed"] + ["skipped"] * (n - 1)
    assert pipe.record.steps[f"s{n - 1}"].error == f"skipped: step 's{n - 2}' did not complete"
    assert len(Store(root).runs()) == 1


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda ok, root: Pipeline({"a": ok}, executor=3, root=root), ValidationError, "Invalid executor 3"),
        (lambda ok, root: Pipeline({"a": (ok, ["b"], 1)}, root=root), ValidationError, r"give a script or \(script"),
        (lambda ok, root: Pipeline({"a": ok, "b": (ok, [3])}, root=root), ValidationError, "Invalid dependency 3"),
        (lambda ok, root: Pipeline({"a": ok}, executor="nope", root=root).run(), UsageError, "Unknown executor"),
        (lambda ok, root: Pipeline({"a": ok}, executor="local", workers=-1, root=root).run(), UsageError, "-1"),
        (lambda ok, root: Parallel([ok], max_workers=0, root=root).run(), UsageError, "number of workers 0"),
    ],
)
def test_bad_values_are_refused_before_a_record_or_a_run(make: Any, error: type[Exception], message: str, ok: Path,
                                                         root: Path) -> None:  # fmt: skip
    with pytest.raises(error, match=message):
        make(ok, root)
    assert not root.exists() or (records(root), Store(root).runs()) == ([], [])


@pytest.mark.parametrize("after", ["prep", ("prep",), ["prep"]])
def test_one_dependency_given_as_a_name_is_that_step(after: Any, ok: Path, root: Path) -> None:
    pipe = Pipeline({"prep": ok, "train": (ok, after)}, root=root)
    assert pipe.steps[1].after == ["prep"]
    by_steps = Pipeline(root=root)
    by_steps.step("prep", ok)
    assert by_steps.step("train", ok, after=after).after == ["prep"]


def test_a_refused_step_leaves_the_pipeline_as_it_was(ok: Path, root: Path) -> None:
    pipe = Pipeline(root=root)
    pipe.step("a", ok)
    for name, after in [("a", []), ("b", ["nope"])]:
        with pytest.raises(ValidationError):
            pipe.step(name, ok, after=after)
    pipe.step("b", ok, after=["a"])
    assert [s.name for s in pipe.steps] == ["a", "b"]
    assert [r.value for r in pipe.run()] == [1, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workers: many\nsteps:\n  a: ok.py\n", "'workers' must be a whole number >= 1 (runs at a time), got 'many'"),
        ("workers: true\nsteps:\n  a: ok.py\n", "'workers' must be a whole number >= 1 (runs at a time), got True"),
        ("workers: 0\nsteps:\n  a: ok.py\n", "'workers' must be a whole number >= 1 (runs at a time), got 0"),
        ("executor: [local]\nsteps:\n  a: ok.py\n", "'executor' must be a text, got ['local']"),
        ("executor: nope\nsteps:\n  a: ok.py\n", "Unknown executor 'nope'"),
        ("name: [x]\nsteps:\n  a: ok.py\n", "'name' must be a text, got ['x']"),
        ("steps:\n  ~: ok.py\n", "step names must be texts, got None"),
        ("steps:\n  1: ok.py\n", "step names must be texts, got 1; give a name (quote a number: '1':)"),
        ("steps:\n  a: {script: ok.py, entrypoint: 3}\n", "step 'a': 'entrypoint' must be a text, got 3"),
        ("steps:\n  a: {script: ok.py, config: [x.yml]}\n", "step 'a': 'config' must be a text, got ['x.yml']"),
        ("steps:\n  a: {script: [ok.py]}\n", "step 'a' needs 'script: FILE' (the path of a .py file)"),
        ("- a\n- b\n", "must hold a mapping of keys (name, steps, ...), got list"),  # said (parameters, extend, ...)
    ],
)
def test_bad_workflow_file_values_exit_2_with_no_record(text: str, message: str, ok: Path, root: Path) -> None:
    flow = ok.parent / "flow.yml"
    flow.write_text(text)
    result = CliRunner().invoke(cli, ["--root", str(root), "workflow", "run", str(flow)])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not root.exists() or (records(root), Store(root).runs()) == ([], [])


def test_ctrl_c_in_a_sequential_flow_keeps_the_cancelled_run(ok: Path, root: Path) -> None:
    (ok.parent / "slow.py").write_text("import time\ndef main():\n    time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "runlab", "--root", str(root), "workflow", "sequential", "ok.py", "slow.py", "ok.py"]
    proc = subprocess.Popen(cmd, cwd=ok.parent, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(root.glob("slow/*/run.json")):
        assert time.monotonic() < deadline and proc.poll() is None, "the slow step did not start"
        time.sleep(0.05)
    time.sleep(0.5)  # inside the run
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    [record] = records(root)
    [slow_run] = Store(root).runs(namespace="slow")
    assert slow_run.status == "cancelled"
    assert {name: (s["state"], s["runs"]) for name, s in record["steps"].items()} == {
        "ok": ("completed", [record["steps"]["ok"]["runs"][0]]),
        "slow": ("cancelled", [slow_run.id]),
        "ok-2": ("cancelled", []),
    }
    assert f"run {slow_run.id} cancelled" in out
