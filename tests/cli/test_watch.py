"""``runlab watch``, ``runlab metrics ID NAME --follow`` and ``show`` on runs that are still running.

A real writer process logs metrics in two halves: the first at once, the second after the
test creates a gate file, then it completes. Watchers are real subprocesses (in a pipe and
on a pseudo-terminal) or the :class:`Watcher` itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli
from runlab.cli._main import _register
from runlab.cli._watch import Watcher
from runlab.store._follow import MetricsTail

from .terminal import TerminalRun, runlab_command, runlab_env

_register()
FAST = {"RUNLAB_FLUSH_INTERVAL": "0.05", "RUNLAB_HEARTBEAT_INTERVAL": "0.2"}
WRITER = """
import pathlib, sys, time, runlab
root, half, gate = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
with runlab.start_run(root=root, name="live", capture=False) as run:
    run.set_total(2 * half)
    for step in range(half):
        run.log_metrics({"loss": 1 / (step + 1), "acc": step / half, "sys/cpu_percent": 5.0})
    print(run.id, flush=True)
    while not gate.exists():
        time.sleep(0.05)
    for step in range(half, 2 * half):
        run.log_metrics({"loss": 1 / (step + 1), "acc": step / half})
"""


class Writer:
    def __init__(self, root: Path, tmp_path: Path, half: int = 10) -> None:
        self.gate = tmp_path / "gate"
        self.proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(half), str(self.gate)],
                                     stdout=subprocess.PIPE, text=True, env=runlab_env(FAST))  # fmt: skip
        assert self.proc.stdout is not None
        self.id = self.proc.stdout.readline().strip()
        assert len(self.id) == 8, self.id
        deadline = time.monotonic() + 30  # the first half is on disk
        while len(runlab.load(self.id, root=root).metrics().get("loss", [])) < half and time.monotonic() < deadline:
            time.sleep(0.05)

    def release(self) -> None:
        self.gate.touch()
        assert self.proc.wait(timeout=60) == 0


@pytest.fixture
def writer(root: Path, tmp_path: Path) -> Iterator[Writer]:
    w = Writer(root, tmp_path)
    yield w
    if w.proc.poll() is None:
        w.gate.touch()
        w.proc.wait(timeout=60)


def test_watcher_shows_step_total_eta_and_metrics_then_the_final_state(root: Path, writer: Writer) -> None:
    watcher = Watcher(runlab.Store(root), [], None, [])
    assert list(watcher.runs) == [writer.id]
    watcher.refresh()
    headers, rows, statuses = watcher.rows()
    assert headers == ["id", "name", "status", "step", "elapsed", "eta", "loss", "acc"]  # sys/ not by default
    assert rows[0][:4] == [writer.id, "live", "running", "9/20"] and statuses == ["running"]
    assert rows[0][5] != "-"  # an ETA: the total is known
    assert rows[0][6].startswith("0.1 ")  # last value and its sparkline
    writer.release()
    deadline = time.monotonic() + 30
    while watcher.active and time.monotonic() < deadline:
        time.sleep(0.1)
        changes = watcher.refresh()
    assert changes == [(writer.id, "running", "completed")]
    _, rows, _ = watcher.rows()
    assert rows[0][2:4] == ["completed", "19/20"] and rows[0][5] == "-"


def test_watcher_metric_patterns_choose_columns(root: Path, writer: Writer) -> None:
    watcher = Watcher(runlab.Store(root), [writer.id], None, ["sys/*", "acc"])
    watcher.refresh()
    assert watcher.rows()[0][6:] == ["acc", "sys/cpu_percent"]


def test_watch_in_a_pipe_prints_the_table_each_state_change_and_the_final_table(root: Path, writer: Writer) -> None:
    proc = subprocess.Popen(runlab_command("watch", "--root", str(root), "-i", "0.1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=runlab_env())  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.split()[:6] == ["id", "name", "status", "step", "elapsed", "eta"]
    writer.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"{writer.id}  running -> completed" in out
    last = out.strip().splitlines()[-1].split()
    assert last[:4] == [writer.id, "live", "completed", "19/20"]


def test_watch_on_a_terminal_draws_a_live_table_and_ctrl_c_leaves_cleanly(root: Path, writer: Writer) -> None:
    term = TerminalRun(["watch", "--root", str(root), "-i", "0.1"], columns=100)
    assert term.wait_for(lambda out: "1 of 1 run(s) running" in out and writer.id in out)
    term.interrupt()
    code, out = term.finish()
    assert code == 0, out
    assert "Stopped watching; the runs go on." in out and "Traceback" not in out
    assert writer.proc.poll() is None  # the run goes on
    writer.release()
    assert runlab.load(writer.id, root=root).status == "completed"


def test_watch_with_nothing_running_says_so(root: Path) -> None:
    with runlab.start_run(root=root, capture=False):
        pass
    result = CliRunner().invoke(cli, ["--root", str(root), "watch"])
    assert result.exit_code == 0 and "nothing to watch" in result.output


def test_watch_an_ended_run_once(root: Path) -> None:
    with runlab.start_run(root=root, name="done", capture=False) as run:
        run.log_metric("loss", 0.5)
    result = CliRunner().invoke(cli, ["--root", str(root), "watch", run.id, "--once"])
    assert result.exit_code == 0
    assert result.output.splitlines()[1].split()[:3] == [run.id, "done", "completed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["watch", "abc", "--where", "status == 'running'"], "not both"),
        (["watch", "nosuchrun"], "No run matches"),
        (["watch", "--where", "params.lr <"], "Expected a value"),
        (["metrics", "RUN", "-F"], "needs a metric NAME"),
        (["metrics", "RUN", "loss", "-F", "-f", "json"], "table or csv"),
    ],
)
def test_bad_input_exits_2(root: Path, args: list[str], message: str) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        pass
    args = [run.id if a == "RUN" else a for a in args]
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_metrics_follow_prints_points_as_they_come_until_the_run_ends(root: Path, writer: Writer) -> None:
    proc = subprocess.Popen(runlab_command("metrics", writer.id, "loss", "-F", "-f", "csv", "--root", str(root)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=runlab_env())  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "step,value,time"
    first = [proc.stdout.readline().split(",")[0] for _ in range(10)]
    assert first == [str(i) for i in range(10)]
    writer.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert [line.split(",")[0] for line in out.splitlines()] == [str(i) for i in range(10, 20)]


def test_metrics_follow_of_a_metric_never_logged_fails_when_the_run_ends(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 1.0)
    result = CliRunner().invoke(cli, ["--root", str(root), "metrics", run.id, "nope", "-F"])
    assert result.exit_code != 0 and "without logging metric 'nope'" in result.output


def test_show_says_when_the_next_summary_update_is_due(root: Path, writer: Writer) -> None:
    result = CliRunner().invoke(cli, ["--root", str(root), "show", writer.id])
    assert result.exit_code == 0
    live = next(line for line in result.output.splitlines() if line.startswith("live"))
    assert "reach the index every 0.2 s; next update due in ~" in live


def test_metrics_tail_holds_back_a_line_still_being_written(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.poll() == {}  # no file yet
    path.write_bytes(b'{"name":"loss","step0":0,"value":[1,2],"time":1.0}\n{"name":"loss","st')
    assert tail.poll()["loss"].values == [1, 2]
    with open(path, "ab") as handle:
        handle.write(b'ep":2,"value":3,"time":2.0}\nnot json\n')
    assert tail.poll()["loss"].steps == [2] and tail.skipped == 1
    assert tail.poll() == {}


@pytest.mark.parametrize("total", [0, -3, 2.5, True, "10"])
def test_set_total_refuses_what_is_not_a_step_count(root: Path, total: object) -> None:
    with runlab.start_run(root=root, capture=False) as run, pytest.raises(runlab.UsageError, match="Invalid total"):
        run.set_total(total)  # type: ignore[arg-type]


def test_metrics_of_a_running_run_without_metrics_says_when_they_come(root: Path) -> None:
    run = runlab.start_run(root=root, capture=False)
    try:
        result = CliRunner().invoke(cli, ["--root", str(root), "metrics", run.id])
    finally:
        run.complete()
    assert result.exit_code == 0
    assert "is running; no metrics yet; summaries reach the index every" in result.output
