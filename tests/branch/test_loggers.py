"""Logger backends: one conformance suite run against every backend (memory, runlab store, MLflow)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import runlab.branch as rb
from runlab.branch import Branch, BranchSession, InMemoryLogger, LoggerBackend, LoggerClosedError

Reader = Callable[[], list[dict[str, Any]]]
BACKENDS = ["memory", "store", "mlflow"]


@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real SQLite tracking store for the module (creating its tables takes seconds)."""
    pytest.importorskip("mlflow")
    return "sqlite:///" + (tmp_path_factory.mktemp("mlflow") / "mlflow.db").as_posix()


def _memory() -> tuple[LoggerBackend, Reader]:
    logger = InMemoryLogger()

    def read() -> list[dict[str, Any]]:
        return [{**r, "error": r["exception"]} for r in logger.records]

    return logger, read


def _store(root: Path) -> tuple[LoggerBackend, Reader]:
    logger = rb.StoreLogger(root=root, flush_interval=0.05)

    def read() -> list[dict[str, Any]]:
        logger.flush()
        rows: list[dict[str, Any]] = []
        for session in rb.sessions(root=root):
            rows += [{**r, "error": r["exception"]} for r in rb.read_branches(session)]
        return rows

    return logger, read


def _mlflow(uri: str, experiment: str) -> tuple[LoggerBackend, Reader]:
    from mlflow import MlflowClient

    logger = rb.MlflowLogger(tracking_uri=uri, experiment=experiment, flush_interval=0.05)
    client = MlflowClient(tracking_uri=uri)

    def read() -> list[dict[str, Any]]:
        logger.flush()
        exp = client.get_experiment_by_name(experiment)
        rows = []
        for run in client.search_runs([exp.experiment_id], max_results=5000) if exp else []:
            tags = run.data.tags
            error = None
            if "runlab.branch.error_type" in tags:
                error = {"type": tags["runlab.branch.error_type"], "message": tags["runlab.branch.error_message"],
                         "traceback": tags.get("runlab.branch.traceback", "")}  # fmt: skip
            rows.append({
                "config_id": tags["runlab.branch.config_id"],
                "status": tags["runlab.branch.status"],
                "role": tags["runlab.branch.role"],
                "call_id": tags["runlab.branch.call_id"],
                "output": tags.get("runlab.branch.output"),
                "duration": run.data.metrics["duration"],
                "error": error,
                "mlflow_status": run.info.status,
                "params": run.data.params,
            })  # fmt: skip
        return rows

    return logger, read


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, LoggerBackend, Reader]]:
    name = request.param
    if name == "memory":
        logger, read = _memory()
    elif name == "store":
        logger, read = _store(tmp_path / "store")
    else:
        uri = request.getfixturevalue("mlflow_uri")
        logger, read = _mlflow(uri, f"conformance-{request.node.name}")
    yield name, logger, read
    logger.close()


def _session(*configs: dict[str, Any]) -> BranchSession:
    pool = rb.resolve_configs(list(configs) or [{"a": 1}])
    return BranchSession("5e551011abcd", "tests.fn", "manual", tuple(pool))


def _outputs(rows: list[dict[str, Any]]) -> list[Any]:
    return sorted(str(r["output"]) for r in rows)


def test_records_successes_and_failures_of_a_call(backend: tuple[str, LoggerBackend, Reader]) -> None:
    name, logger, read = backend

    @rb.branch(configs=[{"n": 1}, {"n": 2}, {"n": 0}], strategy="multi_branch", logger=logger)
    def inverse(config: dict[str, int]) -> float:
        return 1 / config["n"]

    box = inverse()
    rows = read()
    assert len(rows) == 3
    by_id = {r["config_id"]: r for r in rows}
    assert set(by_id) == {b.config_id for b in box}
    failed = by_id[box.failed()[0].config_id]
    assert failed["status"] == "failed" and failed["error"]["type"] == "ZeroDivisionError"
    assert "division by zero" in failed["error"]["message"] and "inverse" in failed["error"]["traceback"]
    ok = by_id[box.successful()[0].config_id]
    assert ok["status"] == "success" and ok["error"] is None and float(ok["output"]) == 1.0
    assert all(r["role"] == "branch" and r["call_id"] == "1" and r["duration"] >= 0 for r in rows)
    if name == "mlflow":
        assert failed["mlflow_status"] == "FAILED" and ok["mlflow_status"] == "FINISHED"
        assert ok["params"]["n"] == "1" and ok["params"]["config_id"] == ok["config_id"]


