"""Sweep throughput: runs/s of trivial runs (local -j 2 and inline) and parallel efficiency.

Three measurements, each in a fresh temporary folder outside any git repository:

1. ``--runs`` (100) trivial runs of a functional experiment, each in its own process, with the
   ``local`` executor and 2 workers: runs/s from the first submission to the last result, and the
   same including the executor's start (its fork server). Also the whole ``runlab run FILE
   --sweep X=0,...,99 -j 2`` command as a process.
2. The same runs with the ``inline`` executor (one process, one after another): runs/s.
3. ``--cpu-runs`` (200) runs of ``--cpu-ms`` (50) ms of CPU work each, with ``local`` and ``dask``,
   on 1 worker and on 2: parallel efficiency = wall(1 worker) / (2 x wall(2 workers)) (speedup per
   worker); also the CPU work alone against the 2-worker wall time (runs x CPU time / 2 / wall).

Each timed sweep starts after ``os.sync()``: the files the previous measurement wrote are on disk
first, so their write-back does not slow this one's fsyncs.

Usage::

    python benchmarks/bench_sweep.py [--runs 100] [--cpu-runs 200] [--cpu-ms 50] [--no-dask] [--json out.json]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PYTHON, REPO, bench_main, clean_env, ensure_bytecode_caching

TRIVIAL = """\
from runlab import Experiment

X = 0

experiment = Experiment(glob=globals())


@experiment
def main(e):
    e["x"] = e.X


experiment.run_if_main()
"""

CPU = """\
import time

X = 0
CPU_MS = 50


def main():
    end = time.process_time() + CPU_MS / 1000
    n = 0
    while time.process_time() < end:
        n += 1
    return n
"""


def _sweep(folder: Path, script: str, values: dict[str, list[Any]], executor: str, workers: int) -> dict[str, float]:
    """Run one sweep through the Python API; wall times with and without the executor's start."""
    import itertools

    from runlab.executors import get_executor
    from runlab.request import RunOptions
    from runlab.sweep import build_requests, plan_sweep, run_sweep

    names = list(values)
    argvs = [[f"--{n}={v}" for n, v in zip(names, combo, strict=True)] for combo in itertools.product(*values.values())]
    folder.mkdir(exist_ok=True)
    path = folder / "exp.py"
    path.write_text(script)
    root = folder / "runs"
    sweep_id, configs = plan_sweep(build_requests(path, argvs, options=RunOptions(root=str(root))))
    os.sync()  # start with nothing left to write back from the previous measurement (it would slow fsyncs)
    start = time.perf_counter()
    options = {} if executor == "inline" else {"workers": workers}
    with get_executor(executor, settings=False, **options) as ex:
        if executor == "local":  # start the fork server with one untimed run outside the sweep
            [(_, warm)] = build_requests(path, [[]], options=RunOptions(root=str(folder / "warm")))
            ex.submit(warm)
            [result] = ex.results()
            assert result.status == "completed", result.error
        ready = time.perf_counter()
        record = run_sweep(configs, sweep_id, root, ex, on_hook=lambda *a, **k: None)
        end = time.perf_counter()
    assert record.state == "completed", record.counts()
    return {"wall_s": end - ready, "wall_with_start_s": end - start, "runs": len(configs)}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="runlab-bench-sweep-") as tmp:
        base = Path(tmp)
        cwd = os.getcwd()
        try:
            for name, executor in (("local_j2", "local"), ("inline", "inline")):
                folder = base / name
                folder.mkdir()
                os.chdir(folder)
                r = _sweep(folder, TRIVIAL, {"X": list(range(args.runs))}, executor, 2)
                r["runs_per_s"] = r["runs"] / r["wall_s"]
                r["runs_per_s_with_start"] = r["runs"] / r["wall_with_start_s"]
                results[name] = r
            folder = base / "cli"
            folder.mkdir()
            (folder / "exp.py").write_text(TRIVIAL)
            xs = ",".join(map(str, range(args.runs)))
            cmd = [PYTHON, "-m", "runlab", "--root", "runs", "run", "exp.py", "--sweep", f"X={xs}", "-j", "2"]
            env = clean_env(PYTHONPATH=str(REPO / "src"))
            start = time.perf_counter()
            subprocess.run(cmd, cwd=folder, env=env, capture_output=True, check=True)
            wall = time.perf_counter() - start
            results["cli_local_j2"] = {"wall_s": wall, "runs": args.runs, "runs_per_s": args.runs / wall}
            executors = ["local"] if args.no_dask else ["local", "dask"]
            for executor in executors:
                folder = base / f"cpu-{executor}"
                folder.mkdir()
                os.chdir(folder)
                script = CPU.replace("CPU_MS = 50", f"CPU_MS = {args.cpu_ms}")
                one = _sweep(folder / "1", script, {"X": list(range(args.cpu_runs))}, executor, 1)
                r = _sweep(folder / "2", script, {"X": list(range(args.cpu_runs))}, executor, 2)
                r["wall_1_worker_s"] = one["wall_s"]
                r["efficiency"] = one["wall_s"] / (2 * r["wall_s"])
                r["efficiency_pct"] = 100 * r["efficiency"]
                r["cpu_efficiency"] = args.cpu_runs * args.cpu_ms / 1000 / 2 / r["wall_s"]
                results[f"efficiency_{executor}"] = r
        finally:
            os.chdir(cwd)
    return results


def report(results: dict[str, Any]) -> None:
    print("Sweeps (figures depend on the load of the machine: measure on a quiet one)")
    for key, label in (("local_j2", "local -j 2"), ("inline", "inline")):
        r = results[key]
        print(f"  {r['runs']} trivial runs, {label}: {r['runs_per_s']:.1f} runs/s "
              f"({r['wall_s']:.2f} s; with the executor's start {r['runs_per_s_with_start']:.1f} runs/s)")  # fmt: skip
    r = results["cli_local_j2"]
    print(f"  runlab run --sweep ({r['runs']} runs) -j 2 as a process: {r['runs_per_s']:.1f} runs/s "
          f"({r['wall_s']:.2f} s)")  # fmt: skip
    for key in ("efficiency_local", "efficiency_dask"):
        if key in results:
            r = results[key]
            print(f"  {r['runs']} CPU-bound runs, {key.split('_')[1]}: {100 * r['efficiency']:.0f}% parallel "
                  f"efficiency (1 worker {r['wall_1_worker_s']:.2f} s, 2 workers {r['wall_s']:.2f} s; "
                  f"CPU work / 2-worker wall: {100 * r['cpu_efficiency']:.0f}%)")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=100, help="trivial runs per sweep (default 100)")
    parser.add_argument("--cpu-runs", type=int, default=200, help="CPU-bound runs (default 200)")
    parser.add_argument("--cpu-ms", type=int, default=50, help="CPU milliseconds per run (default 50)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask efficiency measurement")


if __name__ == "__main__":
    ensure_bytecode_caching()
    bench_main(__doc__, add_arguments, measure, report)
