"""Strategies and the decorator: what runs, concurrently or in the background, and what the caller gets."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

import runlab
import runlab.branch as rb
from runlab.branch import BranchConfig, BranchContainer, InMemoryLogger, Plan, registry
from runlab.errors import ValidationError

WAIT = 30.0  # generous: a loaded 2-core machine


@pytest.fixture
def log() -> Iterator[InMemoryLogger]:
    logger = InMemoryLogger()
    yield logger
    logger.close()


def wait_for(condition: Any, timeout: float = WAIT) -> None:
    event = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("condition not met in time")


# -- registry ---------------------------------------------------------------------------
def test_builtin_strategies_are_registered() -> None:
    assert registry.list()[:4] == ["single", "round_robin", "shadow", "multi_branch"]
    assert isinstance(registry.get("Round-Robin"), rb.RoundRobin)
    assert registry.get("shadow") is not registry.get("shadow")  # a new object per function


def test_register_a_custom_strategy_by_name(log: InMemoryLogger) -> None:
    @registry.register("last_one")
    class LastOne:
        def plan(self, configs: Sequence[BranchConfig]) -> Plan:
            return Plan(run=(configs[-1],))

    try:
        with pytest.raises(rb.StrategyError, match="already registered"):
            registry.register("last_one", LastOne)

        @runlab.branch(configs=[{"n": 1}, {"n": 2}], strategy="last_one", logger=log)
        def f(config: dict[str, int]) -> int:
            return config["n"]

        assert f() == 2 and log.records[0]["strategy"] == "last_one"  # the registered name
        registry.register("last_one", LastOne(), replace=True)
        assert isinstance(registry.get("last_one"), LastOne)
    finally:
        registry.unregister("last_one")
    assert "last_one" not in registry.list()
    with pytest.raises(rb.UnknownStrategyError, match="Unknown strategy 'last_one'"):
        registry.get("last_one")


@pytest.mark.parametrize(
    ("name", "factory", "match"),
    [
        ("", rb.Shadow, "Invalid strategy name"),
        ("x", 42, "Cannot register 42"),
        ("x", type("NoPlan", (), {}), "class NoPlan"),
    ],
)
def test_register_refuses_non_strategies(name: str, factory: Any, match: str) -> None:
    with pytest.raises(rb.StrategyError, match=match):
        registry.register(name, factory)


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("shadow", rb.StrategyError, "built-in"),
        ("nope", rb.UnknownStrategyError, "Registered strategies: single, round_robin"),
        (5, rb.UnknownStrategyError, "Invalid strategy name 5: expected a string"),
        (None, rb.UnknownStrategyError, "Invalid strategy name None: expected a string"),
    ],
)
def test_builtins_cannot_be_unregistered_and_unknown_names_are_reported(name: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        registry.unregister(name)


def test_a_factory_making_a_non_strategy_fails_at_decoration() -> None:
    registry.register("broken", lambda: "not a strategy")
    try:
        with pytest.raises(rb.StrategyError, match="what the factory of 'broken' made"):
            rb.branch(configs=[{"a": 1}], strategy="broken", logger=None)(lambda config: config)
    finally:
        registry.unregister("broken")


def test_a_plan_outside_the_pool_is_refused_at_the_call() -> None:
    class Rogue:
        def plan(self, configs: Sequence[BranchConfig]) -> Plan:
            return Plan(run=(BranchConfig("000000000000", {"z": 1}, "elsewhere"),))

    class Empty:
        def plan(self, configs: Sequence[BranchConfig]) -> Plan:
            return Plan(run=())

    for strategy, match in ((Rogue, "not in the function's pool"), (Empty(), "at least one config")):
        f = rb.branch(configs=[{"a": 1}], strategy=strategy, logger=None)(lambda config: config)
        with pytest.raises(rb.StrategyError, match=match):
            f()


# -- single and round robin -------------------------------------------------------------
def test_single_config_always_runs_the_same_config(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"n": 1}, {"n": 2}], strategy=rb.SingleConfig(index=1), logger=log)
    def f(config: dict[str, int]) -> int:
        return config["n"]

    assert [f() for _ in range(3)] == [2, 2, 2]
    assert [r["call_id"] for r in log.records] == ["1", "2", "3"]
    assert {r["role"] for r in log.records} == {"primary"}


def test_round_robin_rotates_call_by_call_under_threads(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"n": 0}, {"n": 1}, {"n": 2}], strategy="round_robin", logger=log)
    def f(config: dict[str, int]) -> int:
        return config["n"]

    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            value = f()
            with lock:
                results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(results) == {0: 100, 1: 100, 2: 100}
    assert len(log.records) == 300


@given(st.integers(1, 6), st.integers(0, 40))
def test_round_robin_gives_every_config_its_turn(size: int, calls: int) -> None:
    pool = rb.resolve_configs([{"i": i} for i in range(size)])
    strategy = rb.RoundRobin()
    picked = [strategy.plan(pool).run[0].value["i"] for _ in range(calls)]
    assert picked == [i % size for i in range(calls)]


def test_a_strategy_class_that_needs_arguments_is_refused_at_decoration() -> None:
    class Needs:
        def __init__(self, weight: float) -> None:
            self.weight = weight

        def plan(self, configs: Sequence[BranchConfig]) -> Plan:
            return Plan(run=(configs[0],))

    with pytest.raises(rb.StrategyError, match=r"Cannot make strategy Needs\(\) without arguments"):
        rb.branch(configs=[{"a": 1}], strategy=Needs, logger=None)(lambda config: config)
    assert rb.branch(configs=[{"a": 1}], strategy=Needs(0.5), logger=None)(lambda config: config)() == {"a": 1}


def test_round_robin_rotates_under_asyncio(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"n": 0}, {"n": 1}], strategy="round_robin", logger=log)
    async def f(config: dict[str, int]) -> int:
        await asyncio.sleep(0)
        return config["n"]

    async def main() -> list[int]:
        return list(await asyncio.gather(*(f() for _ in range(40))))

    assert Counter(asyncio.run(main())) == {0: 20, 1: 20}


# -- shadow -----------------------------------------------------------------------------
def test_shadow_returns_before_background_branches_finish_sync(log: InMemoryLogger) -> None:
    release = threading.Event()

    @rb.branch(configs=[{"role": "primary"}, {"role": "slow"}, {"role": "broken"}], strategy="shadow", logger=log)
    def f(x: int, config: dict[str, str]) -> str:
        if config["role"] == "slow":
            assert release.wait(WAIT)
        if config["role"] == "broken":
            raise RuntimeError("shadow failure")
        return f"{config['role']}:{x}"

    assert f(7) == "primary:7"  # returned while "slow" still waits
    last = f.branching.last_branches
    assert last is not None and [b.role for b in last] == ["primary", "background", "background"]
    wait_for(lambda: len(log.records) == 2)
    slow = last[1]
    assert slow.status is rb.BranchStatus.PENDING and f.branching.pending() == [slow]
    assert last[2].status is rb.BranchStatus.FAILED and last[2].exception_info is not None
    assert last[2].exception_info.message == "shadow failure"
    release.set()
    assert f.branching.join(WAIT) == []
    assert slow.output == "slow:7"
    assert sorted(r["status"] for r in log.records) == ["failed", "success", "success"]


def test_shadow_primary_failure_reaches_the_caller_and_is_recorded(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"ok": False}, {"ok": True}], strategy="shadow", logger=log)
    def f(config: dict[str, bool]) -> str:
        if not config["ok"]:
            raise ValueError("primary broke")
        return "fine"

    with pytest.raises(ValueError, match="primary broke"):
        f()
    f.branching.join(WAIT)
    assert sorted((r["role"], r["status"]) for r in log.records) == [("background", "success"), ("primary", "failed")]


def test_shadow_returns_before_background_tasks_finish_async(log: InMemoryLogger) -> None:
    async def main() -> tuple[str, list[str], list[str]]:
        release = asyncio.Event()

        @rb.branch(configs=[{"d": "fast"}, {"d": "slow"}, {"d": "bad"}], strategy="shadow", logger=log)
        async def f(config: dict[str, str]) -> str:
            if config["d"] == "slow":
                await asyncio.wait_for(release.wait(), WAIT)
            if config["d"] == "bad":
                raise LookupError("hidden")
            return config["d"]

        first = await f()
        last = f.branching.last_branches
        assert last is not None
        statuses_then = [b.status.value for b in last]
        release.set()
        assert await rb.drain(WAIT) == []
        return first, statuses_then, [b.status.value for b in last]

    first, then, after = asyncio.run(main())
    assert first == "fast" and then == ["success", "pending", "pending"]
    assert after == ["success", "success", "failed"]


def test_async_background_left_running_when_the_loop_ends_is_recorded_cancelled(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"d": 0.0}, {"d": 3600.0}], strategy="shadow", logger=log)
    async def f(config: dict[str, float]) -> float:
        await asyncio.sleep(config["d"])
        return config["d"]

    assert asyncio.run(f()) == 0.0
    assert sorted(r["status"] for r in log.records) == ["cancelled", "success"]
    cancelled = next(r for r in log.records if r["status"] == "cancelled")
    assert cancelled["role"] == "background" and "cancelled" in cancelled["exception"]["message"]
    assert f.branching.pending() == []


def test_drain_cancels_what_outlives_the_timeout(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"d": 0.0}, {"d": 3600.0}], strategy="shadow", logger=log)
    async def f(config: dict[str, float]) -> float:
        await asyncio.sleep(config["d"])
        return config["d"]

    async def main() -> list[rb.Branch]:
        await f()
        return await f.branching.ajoin(timeout=0.05)

    left = asyncio.run(main())
    assert [b.config_id for b in left] == [f.branching.configs[1].config_id]
    assert left[0].status is rb.BranchStatus.CANCELLED


# -- multi branch -----------------------------------------------------------------------
def test_multi_branch_runs_configs_concurrently_sync(log: InMemoryLogger) -> None:
    barrier = threading.Barrier(4)  # passes only when all four branches run at once

    @rb.branch(configs=[{"n": i} for i in range(4)], strategy="multi_branch", logger=log)
    def f(config: dict[str, int]) -> int:
        barrier.wait(timeout=WAIT)
        if config["n"] == 3:
            raise ArithmeticError("three")
        return config["n"] * 10

    box = f()
    assert isinstance(box, BranchContainer) and len(box) == 4
    assert [b.output for b in box.successful()] == [0, 10, 20]
    assert [b.exception_info.type for b in box.failed() if b.exception_info] == ["ArithmeticError"]
    assert {b.role for b in box} == {"branch"} and len({b.call_id for b in box}) == 1
    assert len(log.records) == 4


def test_multi_branch_runs_configs_concurrently_async(log: InMemoryLogger) -> None:
    async def main() -> BranchContainer:
        arrived: list[int] = []
        everyone = asyncio.Event()

        @rb.branch(configs=[{"n": i} for i in range(3)], strategy="multi_branch", logger=log)
        async def f(config: dict[str, int]) -> int:
            arrived.append(config["n"])
            if len(arrived) == 3:
                everyone.set()
            await asyncio.wait_for(everyone.wait(), WAIT)
            return config["n"]

        result: BranchContainer = await f()
        return result

    box = asyncio.run(main())
    assert sorted(box.outputs().values()) == [0, 1, 2]


# -- the decorator ----------------------------------------------------------------------
class Prompt(BaseModel):
    template: str
    temperature: float = 0.0


def test_a_pydantic_annotated_parameter_receives_the_model(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"template": "Q: {}"}, Prompt(template="Question: {}", temperature=0.3)],
               strategy="multi_branch", logger=log)  # fmt: skip
    def ask(question: str, prompt: Prompt, suffix: str = "?") -> str:
        assert isinstance(prompt, Prompt)
        return prompt.template.format(question) + suffix

    box = ask("why", suffix="!")
    assert [b.output for b in box] == ["Q: why!", "Question: why!"]
    # branches run at once, so records arrive in completion order: the dict config was validated into the model
    assert sorted((r["config"]["template"], r["config"]["temperature"]) for r in log.records) == [
        ("Q: {}", 0), ("Question: {}", 0.3)]  # fmt: skip


def test_the_caller_must_not_pass_the_config() -> None:
    @rb.branch(configs=[{"a": 1}], logger=None)
    def f(x: int, config: dict[str, int]) -> int:
        return x

    assert f(1) == 1
    for call in (lambda: f(1, {"a": 2}), lambda: f(1, config={"a": 2})):
        with pytest.raises(ValidationError, match="receives 'config' from @branch"):
            call()


def test_methods_and_wrapped_metadata() -> None:
    class Service:
        scale = 3

        @rb.branch(configs=[{"n": 2}], strategy="single", logger=None)
        def run(self, x: int, config: dict[str, int]) -> int:
            """Scale x."""
            return x * config["n"] * self.scale

    assert Service().run(5) == 30
    assert Service.run.__doc__ == "Scale x." and Service.run.__name__ == "run"
    assert "Service.run" in repr(Service.run.branching)  # type: ignore[attr-defined]


def test_last_branches_belong_to_the_caller_context() -> None:
    @rb.branch(configs=[{"n": 0}, {"n": 1}], strategy="round_robin", logger=None)
    async def f(config: dict[str, int]) -> int:
        await asyncio.sleep(0)
        return config["n"]

    async def one() -> tuple[int, int]:
        value = await f()
        last = f.branching.last_branches
        assert last is not None
        return value, last[0].config["n"]

    async def main() -> list[tuple[int, int]]:
        return list(await asyncio.gather(*(one() for _ in range(10))))

    assert all(value == seen for value, seen in asyncio.run(main()))


def test_keyboard_interrupt_in_a_branch_is_recorded_and_propagates(log: InMemoryLogger) -> None:
    @rb.branch(configs=[{"a": 1}], strategy="single", logger=log)
    def f(config: dict[str, int]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        f()
    assert log.records[0]["status"] == "cancelled"


def test_a_closed_logger_does_not_break_the_caller(capfd: pytest.CaptureFixture[str]) -> None:
    logger = InMemoryLogger()

    @rb.branch(configs=[{"a": 1}], strategy="single", logger=logger)
    def f(config: dict[str, int]) -> int:
        return config["a"]

    logger.close()
    assert f() == 1 and f() == 1
    assert capfd.readouterr().err.count("no longer recorded") == 1


def test_callable_objects_sync_and_async() -> None:
    class Sync:
        def __call__(self, config: dict[str, int]) -> int:
            return config["a"]

    class Async:
        async def __call__(self, config: dict[str, int]) -> int:
            await asyncio.sleep(0)
            return config["a"] * 10

    sync = rb.branch(configs=[{"a": 1}], logger=None)(Sync())
    async_ = rb.branch(configs=[{"a": 2}], logger=None)(Async())
    assert sync() == 1 and asyncio.run(async_()) == 20
    assert async_.branching.is_async and async_.branching.session.function.endswith("Async")