@pytest.mark.parametrize("status", ["success", "failed", "skipped", "cancelled"])
def test_every_final_status_round_trips(backend: tuple[str, LoggerBackend, Reader], status: str) -> None:
    name, logger, read = backend
    session = _session({"a": 1})
    b = Branch.start(session.configs[0].config_id, session.configs[0].value, role="background", call_id="9")
    marks = {"success": lambda: b.mark_success("ok"), "failed": lambda: b.mark_failure(OSError("disk")),
             "skipped": lambda: b.mark_skipped("no"), "cancelled": lambda: b.mark_cancelled("exit")}  # fmt: skip
    marks[status]()
    logger.record(b, session)
    (row,) = read()
    assert (row["status"], row["role"], row["call_id"]) == (status, "background", "9")
    if status == "cancelled":
        assert row["error"]["type"] == "Cancelled" and row["error"]["message"] == "exit"
        if name == "mlflow":
            assert row["mlflow_status"] == "KILLED"


def test_concurrent_records_from_threads_are_all_kept(backend: tuple[str, LoggerBackend, Reader]) -> None:
    name, logger, read = backend
    threads_n, per_thread = (4, 5) if name == "mlflow" else (8, 100)
    session = _session(*({"t": t} for t in range(threads_n)))
    barrier = threading.Barrier(threads_n)

    def work(t: int) -> None:
        barrier.wait(timeout=30)
        for i in range(per_thread):
            b = Branch.start(session.configs[t].config_id, session.configs[t].value, call_id=str(i))
            b.mark_success(f"{t}-{i}")
            logger.record(b, session)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = read()
    assert _outputs(rows) == sorted(f"{t}-{i}" for t in range(threads_n) for i in range(per_thread))


def test_flush_writes_what_was_recorded(backend: tuple[str, LoggerBackend, Reader]) -> None:
    _, logger, read = backend
    session = _session()
    for i in range(3):
        b = Branch.start(session.configs[0].config_id, session.configs[0].value, call_id=str(i))
        b.mark_success(i)
        logger.record(b, session)
    logger.flush()
    assert len(read()) == 3


def test_close_is_idempotent_and_refuses_later_records(backend: tuple[str, LoggerBackend, Reader]) -> None:
    _, logger, read = backend
    session = _session()
    b = Branch.start(session.configs[0].config_id, session.configs[0].value)
    b.mark_success("kept")
    logger.record(b, session)
    logger.close()
    logger.close()
    assert _outputs(read()) == ["kept"]
    late = Branch.start(session.configs[0].config_id, session.configs[0].value)
    late.mark_success("late")
    with pytest.raises(LoggerClosedError):
        logger.record(late, session)


def test_large_and_odd_outputs_are_summarised(backend: tuple[str, LoggerBackend, Reader]) -> None:
    name, logger, read = backend
    session = _session()
    for i, value in enumerate(["y" * 10_000, {1, 2}]):
        b = Branch.start(session.configs[0].config_id, session.configs[0].value, call_id=str(i))
        b.mark_success(value)
        logger.record(b, session)
    rows = sorted(read(), key=lambda r: r["call_id"])
    if name == "memory":  # keeps the objects themselves
        assert rows[0]["output"] == "y" * 10_000
    else:
        assert str(rows[0]["output"]).endswith("...") and len(str(rows[0]["output"])) < 10_000
        assert "1" in str(rows[1]["output"])
