"""Run events for the layers above run/: state changes, metric batches, saved artifacts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.lifecycle import add_listener


@pytest.fixture
def events() -> Any:
    seen: list[tuple[str, str, dict[str, Any]]] = []
    remove = add_listener(lambda event, run, **data: seen.append((event, run.id, data)))
    yield seen
    remove()


def test_state_changes_in_order_after_they_are_written(root: Path, events: list) -> None:
    states_on_disk = []
    remove = add_listener(
        lambda event, run, **data: (
            states_on_disk.append(runlab.load(run.id, root=root).status) if event == "run_state_changed" else None
        )
    )
    with pytest.raises(ValueError), runlab.start_run(root=root, capture=False) as run:
        raise ValueError("x")
    remove()
    changes = [(d["old"], d["new"]) for e, rid, d in events if e == "run_state_changed" and rid == run.id]
    assert changes == [(None, "created"), ("created", "running"), ("running", "failed")]
    assert states_on_disk == ["created", "running", "failed"]


def test_metric_batches_and_artifacts(root: Path, events: list) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metrics({"loss": 1.0, "acc": 0.5})
        time.sleep(0.8)  # one background flush
        run.log_metric("loss", 0.5)
        run.save_text("notes/a.txt", "a")
    batches = [d["counts"] for e, _, d in events if e == "metrics_logged"]
    assert batches == [{"loss": 1, "acc": 1}, {"loss": 1}]
    saved = [(d["name"], d["path"]) for e, _, d in events if e == "artifact_saved"]
    assert saved == [("notes/a.txt", run.path / "artifacts" / "notes" / "a.txt")]


def test_a_failing_listener_does_not_disturb_the_run(root: Path, capfd: pytest.CaptureFixture[str]) -> None:
    def broken(event: str, run: Any, **data: Any) -> None:
        raise RuntimeError("listener bug")

    remove = add_listener(broken)
    try:
        with runlab.start_run(root=root, capture=False, capture_output=False) as run:
            run.log_metric("m", 1.0)
    finally:
        remove()
    assert runlab.load(run.id, root=root).status == "completed"
    err = capfd.readouterr().err
    assert err.count("listener bug") == 3  # once per event kind (state changes, metric batches, finishing)


def test_run_finishing_comes_after_the_last_metrics_and_before_the_final_record(root: Path) -> None:
    seen: list[tuple[str, str, int]] = []

    def listener(event: str, run: Any, **data: Any) -> None:
        if event == "run_finishing":
            lines = (run.path / "metrics.jsonl").read_text().count("\n")
            seen.append((data["status"], runlab.load(run.id, root=root).status, lines))
            run.record_plugin("probe", saw=data["status"])

    remove = add_listener(listener)
    try:
        with runlab.start_run(root=root, capture=False) as run:
            run.log_metric("m", 1.0)
    finally:
        remove()
    assert seen == [("completed", "running", 1)]  # metrics on disk, final state not yet written
    record = runlab.load(run.id, root=root)
    assert record.status == "completed" and record.metadata["plugins"]["probe"] == {"saw": "completed"}
