"""Review findings for the executors: real processes, a real store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runlab.store import Store

from .test_process_lifetime import PARENT, _gone, _wait_for  # a run that starts `sleep 300`


@pytest.mark.parametrize(("sig", "executor"), [(signal.SIGKILL, "local"), (signal.SIGTERM, "local"),
                                                (signal.SIGTERM, "dask")])  # fmt: skip
def test_a_killed_sweep_ends_the_processes_its_runs_started(sig: int, executor: str, tmp_path: Path) -> None:
    """The runs of a killed sweep got SIGTERM and recorded themselves cancelled, but the processes they
    had started (in their process groups, which cancelling reaches) ran on."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "runlab", "--root", "runs", "run", str(script), "--sweep", "X=0,1", "-j", "2",
           "-x", executor]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    pid_files = [tmp_path / f"child-{x}.pid" for x in (0, 1)]
    children: list[int] = []
    try:
        _wait_for(lambda: all(f.is_file() and f.read_text() != "" for f in pid_files))
        children = [int(f.read_text()) for f in pid_files]
        proc.send_signal(sig)
        proc.wait(timeout=30)
        _wait_for(lambda: all(_gone(pid) for pid in children), timeout=20)
        store = Store(tmp_path / "runs")
        _wait_for(lambda: [str(r.status) for r in store.runs()] == ["cancelled", "cancelled"], timeout=20)
    finally:
        proc.kill()
        for pid in children:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


FORKS = """\
import os, signal, time
X = 0

def main():
    child = os.fork()
    if child == 0:  # a process the run forks (a pool's worker), ended with SIGTERM as Pool.terminate() does
        time.sleep(30)
        os._exit(0)
    time.sleep(0.5)
    os.kill(child, signal.SIGTERM)
    _, status = os.waitpid(child, 0)
    time.sleep(0.2)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1
"""


def test_a_process_the_run_forks_ends_by_sigterm_alone(tmp_path: Path) -> None:
    """The run process's SIGTERM handler (which ends its whole process group) must not act in a process the
    run forks: a pool's worker ended with SIGTERM must not take the run with it."""
    from runlab.executors import get_executor

    from .conftest import req

    script = tmp_path / "forks.py"
    script.write_text(FORKS)
    with get_executor("local", settings=False, workers=2) as ex:
        for x in (1, 2):
            ex.submit(req(script, tmp_path / "runs", f"--X={x}"))
        results = list(ex.results())
    assert [(str(r.status), r.value) for r in results] == [("completed", signal.SIGTERM)] * 2, results


@pytest.mark.parametrize("folder", ["a-file", "a-file/sub", "/proc/no-such-folder"])
def test_a_slurm_job_folder_that_cannot_be_made_is_a_usage_error(folder: str, tmp_path: Path) -> None:
    """A job folder that is a file (or under one, or where nothing may be made) ended the sweep with exit code 1
    and "Error: File exists (a-file)", naming neither the option nor what to do."""
    pytest.importorskip("submitit")
    from runlab.errors import UsageError
    from runlab.executors import get_executor

    (tmp_path / "a-file").write_text("")
    path = folder if folder.startswith("/") else str(tmp_path / folder)
    with pytest.raises(UsageError, match=r"Invalid folder .* for the slurm executor's job files: .*option 'folder'"):
        get_executor("slurm", settings=False, cluster="local", folder=path)


def test_the_cli_refuses_a_bad_slurm_job_folder_with_exit_code_2(tmp_path: Path) -> None:
    """Bad input is a usage error on the command line: exit code 2, one line, nothing run."""
    pytest.importorskip("submitit")
    (tmp_path / "a-file").write_text("")
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.executors.slurm]\ncluster = "local"\nfolder = "a-file"\n')
    (tmp_path / "exp.py").write_text("X = 0\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-m", "runlab", "--root", "runs", "run", "exp.py", "--sweep", "X=1,2", "-x", "slurm"]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "option 'folder'" in done.stderr and "Traceback" not in done.stderr
    assert not Store(tmp_path / "runs").runs()
