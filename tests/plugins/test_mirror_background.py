"""Mirrors that cost little: the MLflow mirror sends in the background, quietly, and drains at exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import runlab
from runlab.plugins.builtin._background import BackgroundSender

from ..conftest import REPO

SCRIPT = """
import runlab
with runlab.run(name="quiet", params={"lr": 0.1}, root="runs") as run:
    for step in range(5):
        runlab.log_results({"loss": 1 / (step + 1)}, step=step)
    print("RUN", run.id)
# no flush: leaving the program sends what is queued
"""


def test_mlflow_mirror_is_quiet_and_complete_after_the_program_exits(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = ["mlflow"]\ndisabled = ["system"]\n')
    (tmp_path / "job.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "RUNLAB_QUIET": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    out = subprocess.run([sys.executable, "job.py"], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=300, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stderr == "" and out.stdout.startswith("RUN ") and out.stdout.count("\n") == 1, (out.stdout, out.stderr)
    run_id = out.stdout.split()[1]
    root = tmp_path / "runs"
    log = (root / ".runlab" / "logs" / "mlflow.log").read_text()
    assert "INFO" in log  # MLflow's lines went here instead of the console
    record = runlab.load(run_id, root=root)
    mirror = record.metadata["plugins"]["mlflow"]
    assert mirror["status"] == "FINISHED" and mirror["metrics"] == 5
    assert "INFO" not in (record.path / "out.log").read_text()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri="sqlite:///" + (root / ".runlab" / "mlflow.db").as_posix())
    mirrored = client.get_run(mirror["run_id"])
    assert mirrored.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(mirrored.info.run_id, "loss")] == list(range(5))


def test_background_sender_reports_failures_and_keeps_order() -> None:
    seen: list[object] = []
    errors: list[tuple[str, str]] = []
    sender = BackgroundSender("t", on_error=lambda hook, exc, run: errors.append((hook, str(exc))))
    sender.submit("a", None, lambda: seen.append(1))
    sender.submit("b", None, lambda: 1 / 0)
    sender.submit("c", None, lambda: seen.append(2))
    assert sender.flush(timeout=30)
    assert seen == [1, 2] and errors == [("b", "division by zero")]
    sender.close()
    assert sender.pending == 0


@pytest.mark.parametrize("key", ["background", "quiet"])
def test_mlflow_refuses_a_setting_that_is_not_a_bool(tmp_path: Path, key: str) -> None:
    pytest.importorskip("mlflow")
    from runlab.plugins import PluginManager, PluginState

    (tmp_path / "pyproject.toml").write_text(
        f'[tool.runlab.plugins]\nenabled = ["mlflow"]\n[tool.runlab.plugins.mlflow]\n{key} = "yes"\n'
    )
    record = next(r for r in PluginManager(tmp_path).plugins() if r.name == "mlflow")
    assert record.state is PluginState.FAILED and f"Invalid value for {key!r}" in record.notice


def test_wandb_offline_mirror_prints_nothing(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = ["wandb"]\ndisabled = ["system"]\n')
    (tmp_path / "job.py").write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path)}
    env["RUNLAB_QUIET"] = "1"
    env.update(WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"), WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"))
    out = subprocess.run([sys.executable, "job.py"], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=300, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stderr == "" and out.stdout.startswith("RUN "), (out.stdout, out.stderr)
    run_id = out.stdout.split()[1]
    assert runlab.load(run_id, root=tmp_path / "runs").metadata["plugins"]["wandb"]["mode"] == "offline"


OPEN_AT_EXIT = """
import runlab
with runlab.run(name="first", root="runs") as run:
    runlab.log_results({"loss": 0.5}, step=0)
left = runlab.start_run(name="left-open", root="runs", capture=False)
left.log_metric("loss", 0.25)
print(run.id, left.id)
"""


def test_wandb_mirror_sends_in_the_background_and_finishes_runs_left_open_at_exit(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.plugins]\nenabled = ["wandb"]\ndisabled = ["system"]\n')
    (tmp_path / "job.py").write_text(OPEN_AT_EXIT)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "WANDB_MODE": "offline", "RUNLAB_QUIET": "1"}
    env.update(WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"), WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"))
    out = subprocess.run([sys.executable, "job.py"], cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=300, check=False)  # fmt: skip
    assert out.returncode == 0 and out.stderr == "", out.stderr
    first, left = out.stdout.split()
    for run_id, metrics in ((first, 1), (left, 1)):
        record = runlab.load(run_id, root=tmp_path / "runs")
        assert record.status == "completed"
        mirror = record.metadata["plugins"]["wandb"]
        assert mirror["exit_code"] == 0 and mirror["metrics"] == metrics, mirror
