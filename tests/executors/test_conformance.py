"""The executor contract, checked for every executor (inline, local processes, Dask)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runlab.errors import UsageError
from runlab.executors import Executor, get_executor
from runlab.store import Store

from .conftest import req


def test_results_come_in_submission_order(executor: Executor, script: Path, root: Path) -> None:
    tickets = [executor.submit(req(script, root, f"--X={i}", f"--SLEEP={0.05 * (5 - i)}")) for i in range(5)]
    assert tickets == list(range(5))
    results = list(executor.results())
    assert [r.value for r in results] == [0, 2, 4, 6, 8]
    assert [r.status for r in results] == ["completed"] * 5
    store = Store(root)
    assert sorted(r.run_id for r in results) == sorted(r.id for r in store.runs())  # type: ignore[misc]
    for result in results:
        assert Path(str(result.folder)).is_dir()
        assert store.load(str(result.run_id)).status == "completed"


def test_completed_yields_every_ticket_once(executor: Executor, script: Path, root: Path) -> None:
    for i in range(4):
        executor.submit(req(script, root, f"--X={i}"))
    seen = sorted((ticket, r.value) for ticket, r in executor.completed())
    assert seen == [(0, 0), (1, 2), (2, 4), (3, 6)]


def test_a_failing_run_is_a_result_not_an_exception(executor: Executor, script: Path, root: Path) -> None:
    executor.submit(req(script, root, "--X=1", "--MODE=fail"))
    executor.submit(req(script, root, "--X=2"))
    failed, ok = executor.results()
    assert failed.status == "failed" and "boom 1" in str(failed.error)
    assert Store(root).load(str(failed.run_id)).status == "failed"
    assert ok.status == "completed" and ok.value == 4, ok.error


def test_links_reach_the_run_record(executor: Executor, script: Path, root: Path) -> None:
    executor.submit(req(script, root, sweep="abcd1234"))
    [result] = executor.results()
    record = Store(root).load(str(result.run_id))
    assert record.sweep == "abcd1234" and record.metadata["origin"]["path"] == str(script)


def test_a_request_for_a_missing_file_fails_without_a_run(executor: Executor, script: Path, root: Path) -> None:
    request = req(script, root)
    script.unlink()
    executor.submit(request)
    [result] = executor.results()
    assert result.status == "failed" and result.run_id is None
    assert "exp.py" in str(result.error)
    assert len(Store(root).runs()) == 0


def test_cancel_before_start_makes_no_run(executor: Executor, script: Path, root: Path) -> None:
    executor.cancel()
    executor.submit(req(script, root))
    [result] = executor.results()
    assert result.status == "cancelled" and result.run_id is None
    assert executor.cancelled


@pytest.mark.parametrize("name", ["local", "dask", "slurm"])
def test_a_run_killing_its_process_is_crashed_and_others_go_on(name: str, script: Path, root: Path) -> None:
    from .conftest import make_executor

    with make_executor(name) as ex:
        ex.submit(req(script, root, "--X=1", "--MODE=die"))
        ex.submit(req(script, root, "--X=2"))
        crashed, ok = ex.results()
    assert crashed.status == "crashed" and crashed.run_id is not None
    assert Store(root).load(crashed.run_id).status == "crashed"
    assert ok.status == "completed" and ok.value == 4, ok.error


@pytest.mark.parametrize("name", ["local", "dask", "slurm"])
def test_cancel_interrupts_running_runs(name: str, script: Path, root: Path) -> None:
    from .conftest import make_executor

    with make_executor(name) as ex:
        for i in range(4):
            ex.submit(req(script, root, f"--X={i}", "--SLEEP=30"))
        store = Store(root)
        deadline = time.monotonic() + 60
        while len(store.runs(status="running")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        ex.cancel()
        results = list(ex.results())
    assert [r.status for r in results] == ["cancelled"] * 4
    started = [r for r in results if r.run_id]
    assert len(started) == 2
    assert {store.load(str(r.run_id)).status for r in started} == {"cancelled"}
    assert len(store.runs(status="running")) == 0


CANCEL_IN_A_CHILD = """\
import sys, time
from pathlib import Path
from runlab.store import Store
from tests.executors.conftest import make_executor, req

