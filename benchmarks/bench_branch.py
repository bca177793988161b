"""Branches recorded per second into the runlab store (target: at least 5,000 per second).

Cases, each in a fresh store, each checked by reading the branch log back:

* ``record``: branches made and marked beforehand are handed to ``StoreLogger.record`` in a
  tight loop, then the logger is closed (its last batch written, the session run completed);
  branches/s = branches / (loop + close). This is the recording cost alone.
* ``sync_single``: a trivial sync function decorated with ``@branch(strategy="single")`` called
  in a loop: one branch per call, everything included (plan, call, mark, record, write).
* ``sync_shadow``: the same with ``strategy="shadow"`` over 2 configs: the caller's branch plus
  one background thread branch per call; timed until every background branch is recorded.
* ``async_multi``: an async function with ``strategy="multi_branch"`` over 4 configs, awaited in
  a loop: 4 branches per call as tasks.

Usage::

    python benchmarks/bench_branch.py [--branches 50000] [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import bench_main, ensure_bytecode_caching


def _read_back(root: Path) -> int:
    import runlab.branch as rb

    return sum(len(rb.read_branches(s, with_config=False)) for s in rb.sessions(root=root))


def case_record(root: Path, n: int) -> dict[str, Any]:
    import runlab.branch as rb

    logger = rb.StoreLogger(root=root)
    pool = rb.resolve_configs([{"model": "small", "temperature": 0.2}])
    session = rb.BranchSession("bench0000000", "bench.record", "single", tuple(pool))
    branches = []
    for i in range(n):
        b = rb.Branch.start(pool[0].config_id, pool[0].value, call_id=str(i))
        b.mark_success(f"answer {i}")
        branches.append(b)
    gc.collect()
    start = time.perf_counter()
    record = logger.record
    for b in branches:
        record(b, session)
    looped = time.perf_counter() - start
    logger.close()
    total = time.perf_counter() - start
    return {"branches": n, "loop_per_s": n / looped, "per_s": n / total, "read_back": _read_back(root)}


def case_sync(root: Path, n: int, strategy: str, configs: int) -> dict[str, Any]:
    import runlab.branch as rb

    logger = rb.StoreLogger(root=root)

    @rb.branch(configs=[{"variant": v} for v in range(configs)], strategy=strategy, logger=logger)
    def answer(question: int, config: dict[str, int]) -> int:
        return question + config["variant"]

    calls = n // configs
    gc.collect()
    start = time.perf_counter()
    for i in range(calls):
        answer(i)
    answer.branching.join(600)  # type: ignore[attr-defined]
    logger.close()
    total = time.perf_counter() - start
    made = calls * configs
    return {"branches": made, "per_s": made / total, "read_back": _read_back(root)}


def case_async(root: Path, n: int, configs: int = 4) -> dict[str, Any]:
    import runlab.branch as rb

    logger = rb.StoreLogger(root=root)

    @rb.branch(configs=[{"variant": v} for v in range(configs)], strategy="multi_branch", logger=logger)
    async def answer(question: int, config: dict[str, int]) -> int:
        return question + config["variant"]

    calls = n // configs

    async def loop() -> None:
        for i in range(calls):
            await answer(i)

    gc.collect()
    start = time.perf_counter()
    asyncio.run(loop())
    logger.close()
    total = time.perf_counter() - start
    made = calls * configs
    return {"branches": made, "per_s": made / total, "read_back": _read_back(root)}


def run(n: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    cases = {
        "record": lambda root: case_record(root, n),
        "sync_single": lambda root: case_sync(root, n, "single", 1),
        "sync_shadow": lambda root: case_sync(root, n, "shadow", 2),
        "async_multi": lambda root: case_async(root, n),
    }
    for name, case in cases.items():
        with tempfile.TemporaryDirectory(prefix=f"runlab-bench-branch-{name}-") as tmp:
            results[name] = case(Path(tmp))
    return results


def report(results: dict[str, Any]) -> None:
    print("Branches recorded into the runlab store (StoreLogger, default settings); target >= 5,000/s")
    print(f"  {'case':<12} {'branches':>9} {'branches/s':>12}  read back")
    for case, r in results.items():
        ok = "ok" if r["read_back"] == r["branches"] else f"MISMATCH ({r['read_back']})"
        print(f"  {case:<12} {r['branches']:>9,} {r['per_s']:>12,.0f}  {ok}")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--branches", type=int, default=50_000, help="branches per case")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.branches), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
