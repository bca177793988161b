"""Review fixes: unknown config keys of a pydantic model, strategy locks in a forked child, `branch list` counts.

Real components only: real config files, real ``os.fork`` children and a real fork-based
``multiprocessing`` pool, the real CLI. A child that hangs is killed after a timeout, so the
old behaviour (a lock held for ever in the child) fails the test instead of hanging it.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, Field

import runlab.branch as rb
from runlab.branch import BranchConfigError, Plan, resolve_configs
from runlab.cli import cli
from runlab.cli._main import _register
from runlab.params import choice

_register()

# -- 1. keys a pydantic model does not declare ------------------------------------------------


class Optim(BaseModel):
    lr: float = 0.1


class Settings(BaseModel):
    model: str = "small"
    temperature: float = 0.5
    optim: Optim | None = None
    stages: list[Optim] = []


class Allowing(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = "small"


class Ignoring(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = "small"


class Forbidding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = "small"


class Aliased(BaseModel):
    temp: float = Field(0.5, alias="T")


class AliasedByName(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    temp: float = Field(0.5, alias="T")


REFUSED = [  # (model, configs, what the message must say)
    (Settings, [{"temprature": 0.9}],
     ["configs[0]", "'temprature'", "did you mean 'temperature'?", "Settings", "model, optim, stages, temperature"]),
    (Settings, [{"model": "a"}, {"model": "b", "Model": "c"}], ["configs[1]", "'Model'", "did you mean 'model'?"]),
    (Settings, [{"model": "a", "xyz": 1, "temprature": 2}], ["keys", "'xyz'", "'temprature'"]),
    (Settings, [{"optim": {"lrr": 0.01}}], ["'optim.lrr'", "did you mean 'lr'?", "Optim", "Known fields of Optim: lr"]),
    (Settings, [{"stages": [{"lr": 1.0}, {"rl": 2.0}]}], ["'stages.rl'", "Optim"]),
    (Settings, [{"temperature": [0.1, 0.2], "tmperature": 1}], ["'tmperature'"]),
    (Settings, [{"model": choice("a", "b"), "modle": "c"}], ["configs[0] variant 1", "'modle'"]),
    (Aliased, [{"temp": 0.1}], ["'temp'", "Known fields of Aliased: T"]),
    (Forbidding, [{"modl": "x"}], ["configs[0]", "Forbidding", "modl"]),  # pydantic's own refusal, as before
]  # fmt: skip


@pytest.mark.parametrize(("model", "configs", "needles"), REFUSED)
def test_a_key_the_model_does_not_declare_is_refused(model: type, configs: list[Any], needles: list[str]) -> None:
    with pytest.raises(BranchConfigError) as info:
        resolve_configs(configs, model=model)
    for needle in needles:
        assert needle in str(info.value)


ACCEPTED = [  # (model, config, what the function receives, as a dict with the extras)
    (Settings, {"model": "a", "optim": {"lr": 0.3}}, {"model": "a", "temperature": 0.5, "optim": {"lr": 0.3},
                                                      "stages": []}),
    (Allowing, {"model": "a", "extra_key": 1}, {"model": "a", "extra_key": 1}),  # the user's choice: kept
    (Ignoring, {"model": "a", "extra_key": 1}, {"model": "a"}),  # the user's choice: dropped
    (Aliased, {"T": 0.9}, {"temp": 0.9}),
    (AliasedByName, {"temp": 0.9}, {"temp": 0.9}),
    (AliasedByName, {"T": 0.8}, {"temp": 0.8}),
]  # fmt: skip


@pytest.mark.parametrize(("model", "config", "expected"), ACCEPTED)
def test_declared_keys_and_the_models_own_extra_setting(model: type, config: dict[str, Any],
                                                        expected: dict[str, Any]) -> None:  # fmt: skip
    [one] = resolve_configs([config], model=model)
    assert isinstance(one.value, model) and one.value.model_dump() == expected


def test_a_typo_in_a_config_file_is_refused_when_the_function_is_decorated(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text("parameters:\n  model: large\n")
    (tmp_path / "typo.yml").write_text("parameters:\n  model: large\n  temprature: 0.9\n")
    with pytest.raises(BranchConfigError, match=r"typo\.yml#1 has a key that Settings does not declare: 'temprature'"):

        @rb.branch(configs=str(tmp_path), strategy="single", logger=None)
        def answer(question: str, settings: Settings) -> str:
            return question

    @rb.branch(configs=tmp_path / "good.yml", strategy="single", logger=None)
    def fine(question: str, settings: Settings) -> str:
        return settings.model

    assert fine("q") == "large"


# -- 2. locks in a forked child ---------------------------------------------------------------


class LockStrategy:
    """A user's strategy guarding its state with a lock of the kind given."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.guard = make()
        self.calls = 0

    def plan(self, configs: Any) -> Plan:
        with self.guard:
            self.calls += 1
        return Plan(run=(configs[0],))


