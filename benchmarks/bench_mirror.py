"""What the MLflow mirror adds to a trivial run, once MLflow is imported.

In one process, in a temporary project with ``enabled = ["mlflow"]`` (the default SQLite
tracking store beside the index): MLflow is imported and one mirrored warm-up run made
(creating the database). Then ``--repeat`` trivial runs (``runlab.start_run``, 5 metric
points, finish) are timed three ways, in turn:

* ``plain``: the plugin manager active without the mirror;
* ``background``: the mirror on, as shipped (sends in a background thread);
* ``synchronous``: the mirror with ``background = false`` (the old behaviour, for reference).

Reported: the median time per run of each, the time the mirror adds (median minus plain),
and how long the background sender needs afterwards to send everything queued (what a
program waits at exit). Target: the mirror adds at most 0.5 s to a trivial run.

Usage::

    python benchmarks/bench_mirror.py [--repeat 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import bench_main, ensure_bytecode_caching


def _trivial(root: Path) -> float:
    import runlab

    start = time.perf_counter()
    with runlab.start_run(root=root, params={"a": 1, "b": "x", "c": 0.5}, capture=False) as run:
        for step in range(5):
            run.log_metric("loss", 1 / (step + 1))
    return time.perf_counter() - start


def _manager(project: Path, mirror: bool, background: bool) -> Any:
    from runlab.plugins import PluginManager

    lines = ["[tool.runlab.plugins]", 'enabled = ["mlflow"]' if mirror else "enabled = []", 'disabled = ["system"]']
    if mirror:
        lines += ["[tool.runlab.plugins.mlflow]", f"background = {'true' if background else 'false'}"]
    (project / "pyproject.toml").write_text("\n".join(lines) + "\n")
    pm = PluginManager(project)
    for record in pm.plugins():
        if record.name != "mlflow":
            pm._unload(record, "not measured")
    return pm.activate()


def run(repeat: int = 15) -> dict[str, Any]:
    import mlflow  # noqa: F401  (the target is stated after the first import)

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="runlab-bench-mirror-") as tmp:
        project = Path(tmp)
        root = project / "runs"
        cwd = os.getcwd()
        os.chdir(project)
        try:
            pm = _manager(project, True, True)
            _trivial(root)  # warm-up: creates the MLflow database and experiment
            pm.get("mlflow").plugin.flush()
            pm.close()
            times: dict[str, list[float]] = {}
            drain: list[float] = []
            for case, mirror, background in (("plain", False, True), ("background", True, True),
                                              ("synchronous", True, False)):  # fmt: skip
                pm = _manager(project, mirror, background)
                _trivial(root)  # untimed: clients and connections of this manager
                if mirror:
                    pm.get("mlflow").plugin.flush()
                times[case] = [_trivial(root) for _ in range(repeat)]
                if mirror and background:
                    start = time.perf_counter()
                    pm.get("mlflow").plugin.flush()
                    drain.append(time.perf_counter() - start)
                pm.close()
        finally:
            os.chdir(cwd)
    plain = statistics.median(times["plain"])
    for case, values in times.items():
        results[case] = {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values)}
    results["added_s"] = results["background"]["median_s"] - plain
    results["added_synchronous_s"] = results["synchronous"]["median_s"] - plain
    results["drain_after_s"] = drain[0] if drain else None
    results["repeat"] = repeat
    return results


def report(results: dict[str, Any]) -> None:
    print(f"trivial run (5 metric points) in process, median of {results['repeat']}, MLflow already imported")
    for case in ("plain", "background", "synchronous"):
        r = results[case]
        low, high = r["min_s"] * 1000, r["max_s"] * 1000
        print(f"  {case:<12} {r['median_s'] * 1000:8.1f} ms   (min {low:.1f}, max {high:.1f})")
    print(f"  mirror adds {results['added_s'] * 1000:.1f} ms per run in the background (target <= 500 ms); "
          f"{results['added_synchronous_s'] * 1000:.1f} ms when synchronous")  # fmt: skip
    print(f"  sending the {results['repeat']} queued mirrors afterwards took {results['drain_after_s']:.2f} s")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per case")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.repeat), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
