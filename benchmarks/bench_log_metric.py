"""Throughput of ``run.log_metric`` and the size of the ``metrics.jsonl`` it produces.

For each case a run is started with default settings (the background flusher appends
every 0.5 s), ``run.log_metric(name, value)`` is called in a tight loop over values made
beforehand for about ``--seconds`` seconds, and the run is finished. Reported:

* calls per second of the loop alone, and including the final flush at finish;
* bytes per point of ``metrics.jsonl`` (file size / points);
* that reading the run back gives as many points per metric as calls were made.

Cases: one metric ``loss`` with (a) random floats, (b) ``1.0 / (i + 1)``; and the same
with 4 metric names interleaved (each loop iteration logs ``loss``, ``acc``, ``lr``,
``grad_norm``; every call counts) and with 10 names interleaved (the live-runs target: 10
metric names logged at full speed still give >= 1 M calls/s).

Usage::

    python benchmarks/bench_log_metric.py [--seconds 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import bench_main, ensure_bytecode_caching

NAMES4 = ("loss", "acc", "lr", "grad_norm")
NAMES10 = (*NAMES4, "val/loss", "val/acc", "tokens", "throughput", "sys/cpu_percent", "weight_norm")


def make_values(kind: str, n: int, seed: int = 0) -> list[float]:
    """``n`` values: ``random`` floats in [0, 1) or ``harmonic`` ``1.0 / (i + 1)``."""
    if kind == "random":
        rng = random.Random(seed)
        return [rng.random() for _ in range(n)]
    return [1.0 / (i + 1) for i in range(n)]


def _loop_one(log: Any, values: list[float]) -> None:
    for v in values:
        log("loss", v)


def _loop_four(log: Any, values: list[float]) -> None:
    a, b, c, d = NAMES4
    it = iter(values)
    for va, vb, vc, vd in zip(it, it, it, it, strict=False):
        log(a, va)
        log(b, vb)
        log(c, vc)
        log(d, vd)


def _loop_ten(log: Any, values: list[float]) -> None:
    a, b, c, d, e, f, g, h, i, j = NAMES10
    it = iter(values)
    for va, vb, vc, vd, ve, vf, vg, vh, vi, vj in zip(it, it, it, it, it, it, it, it, it, it, strict=False):
        log(a, va)
        log(b, vb)
        log(c, vc)
        log(d, vd)
        log(e, ve)
        log(f, vf)
        log(g, vg)
        log(h, vh)
        log(i, vi)
        log(j, vj)


_LOOPS = {1: (_loop_one, ("loss",)), 4: (_loop_four, NAMES4), 10: (_loop_ten, NAMES10)}


def measure(root: Path, values: list[float], names: int) -> dict[str, Any]:
    """Log ``values`` (under 1, 4 or 10 names) in one run and finish it; return the figures."""
    import runlab

    loop, metric_names = _LOOPS[names]
    calls = len(values) - len(values) % names
    gc.collect()
    run = runlab.start_run(params={"case": names}, root=root)
    start = time.perf_counter()
    loop(run.log_metric, values)
    looped = time.perf_counter() - start
    run.finish()
    total = time.perf_counter() - start
    size = (run.path / "metrics.jsonl").stat().st_size
    record = runlab.load(run.id, root=root)
    per_name = calls // names
    lengths = {name: len(record.metrics(name)) for name in metric_names}
    return {
        "calls": calls,
        "loop_calls_per_s": calls / looped,
        "calls_per_s": calls / total,
        "finish_s": total - looped,
        "bytes_per_point": size / calls,
        "file_bytes": size,
        "read_back_ok": all(n == per_name for n in lengths.values()),
        "read_back": lengths,
    }


def calibrate(root: Path) -> float:
    """A rough calls-per-second figure from a short run (to size the value lists)."""
    result = measure(root, make_values("random", 300_000), 1)
    return float(result["calls_per_s"])


def run(seconds: float = 3.0) -> dict[str, Any]:
    """Measure the six cases; return ``{case: figures}``."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="runlab-bench-log-") as tmp:
        root = Path(tmp)
        n = int(calibrate(root) * seconds) // 20 * 20
        for kind in ("random", "harmonic"):
            values = make_values(kind, n)
            for names in (1, 4, 10):
                results[f"{kind}_{names}name{'s' if names > 1 else ''}"] = measure(root, values, names)
            del values
    return results


def report(results: dict[str, Any]) -> None:
    print("run.log_metric in a tight loop (flusher on, default settings)")
    print(
        f"  {'case':<18} {'calls':>10} {'loop calls/s':>14} {'with finish':>13} {'finish':>9} {'B/point':>8}  read back"
    )
    for case, r in results.items():
        print(
            f"  {case:<18} {r['calls']:>10,} {r['loop_calls_per_s']:>14,.0f} {r['calls_per_s']:>13,.0f} "
            f"{r['finish_s'] * 1000:>6.0f} ms {r['bytes_per_point']:>8.2f}  {'ok' if r['read_back_ok'] else 'MISMATCH'}"
        )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=3.0, help="approximate length of each loop")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.seconds), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
