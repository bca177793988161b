"""Spearmint's usage on runlab: an async experiment over a config pool, under every strategy.

Written the way Spearmint's plan describes it (``@experiment`` on an async function with a config
pool; RoundRobin, Shadow and MultiBranch strategies; a custom strategy registered by name;
Branch / BranchContainer results; YAML and Pydantic configs). Only the imports differ from
Spearmint: they name runlab's modules (and its shorter strategy names).

Run it with ``python examples/branching/spearmint_usage.py``. Every branch is recorded in the
runlab store (``RUNLAB_ROOT`` or ``./runs``); look at them with ``runlab branch list`` and
``runlab branch show <session run>``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

# -- the only lines that differ from Spearmint --------------------------------------------
from runlab.branch import Branch, BranchConfig, BranchContainer, Plan, drain, read_branches, registry, sessions
from runlab.branch import MultiBranch as MultiBranchStrategy
from runlab.branch import RoundRobin as RoundRobinStrategy
from runlab.branch import Shadow as ShadowStrategy
from runlab.branch import branch as experiment

# ---------------------------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
CONFIG_POOL = [{"style": "terse", "model": "small", "temperature": 0.0}, HERE / "prompts"]  # 1 inline + 3 from YAML


async def fake_llm(question: str, style: str, model: str, temperature: float) -> str:
    """A stand-in for a model call: a little latency and a deterministic answer."""
    await asyncio.sleep(0.01 + temperature / 50)
    if model == "large" and temperature > 0.5 and "?" not in question:
        raise ValueError(f"{model} model at temperature {temperature} refused a question without '?'")
    return f"[{style}/{model}@{temperature}] answer to {question!r}"


@experiment(configs=CONFIG_POOL, strategy=RoundRobinStrategy())
async def answer_round_robin(question: str, config: dict) -> str:
    return await fake_llm(question, **config)


@experiment(configs=CONFIG_POOL, strategy=ShadowStrategy())
async def answer_shadow(question: str, config: dict) -> str:
    return await fake_llm(question, **config)


@experiment(configs=CONFIG_POOL, strategy=MultiBranchStrategy())
async def answer_all(question: str, config: dict) -> BranchContainer:
    return await fake_llm(question, **config)  # type: ignore[return-value]  # the caller gets a BranchContainer


class ModelSettings(BaseModel):
    """A Pydantic config: dicts in the pool are validated (and list values expanded) when decorating."""

    model: str
    temperature: float = 0.0
    style: str = "plain"


@registry.register("canary")
class CanaryStrategy:
    """A custom strategy: the first config serves; the others shadow it on a random 50% of calls."""

    name = "canary"

    def __init__(self) -> None:
        self.rng = random.Random(0)

    def plan(self, configs: Sequence[BranchConfig]) -> Plan:
        background = tuple(configs[1:]) if self.rng.random() < 0.5 else ()
        return Plan(run=(configs[0],), background=background)


@experiment(configs=[{"model": "small"}, {"model": "large", "temperature": [0.3, 0.9]}], strategy="canary")
async def answer_canary(question: str, settings: ModelSettings) -> str:
    return await fake_llm(question, settings.style, settings.model, settings.temperature)


async def main() -> None:
    print("RoundRobin: each call takes the next config")
    for question in ("q1?", "q2?", "q3?", "q4?"):
        print("  ", await answer_round_robin(question))

    print("Shadow: the caller gets the primary's answer; the others run in the background")
    print("  ", await answer_shadow("why is the sky blue"))
    last = answer_shadow.branching.last_branches
    print("   right after the call:", [(b.config_id, b.role, b.status.value) for b in last])
    await drain(timeout=30)  # before leaving asyncio.run: let background branches finish
    print("   after drain():       ", [(b.config_id, b.role, b.status.value) for b in last])

    print("MultiBranch: every config at once, failures captured")
    box: BranchContainer = await answer_all("what is runlab")
    for b in box:
        what = b.output if b.status.value == "success" else f"{b.exception_info.type}: {b.exception_info.message}"
        print(f"   {b.config_id} {b.status.value:8} {b.duration:.3f}s {what}")
    best: Branch = box.successful()[0]
    print("   first success:", best.config_id, "->", box.by_config_id(best.config_id).output)

    print("Custom strategy 'canary' registered by name; Pydantic configs:", registry.list())
    for question in ("a?", "b?", "c?"):
        print("  ", await answer_canary(question))
    await drain(timeout=30)


if __name__ == "__main__":
    asyncio.run(main())
    from runlab.branch import shutdown

    shutdown()  # what happens at exit anyway: flush the store logger and complete its session runs
    for session in sessions():
        rows = read_branches(session)
        counts = {s: sum(r["status"] == s for r in rows) for s in ("success", "failed", "cancelled")}
        print(f"session {session.id} {session.experiment}: {len(rows)} branches {counts}")
