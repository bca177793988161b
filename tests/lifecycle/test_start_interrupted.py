"""SIGTERM arriving while a run starts (after ``running`` is on disk, before the user's code runs).

A sweep cancels the runs it sees ``running``: the signal can reach a run process that is still
starting (its output capture, threads, ``running`` listeners, ``before_run`` hooks). The run
must still end ``cancelled``, never stay ``running`` (then read ``crashed``), and the process
must end as SIGTERM ends it after a run: by the signal under the default handler, or by
returning its result under a handler that lets it go on (submitit's, in a SLURM job).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import runlab

HARNESS = """\
import os, signal, sys
from pathlib import Path
from runlab.executors._child import run_request_file
from runlab.hooks import get_registry
from runlab.request import RunOptions, RunRequest, Target

point, prev, script, root, result = sys.argv[1:6]
if prev == "goes-on":  # as submitit's handler in a SLURM job: logs the signal, the job goes on
    signal.signal(signal.SIGTERM, lambda signum, frame: print("handler of the job called", flush=True))

def on_state(run, old, new):
    if point == "running" and new == "running":
        os.kill(os.getpid(), signal.SIGTERM)

def before_run(run):
    if point == "before_run":
        os.kill(os.getpid(), signal.SIGTERM)

get_registry().register("run_state_changed", on_state)
get_registry().register("before_run", before_run)
request = RunRequest(Target("script", Path(script)), {}, RunOptions(root=root, capture=False))
request_file = Path(result).with_name("request.json")
request_file.write_text(request.to_json(), encoding="utf-8")
run_request_file(request_file, Path(result))
print("returned", flush=True)
"""

SCRIPT = """\
import time
print("user code ran", flush=True)
time.sleep(30)
"""


@pytest.mark.parametrize("point", ["running", "before_run"])
@pytest.mark.parametrize("prev", ["default", "goes-on"])
def test_sigterm_while_a_run_starts_cancels_it(point: str, prev: str, root: Path, tmp_path: Path) -> None:
    script = tmp_path / "exp.py"
    script.write_text(SCRIPT)
    result = tmp_path / "x.result.json"
    proc = subprocess.run(
        [sys.executable, "-c", HARNESS, point, prev, str(script), str(root), str(result)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "user code ran" not in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    [run] = runlab.Store(root).runs()
    assert run.status == "cancelled", (run.status, proc.stderr)
    assert str(run.error) == "RunTerminated"
    if prev == "default":  # the process ends by the signal, its run's record on disk first
        assert proc.returncode == -signal.SIGTERM, proc.stderr
    else:  # the job's handler was called and the job returned its run's result
        assert proc.returncode == 0, proc.stderr
        assert "handler of the job called" in proc.stdout and "returned" in proc.stdout
        assert json.loads(result.read_text())["status"] == "cancelled"