name, script, root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
with make_executor(name) as ex:
    for i in range(2):
        ex.submit(req(script, root, f"--X={i}", "--SLEEP=30"))
    store = Store(root)
    deadline = time.monotonic() + 60
    while len(store.runs(status="running")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    ex.cancel()
    print(",".join(str(r.status) for r in ex.results()))
"""


@pytest.mark.parametrize("name", ["local", "dask", "slurm"])
def test_cancel_works_where_sigint_is_ignored(name: str, script: Path, root: Path, tmp_path: Path) -> None:
    """A background job (``make test &``, a script started from cron) has SIGINT ignored, and the
    processes it starts inherit that: submitit's local jobs ignored their cancel and ran on."""
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", CANCEL_IN_A_CHILD, name, str(script), str(root)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "cancelled,cancelled"


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("locall", {}, "Did you mean 'local'"),
        ("local", {"wokers": 2}, "Unknown option 'wokers'"),
        ("local", {"workers": "2"}, "is not an int"),
        ("local", {"workers": 0}, ">= 1"),
        ("inline", {"workers": 2}, "Its options: none"),
        # numbers out of range: a NaN time limit hung the sweep, a negative one failed every job after 30 s
        ("local", {"grace": -1}, "'grace': -1.0 is not a number >= 0"),
        ("local", {"grace": math.nan}, "'grace': nan is not a number >= 0"),
        ("dask", {"timeout": 0}, "'timeout': 0.0 is not a number > 0"),
        ("dask", {"grace": math.inf}, "'grace': inf is not a number >= 0"),
        ("slurm", {"cluster": "local", "time": math.nan}, "'time': nan is not a number > 0"),
        ("slurm", {"cluster": "local", "time": -5}, "'time': -5.0 is not a number > 0"),
        ("slurm", {"cluster": "local", "poll": 0}, "'poll': 0.0 is not a number > 0"),
        ("slurm", {"cluster": "local", "cpus": 0}, "'cpus': 0 is not a number >= 1"),
        ("slurm", {"cluster": "local", "gpus": -1}, "'gpus': -1 is not a number >= 0"),
        ("slurm", {"cluster": "local", "mem": math.inf}, "'mem': inf is not a number >= 0"),
        ("slurm", {"cluster": "local", "signal_delay": -1}, "'signal_delay': -1 is not a number >= 0"),
    ],
)
def test_bad_executor_settings_are_usage_errors(name: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as info:
        get_executor(name, settings=False, **options)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [  # each was a traceback (TypeError, AttributeError) instead of a usage error
        ('[tool.runlab.executors.local]\nworkers = "abc"\n', "'workers': 'abc' is not an int"),
        ("[tool.runlab]\nexecutors = 3\n", "Invalid [tool.runlab.executors] in"),
        ("tool = 3  # executors\n", "Invalid [tool] in"),
        ("[tool.runlab.executors]\nlocal = [1]\n", "Invalid [tool.runlab.executors.local] in"),
        ("[tool.runlab.executors.local]\ngrace = nan\n", "'grace': nan is not a number >= 0"),
    ],
)
def test_bad_pyproject_settings_exit_2_in_one_line(tmp_path: Path, pyproject: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "exp.py").write_text("X = 1\n")
    out = subprocess.run([sys.executable, "-m", "runlab", "run", "exp.py", "--sweep", "X=1,2"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "runs").exists()  # no run, no sweep record


def test_settings_come_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.runlab.executors.local]\nworkers = 3\ngrace = 2\n")
    ex = get_executor("local")
    assert ex.workers == 3
    assert get_executor("local", workers=1).workers == 1  # the command line wins
    ex.close()
