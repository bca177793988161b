"""The runlab store backend: session runs in the index, branch logs in their folders, queries."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

import runlab
import runlab.branch as rb
from runlab.errors import UsageError
from runlab.lifecycle import finish_open_runs


def _decorated(logger: rb.StoreLogger) -> object:
    @rb.branch(configs=[{"model": "a"}, {"model": "b", "t": 0.5}], strategy="multi_branch", logger=logger)
    def generate(prompt: str, config: dict[str, object]) -> str:
        if config["model"] == "b":
            raise TimeoutError("model b timed out")
        return f"{config['model']}:{prompt}"

    return generate


def test_a_session_run_per_function_is_indexed_and_completes_at_close(root: Path) -> None:
    logger = rb.StoreLogger(root=root, namespace="live")
    generate = _decorated(logger)
    for prompt in ("x", "y"):
        generate(prompt)  # type: ignore[operator]
    logger.flush()
    (session,) = rb.sessions(root=root)
    assert session.status == "running" and session.namespace == "live" and "branch" in session.tags
    assert session.experiment is not None and session.experiment.endswith("generate")
    assert session.params["strategy"] == "multi_branch" and len(session.params["configs"]) == 2
    logger.close()
    record = runlab.load(session.id, root=root)
    assert record.status == "completed"
    assert record.summaries["branches/success"].last == 2 and record.summaries["branches/failed"].last == 2
    per_config = record.data["branches"]
    assert sorted((v["success"], v["failed"]) for v in per_config.values()) == [(0, 2), (2, 0)]
    assert rb.sessions(function=session.experiment, root=root).ids == [session.id]
    assert rb.sessions(function="*.generate", root=root).ids == [session.id]
    assert len(rb.sessions(function="other.fn", root=root)) == 0
    assert len(runlab.runs(where="metrics.branches/failed > 1", root=root)) == 1


def test_read_branches_filters_and_adds_configs(root: Path) -> None:
    logger = rb.StoreLogger(root=root)
    generate = _decorated(logger)
    generate("q")  # type: ignore[operator]
    logger.close()
    session = rb.sessions(root=root)[0]
    rows = rb.read_branches(session)
    assert len(rows) == 2 and {r["status"] for r in rows} == {"success", "failed"}
    (failed,) = rb.read_branches(session.id, root=root, status="failed")
    assert failed["config"] == {"model": "b", "t": 0.5} and failed["exception"]["type"] == "TimeoutError"
    assert rb.read_branches(session, config_id=failed["config_id"][:5]) == [failed]
    assert "config" not in rb.read_branches(session, with_config=False)[0]
    assert rb.read_branches(session, status=["success", "failed"]) == rows
    with pytest.raises(UsageError, match="Invalid branch status 'ok'"):
        rb.read_branches(session, status="ok")


def test_the_folder_is_the_truth_rebuild_and_torn_lines(root: Path) -> None:
    logger = rb.StoreLogger(root=root)
    generate = _decorated(logger)
    generate("q")  # type: ignore[operator]
    logger.close()
    store = runlab.Store(root)
    (store.meta_dir / "index.sqlite").unlink()
    store.close()
    from ..conftest import forget_stores

    forget_stores()
    (session,) = rb.sessions(root=root)
    log = session.path / rb.BRANCH_LOG
    with open(log, "ab") as handle:
        handle.write(b'{"config_id": "torn')  # a writer died mid-line
    assert len(rb.read_branches(session)) == 2


def test_a_run_that_is_not_a_session_is_refused(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        pass
    with pytest.raises(UsageError, match="not a branch session run"):
        rb.read_branches(run.id, root=root)


def test_runlab_exit_hook_finishing_the_session_writes_pending_branches_first(root: Path) -> None:
    logger = rb.StoreLogger(root=root, flush_interval=3600)  # only explicit flushes
    generate = _decorated(logger)
    generate("first")  # type: ignore[operator]
    logger.flush()  # opens the session run
    generate("second")  # type: ignore[operator]
    finish_open_runs()  # what runlab's own exit hook does
    session = rb.sessions(root=root)[0]
    assert session.status == "completed"
    assert len(rb.read_branches(session)) == 4
    logger.close()


def test_invalid_settings_are_refused(root: Path) -> None:
    with pytest.raises(UsageError, match="Invalid namespace"):
        rb.StoreLogger(root=root, namespace="../escape")
    with pytest.raises(rb.BranchError, match="flush_interval"):
        rb.StoreLogger(root=root, flush_interval=0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda root: rb.sessions(function=3, root=root), "Invalid function 3"),  # was an AttributeError
        (lambda root: rb.sessions(function=b"*.f", root=root), "Invalid function b"),
        (lambda root: rb.read_branches(None, root=root), "Not a session run: None"),
        (lambda root: rb.read_branches("x", root=root, status="done"), "Invalid branch status 'done'"),
    ],
    ids=["function-int", "function-bytes", "session-none", "status"],
)
def test_bad_query_arguments_raise_a_usage_error(root: Path, call: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        call(root)


@pytest.mark.parametrize(
    "interval",
    [0, -1, float("nan"), float("inf"), 1e300, True, "0.5", None],  # NaN spun the writer; 1e300 killed it
)
def test_a_flush_interval_the_writer_cannot_wait_is_refused(root: Path, interval: Any) -> None:
    with pytest.raises(rb.BranchError, match=r"Invalid flush_interval .*: expected a number of seconds > 0"):
        rb.StoreLogger(root=root, flush_interval=interval)


@pytest.mark.parametrize("broken_first", [True, False])
def test_a_session_that_cannot_be_written_holds_up_no_other_session(root: Path, broken_first: bool) -> None:
    import shutil

    logger = rb.StoreLogger(root=root, flush_interval=3600)

    @rb.branch(configs=[{"f": "a"}], strategy="single", logger=logger)
    def fa(config: dict[str, str]) -> str:
        return "A"

    @rb.branch(configs=[{"f": "b"}], strategy="single", logger=logger)
    def fb(config: dict[str, str]) -> str:
        return "B"

    fa(), fb()
    logger.flush()
    broken = logger.session_run(fa.branching.session)  # type: ignore[attr-defined]
    healthy = logger.session_run(fb.branching.session)  # type: ignore[attr-defined]
    assert broken is not None and healthy is not None
    shutil.rmtree(broken.path)  # deleted while the process lives: its appends fail
    for call in (fa, fb) if broken_first else (fb, fa):
        call()
    for _ in range(3):
        with pytest.raises(FileNotFoundError):
            logger.flush()
    assert [r["output"] for r in rb.read_branches(healthy.id, root=root)] == ["B", "B"]  # written once, not held
    assert len(logger._pending) == 1  # the broken session's branch is kept for a retry
    broken.path.mkdir()
    logger.close()  # the folder is back: the kept branch is written
    assert [r["output"] for r in rb.read_branches(broken.id, root=root)] == ["A"]


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("outcome", "recorded"),
    [
        (10**30, "1000000000000000000000000000000"),              # beyond orjson's 64-bit ints
        (-(10**5000), "<int object: str() failed: ValueError>"),  # beyond Python's int-to-text limit
        ({"k": 10**30}, "{'k': 1000000000000000000000000000000}"),
        ("bad \udcff name", "bad \\udcff name"),                # a lone surrogate (undecodable file name)
        (_BadRepr(), "<_BadRepr object: repr() failed: RuntimeError>"),
        (OSError("bad \udcff name"), "bad \\udcff name"),       # raised: the error message
    ],
    ids=["int-64", "int-text", "nested-int", "surrogate", "bad-repr", "error-surrogate"],
)  # fmt: skip
def test_a_value_json_cannot_hold_is_recorded_as_text_and_blocks_nothing(root: Path, outcome: Any,
                                                                          recorded: str) -> None:  # fmt: skip
    logger = rb.StoreLogger(root=root, flush_interval=3600)
    outcomes = iter([outcome, "after"])

    @rb.branch(configs=[{"a": 1}], strategy="single", logger=logger)
    def f(config: dict[str, int]) -> Any:
        value = next(outcomes)
        if isinstance(value, Exception):
            raise value
        return value

    with contextlib.suppress(OSError):
        f()
    f()
    logger.flush()
    rows = rb.read_branches(rb.sessions(root=root)[0])
    first = rows[0]["exception"]["message"] if rows[0]["status"] == "failed" else rows[0]["output"]
    assert (first, rows[1]["output"]) == (recorded, "after")
    logger.close()


@pytest.mark.parametrize(
    "damage",
    [
        b"42",                                                    # JSON, but not a row
        b"[]",
        b'{"status": "success"}',                                 # fields missing
        b'{"config_id": 5, "role": "x", "call_id": "1", "status": "success"}',
        b'{"config_id": "c", "role": "x", "call_id": "1", "status": "weird"}',
        b'{"config_id": "c", "role": "x", "call_id": "1", "status": "failed", "duration": "slow"}',
        b'{"config_id": "c", "role": "x", "call_id": "1", "status": "failed", "exception": "boom"}',
        b"\xff\xfe not json",
    ],
)  # fmt: skip
def test_damaged_lines_of_a_branch_log_are_skipped_with_a_warning(root: Path, damage: bytes) -> None:
    from click.testing import CliRunner

    from runlab.cli import cli
    from runlab.cli._main import _register
    from runlab.store import RunlabWarning

    logger = rb.StoreLogger(root=root)
    generate = _decorated(logger)
    generate("q")  # type: ignore[operator]
    logger.close()
    (session,) = rb.sessions(root=root)
    with open(session.path / rb.BRANCH_LOG, "ab") as handle:
        handle.write(damage + b"\n")
    with pytest.warns(RunlabWarning, match=r"Skipped 1 damaged line\(s\) of .*branches.jsonl \(line 3\)"):
        rows = rb.read_branches(session, status="failed")
    assert [r["config"] for r in rows] == [{"model": "b", "t": 0.5}]
    _register()
    with pytest.warns(RunlabWarning, match="Skipped 1 damaged line"):
        result = CliRunner().invoke(cli, ["branch", "show", session.id, "--root", str(root)])
    assert result.exit_code == 0 and "a:q" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("odd", "text"),
    [
        ({"seed": 10**30}, "{'seed': 1000000000000000000000000000000}"),  # beyond any JSON reader's integers
        ({"seed": 2**63}, "{'seed': 9223372036854775808}"),               # beyond the index's 64-bit integers
        ({"opt": {"seeds": [1, -(2**70)]}}, "{'opt': {'seeds': [1, -1180591620717411303424]}}"),
    ],
    ids=["int-30-digits", "int-2**63", "nested"],
)  # fmt: skip
def test_a_config_the_store_cannot_keep_as_json_is_text_and_the_pool_stays(root: Path, odd: dict[str, Any],
                                                                            text: str) -> None:  # fmt: skip
    logger = rb.StoreLogger(root=root)

    @rb.branch(configs=[{"seed": 1}, odd], strategy="multi_branch", logger=logger)
    def f(config: dict[str, Any]) -> str:
        return "ok"

    f()
    logger.close()
    session = rb.sessions(root=root)[0]
    assert len(session.params["configs"]) == 2  # before: the whole pool became one text, and every config None
    configs = sorted((r["config"] for r in rb.read_branches(session)), key=str)
    assert configs == sorted([{"seed": 1}, text], key=str)


def test_the_writer_thread_writes_without_an_explicit_flush(root: Path) -> None:
    import time

    logger = rb.StoreLogger(root=root, flush_interval=0.05)
    generate = _decorated(logger)
    generate("q")  # type: ignore[operator]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = rb.sessions(root=root)
        if len(found) == 1 and len(rb.read_branches(found[0])) == 2:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the writer thread wrote nothing")
    logger.close()


def test_the_mlflow_default_is_the_database_beside_the_index(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    logger = rb.MlflowLogger(root=root)
    assert logger.tracking_uri == "sqlite:///" + (root / ".runlab" / "mlflow.db").as_posix()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere.db")
    assert rb.MlflowLogger(root=root).tracking_uri == "sqlite:////elsewhere.db"


def test_a_failed_write_keeps_the_batch_and_retries(root: Path) -> None:
    import shutil

    logger = rb.StoreLogger(root=root, flush_interval=3600)
    generate = _decorated(logger)
    generate("one")  # type: ignore[operator]
    logger.flush()
    (session,) = rb.sessions(root=root)
    log = session.path / rb.BRANCH_LOG
    kept = log.read_bytes()
    log.unlink()
    log.mkdir()  # the next append fails: IsADirectoryError
    generate("two")  # type: ignore[operator]
    with pytest.raises(IsADirectoryError):
        logger.flush()
    shutil.rmtree(log)
    log.write_bytes(kept)
    logger.close()  # the kept batch is written now
    outputs = sorted(str(r["output"]) for r in rb.read_branches(session))
    assert outputs == ["None", "None", "a:one", "a:two"]


def test_a_killed_process_keeps_what_was_written_and_shows_crashed(root: Path) -> None:
    from ..conftest import run_python

    code = """
import os, signal, sys, runlab.branch as rb
logger = rb.StoreLogger(root=sys.argv[1])

@rb.branch(configs=[{"n": 1}, {"n": 2}], strategy="multi_branch", logger=logger)
def f(config):
    return config["n"]

for _ in range(5):
    f()
logger.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""
    out = run_python(code, str(root), check=False, timeout=120)
    assert out.returncode == -9
    (session,) = rb.sessions(root=root)
    assert session.status == "crashed"
    assert len(rb.read_branches(session)) == 10