def _branched(strategy: Any) -> Any:
    @rb.branch(configs=[{"n": 1}, {"n": 2}], strategy=strategy, logger=None)
    def f(config: dict[str, int]) -> int:
        return config["n"]

    return f


def _in_child(hold: Any, action: Callable[[], object], timeout: float = 5.0) -> str:
    """Hold ``hold`` in another thread, fork, run ``action`` in the child: its repr, or ``"hung"``."""
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with hold:
            held.set()
            release.wait()

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    assert held.wait(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            signal.alarm(int(timeout) + 5)  # a hung child must not outlive the test
            os.write(write, repr(action()).encode())
        except BaseException as exc:
            os.write(write, f"error: {type(exc).__name__}: {exc}".encode())
            code = 1
        finally:
            os._exit(code)
    release.set()
    thread.join(5)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], timeout)
        out = os.read(read, 4096).decode() if ready else "hung"
    finally:
        os.close(read)
        if out == "hung":
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return out


def _round_robin() -> tuple[Any, Callable[[], object]]:
    f = _branched("round_robin")
    return f.branching.strategy._lock, lambda: [f(), f(), f()]


def _user(make: Callable[[], Any]) -> Callable[[], tuple[Any, Callable[[], object]]]:
    def case() -> tuple[Any, Callable[[], object]]:
        f = _branched(LockStrategy(make))
        return f.branching.strategy.guard, lambda: [f(), f()]

    return case


def _shared_condition_lock() -> tuple[Any, Callable[[], object]]:
    strategy = LockStrategy(threading.Lock)
    strategy.cond = threading.Condition(strategy.guard)  # type: ignore[attr-defined]  # shares the lock
    f = _branched(strategy)

    def action() -> object:
        with strategy.cond:  # type: ignore[attr-defined]
            pass
        return [f(), strategy.cond._lock is strategy.guard]  # type: ignore[attr-defined]

    return strategy.guard, action


def _registry() -> tuple[Any, Callable[[], object]]:
    from runlab.branch import registry

    return registry._lock, lambda: _branched("shadow").branching.strategy_name


def _logger_names() -> tuple[Any, Callable[[], object]]:
    from runlab.branch import _logger_specs

    return _logger_specs._lock, lambda: type(_logger_specs.resolve_logger("store")).__name__


FORK_CASES = [  # (name, setup -> (the lock another thread holds at the fork, what the child does), child's result)
    ("RoundRobin", _round_robin, "[1, 2, 1]"),
    ("user strategy, Lock", _user(threading.Lock), "[1, 1]"),
    ("user strategy, RLock", _user(threading.RLock), "[1, 1]"),
    ("user strategy, Condition", _user(threading.Condition), "[1, 1]"),
    ("user strategy, Condition sharing its Lock", _shared_condition_lock, "[1, True]"),
    ("strategy registry", _registry, "'shadow'"),
    ("shared logger names", _logger_names, "'StoreLogger'"),
]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
@pytest.mark.parametrize(("name", "setup", "expected"), FORK_CASES, ids=[c[0] for c in FORK_CASES])
def test_a_lock_held_by_another_thread_at_fork_does_not_hang_the_child(
    name: str, setup: Callable[[], tuple[Any, Callable[[], object]]], expected: str
) -> None:
    lock, action = setup()
    assert _in_child(lock, action) == expected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_an_rlock_the_forking_thread_holds_stays_its_own_in_the_child() -> None:
    strategy = LockStrategy(threading.RLock)
    f = _branched(strategy)
    read, write = os.pipe()
    with strategy.guard:  # forked inside the strategy's own critical section
        pid = os.fork()
        if pid == 0:
            try:
                strategy.guard.release()  # still owned by this thread: no RuntimeError
                strategy.guard.acquire()
                os.write(write, repr(f()).encode())
            except BaseException as exc:
                os.write(write, f"error: {type(exc).__name__}: {exc}".encode())
            finally:
                os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 5)
    out = os.read(read, 4096).decode() if ready else "hung"
    os.close(read)
    if out == "hung":
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert out == "1"


_pool_target = _branched("round_robin")


def _call_branched(_: int) -> int:
    return int(_pool_target())


@pytest.mark.skipif(sys.platform == "win32", reason="the fork start method")
def test_a_fork_pool_worker_can_call_a_function_whose_strategy_lock_was_held() -> None:
    lock = _pool_target.branching.strategy._lock
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with lock:
            held.set()
            release.wait()

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    assert held.wait(5)
    pool = multiprocessing.get_context("fork").Pool(1)  # the worker forks while the lock is held
    try:
        release.set()
        thread.join(5)
        assert sorted(pool.map_async(_call_branched, range(4)).get(timeout=10)) == [1, 1, 2, 2]
    finally:
        pool.terminate()
        pool.join()


# -- 3. `runlab branch list` counts of live sessions ------------------------------------------


def test_branch_list_help_says_live_counts_lag_by_a_heartbeat() -> None:
    result = CliRunner().invoke(cli, ["branch", "list", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "heartbeat (every 5 s; RUNLAB_HEARTBEAT_INTERVAL)" in text and "runlab branch show" in text
