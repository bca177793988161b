"""A workflow stopped by an error other than Ctrl-C (its executor's, a record it could not write) ends
``failed`` with the error at once, its running runs cancelled, and the error propagates.

The old code let the exception out with the record still ``running``: in a Python session that went on,
the record read ``running`` until its heartbeat was stale (600 s), and the runs already out went on.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from pathlib import Path

import pytest

from runlab import Parallel
from runlab.executors import RunRequest, RunResult
from runlab.executors._local import LocalExecutor
from runlab.store import Store
from runlab.workflow import load_workflow

SLOW = (  # runs until the file HOLD is gone (a minute at most); says it started
    "import os, time\nHOLD = {hold!r}\nSTARTED = {started!r}\n"
    "def main():\n    open(STARTED, 'w').close()\n    deadline = time.time() + 60\n"
    "    while os.path.exists(HOLD) and time.time() < deadline:\n        time.sleep(0.05)\n    return 1\n"
)


class BrokenExecutor(LocalExecutor):
    """The local executor, whose second submit raises once the first request's run is running."""

    def __init__(self, started: Path) -> None:
        super().__init__(workers=2)
        self._started_file = started
        self.submits = 0

    def _start(self, request: RunRequest) -> cf.Future[RunResult]:
        self.submits += 1
        if self.submits == 2:
            deadline = time.monotonic() + 60
            while not self._started_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError("the executor broke")
        return super()._start(request)


def test_an_executor_error_ends_the_workflow_failed(tmp_path: Path, root: Path) -> None:
    hold, started = tmp_path / "hold", tmp_path / "started"
    hold.touch()
    (tmp_path / "slow.py").write_text(SLOW.format(hold=str(hold), started=str(started)))
    (tmp_path / "quick.py").write_text("def main():\n    return 2\n")
    executor = BrokenExecutor(started)
    flow = Parallel([tmp_path / "slow.py", tmp_path / "quick.py"], root=root, executor=executor)
    try:
        with pytest.raises(RuntimeError, match="the executor broke"):
            flow.run()
        assert flow.record is not None
        record = load_workflow(root, flow.record.id)  # right after: not running until the heartbeat is stale
        assert record.state == "failed", record
        assert record.error == "RuntimeError: the executor broke", record
        assert record.ended is not None
        assert {name: step.state for name, step in record.steps.items()} == {"slow": "cancelled", "quick": "cancelled"}
        assert len(record.steps["slow"].runs) == 1, record  # its run started, and was cancelled
        runs = list(Store(root).runs())
        assert [r.status for r in runs] == ["cancelled"], [(r.id, r.status) for r in runs]
        assert [str(r.status) for r in flow.results["slow"]] == ["cancelled"], flow.results
        from click.testing import CliRunner

        from runlab.cli._main import cli

        shown = CliRunner().invoke(cli, ["--root", str(root), "workflow", "show", record.id])
        assert shown.exit_code == 0 and "error: RuntimeError: the executor broke" in shown.output, shown.output
        as_json = CliRunner().invoke(cli, ["--root", str(root), "workflow", "show", record.id, "-f", "json"])
        assert '"error": "RuntimeError: the executor broke"' in as_json.output, as_json.output
    finally:
        hold.unlink(missing_ok=True)
        executor.cancel()
        executor.close()


def test_old_records_without_an_error_read(root: Path) -> None:
    """A record written before ``error`` existed reads, with no error."""
    import json

    from runlab.workflow import WorkflowRecord
    from runlab.workflow._record import StepRecord

    record = WorkflowRecord(root, "sequential", {"a": StepRecord()}, state="completed")
    record.save()
    data = json.loads(record.path.read_text())
    del data["error"]
    record.path.write_text(json.dumps(data))
    again = load_workflow(root, record.id)
    assert again.state == "completed" and again.error is None
