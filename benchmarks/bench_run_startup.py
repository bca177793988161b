"""Start-up of ``runlab run``: a whole process running a trivial experiment, next to ``start_run``.

Each figure is the median of ``--repeat`` fresh processes (one untimed warm-up first,
bytecode caching on), with the default capture (git, environment, code snapshot), into one
store, in a temporary folder outside any git repository:

- ``start_run``: ``python -c "import runlab; with runlab.start_run(...) as run: run.log_metric(...)"``;
- ``runlab run script``: ``python -m runlab run trivial.py`` of a plain script (``def main(): return x``);
- ``runlab run functional``: ``python -m runlab run exp.py`` of a trivial functional experiment;
- ``runlab.execute``: ``python -m runlab.execute request.json`` of the plain script's run request.

Targets (issue 11): each ``runlab run`` at most 1.5x the ``start_run`` process, and that one
under 100 ms.

Usage::

    python benchmarks/bench_run_startup.py [--repeat 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import PYTHON, bench_main, ensure_bytecode_caching, fmt_ms, time_process

START_RUN = """\
import runlab

with runlab.start_run(params={{"a": 1}}, root={root!r}) as run:
    run.log_metric("m", 1.0)
"""
SCRIPT = "x = 1\n\n\ndef main():\n    return x\n"
FUNCTIONAL = """\
from runlab import Experiment

A = 1
experiment = Experiment(glob=globals())


@experiment
def main(e):
    return e.A


experiment.run_if_main()
"""
RATIO = 1.5
START_RUN_LIMIT = 0.100


def run(repeat: int = 15) -> dict[str, Any]:
    """Median seconds of each variant, and the ratios to the ``start_run`` process."""
    from runlab.request import RunOptions, RunRequest, Target

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="runlab-bench-startup-") as tmp:
        work = Path(tmp)
        root = str(work / "store")
        (work / "trivial.py").write_text(SCRIPT)
        (work / "exp.py").write_text(FUNCTIONAL)
        request = RunRequest(Target("script", work / "trivial.py"), options=RunOptions(root=root))
        request.write(work / "request.json")
        run_args = ["--root", root]
        variants = {
            "start_run": [PYTHON, "-c", START_RUN.format(root=root)],
            "runlab_run_script": [PYTHON, "-m", "runlab", "run", "trivial.py", *run_args],
            "runlab_run_functional": [PYTHON, "-m", "runlab", "run", "exp.py", *run_args],
            "runlab_execute": [PYTHON, "-m", "runlab.execute", "request.json"],
        }
        for name, argv in variants.items():
            times = time_process(argv, repeat, cwd=work)
            results[name] = statistics.median(times)
            results[name + "_min"] = min(times)
    base = results["start_run"]
    for name in ("runlab_run_script", "runlab_run_functional", "runlab_execute"):
        results[name + "_ratio"] = results[name] / base
    return results


def report(r: dict[str, Any]) -> None:
    print("start-up as a whole process (median [min]); measured under load unless the machine is quiet")
    for name in ("start_run", "runlab_run_script", "runlab_run_functional", "runlab_execute"):
        ratio = f"  {r[name + '_ratio']:.2f}x start_run" if name + "_ratio" in r else ""
        print(f"  {name.replace('_', ' '):<24} {fmt_ms(r[name]):>9}  [{fmt_ms(r[name + '_min'])}]{ratio}")
    ok_ratio = all(r[n + "_ratio"] <= RATIO for n in ("runlab_run_script", "runlab_run_functional"))
    fast = r["start_run"] < START_RUN_LIMIT
    print(f"  target: runlab run <= {RATIO}x start_run: {'PASS' if ok_ratio else 'MISS'}; "
          f"start_run < {fmt_ms(START_RUN_LIMIT)}: {'PASS' if fast else 'MISS'}")  # fmt: skip


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=int, default=15, help="timed processes per variant")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.repeat), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
