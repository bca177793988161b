"""The context-manager style: runlab.run(), the module functions, and their errors."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import threading
from pathlib import Path

import pytest

import runlab
from runlab import experiment as ctx


def test_block_records_params_results_and_artifacts(root: Path, tmp_path: Path) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(b"w")
    with runlab.run(params={"model": {"lr": 0.1, "depth": 3}}, name="ctx", tags=["t"], root=root):
        assert ctx.get_status() == "running"
        assert ctx.get_params() == {"model": {"lr": 0.1, "depth": 3}}
        assert ctx.get_param("model.lr") == 0.1 and ctx.get_param("model.width", 64) == 64
        with pytest.raises(KeyError, match="No parameter 'nope'"):
            ctx.get_param("nope")
        for step in range(3):
            ctx.log_results({"loss": 1.0 / (step + 1), "note": f"step {step}"}, step=step)
        ctx.log_artifact("model/weights.bin", src)
        ctx.log_text("hello", "notes.txt")
    rec = runlab.load("ctx", root=root)
    assert rec.status == "completed" and rec.tags == ("t",)
    assert rec.metrics("loss").steps == [0, 1, 2]
    assert rec.data["results"]["2"]["note"] == "step 2"
    assert rec.artifacts == ["model/weights.bin", "notes.txt"]


def test_replacing_a_step_warns(root: Path) -> None:
    with runlab.run(root=root):
        ctx.log_results({"acc": 0.5}, step=1)
        with pytest.warns(UserWarning, match="Replacing the result 'acc' of step 1"):
            ctx.log_results({"acc": 0.6}, step=1)


@pytest.mark.parametrize(
    ("end", "status", "message"),
    [(ctx.completed, "completed", None), (lambda: ctx.fail("diverged"), "failed", "diverged"),
     (lambda: ctx.cancel("user stop"), "cancelled", "user stop")],
)  # fmt: skip
def test_ending_the_block_early(root: Path, end, status: str, message: str | None) -> None:  # type: ignore[no-untyped-def]
    reached = False
    with runlab.run(root=root) as run:
        end()
        reached = True
    assert not reached
    rec = runlab.load(run.id, root=root)
    assert rec.status == status
    assert (rec.metadata["error"] or {}).get("message") == message


def test_exception_fails_and_propagates(root: Path) -> None:
    with pytest.raises(ZeroDivisionError), runlab.run(root=root) as run:
        1 / 0  # noqa: B018
    assert runlab.load(run.id, root=root).status == "failed"


def test_no_active_run_is_a_clear_error() -> None:
    for call in (ctx.get_params, ctx.get_status, lambda: ctx.log_results({"a": 1}), ctx.completed):
        with pytest.raises(runlab.ExperimentContextError, match=r"inside 'with runlab.run\(...\):'"):
            call()


def test_threads_and_tasks_see_their_own_run(root: Path) -> None:
    seen: dict[str, str] = {}

    def worker(label: str) -> None:
        with runlab.run(name=label, root=root) as run:
            barrier.wait(timeout=10)  # both runs are open at once
            seen[label] = ctx.current_run().id
            ctx.log_results({"x": 1})
            assert run.id == seen[label]

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=worker, args=(f"t{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["t0"] != seen["t1"]

    async def task(label: str) -> str:
        with runlab.run(name=label, root=root) as run:
            await asyncio.sleep(0.01)
            assert ctx.current_run() is run
            return run.id

    async def both() -> list[str]:
        return await asyncio.gather(task("a0"), task("a1"))

    assert len(set(asyncio.run(both()))) == 2


def test_a_thread_inside_a_block_uses_the_only_open_run(root: Path) -> None:
    with runlab.run(root=root) as run:
        t = threading.Thread(target=lambda: ctx.log_results({"from_thread": 1.0}))
        t.start()
        t.join()
        with runlab.run(root=root) as inner:  # two open runs: a bare thread is ambiguous
            errors: list[BaseException] = []

            def bare() -> None:
                try:
                    ctx.get_status()
                except runlab.ExperimentContextError as exc:
                    errors.append(exc)

            t = threading.Thread(target=bare)
            t.start()
            t.join()
            assert errors and "copy_context" in str(errors[0])
            copied = contextvars.copy_context()
            t = threading.Thread(target=copied.run, args=(lambda: ctx.log_results({"inner": 1.0}),))
            t.start()
            t.join()
    assert "from_thread" in runlab.load(run.id, root=root).summaries
    assert "inner" in runlab.load(inner.id, root=root).summaries


def test_exclusive_mode_refuses_a_second_running_run(root: Path) -> None:
    with (
        runlab.run(root=root, exclusive=True),
        pytest.raises(runlab.ExperimentAlreadyRunningError, match="still running"),
    ):
        runlab.run(root=root, exclusive=True).__enter__()
    with runlab.run(root=root, exclusive=True) as later:
        pass
    assert later.status == "completed"


def test_require_clean_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}  # fmt: skip
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    monkeypatch.chdir(repo)
    with runlab.run(root=tmp_path / "store", require_clean_git=True) as run:
        pass
    assert run.status == "completed"
    (repo / "dirty.txt").write_text("x")
    with pytest.raises(runlab.DirtyWorkingDirectoryError, match="uncommitted changes"):
        runlab.run(root=tmp_path / "store", require_clean_git=True).__enter__()
    assert len(runlab.runs(root=tmp_path / "store")) == 1, "nothing is created when refused"


def test_bad_params_are_refused() -> None:
    with pytest.raises(runlab.ValidationError, match="expected a mapping"):
        runlab.run(params=[1, 2])  # type: ignore[arg-type]


def test_runlab_run_is_the_function_even_after_the_lifecycle_package_loads() -> None:
    import runlab.lifecycle

    assert runlab.run is ctx.run and callable(runlab.run)
    assert runlab.log_results is ctx.log_results


@pytest.mark.parametrize("quiet", [None, "1"])
def test_the_context_style_says_which_run_and_folder_at_start(tmp_path: Path, quiet: str | None) -> None:
    import os
    import subprocess
    import sys

    from ..conftest import REPO

    script = tmp_path / "block.py"
    script.write_text("import runlab\nwith runlab.run(root='runs') as run:\n    print('inside', run.id)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("RUNLAB_QUIET", None)
    if quiet:
        env["RUNLAB_QUIET"] = quiet
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    run_id = out.stdout.split()[1]
    record = runlab.load(run_id, root=tmp_path / "runs")
    if quiet:
        assert out.stderr == ""
    else:
        folder = record.path.relative_to(tmp_path)
        assert out.stderr == f"runlab: run {run_id} in {folder}\n"
    assert "runlab: run" not in (record.path / "out.log").read_text()
