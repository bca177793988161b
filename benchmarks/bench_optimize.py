"""Study overhead: runlab's cost per trial over raw ``study.optimize`` with the same objective, inline.

Both sides use the same objective (a quadratic of one float parameter), the same sampler
(``RandomSampler(seed=0)``, so the sampler's own cost is equal and small) and the same storage kind
(Optuna's JournalStorage with a JournalFileBackend in a fresh temporary folder):

1. raw: ``study.optimize(objective, n_trials=N)``;
2. runlab: ``run_study`` with the ``inline`` executor: every trial a full run in the store
   (folder, ``run.json``, index row, capture as by default) linked to its study and trial.

Overhead per trial = (runlab wall - raw wall) / N. Both are measured ``--repeat`` times after an
untimed warm-up; the median is reported.

Usage::

    python benchmarks/bench_optimize.py [--trials 100] [--repeat 3] [--json out.json]
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

EXPERIMENT = """\
from runlab import Experiment

XV = 0.0

experiment = Experiment(glob=globals())


@experiment
def main(e):
    return (e.XV - 2) ** 2


experiment.run_if_main()
"""


def _raw(folder: Path, trials: int) -> float:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(folder / "raw.log")))
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: Any) -> float:
        return (trial.suggest_float("XV", -5, 5) - 2) ** 2

    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return time.perf_counter() - start


def _runlab(folder: Path, trials: int) -> float:
    from runlab.executors import get_executor
    from runlab.sweep import open_study, plan_study, run_study

    path = folder / "quad.py"
    path.write_text(EXPERIMENT)
    root = folder / "runs"
    spec, planner = plan_study(str(path), root=root, search=["XV=float(-5,5)"], sampler="random", seed=0)
    study, record = open_study(spec, str(path))
    with get_executor("inline") as executor:
        start = time.perf_counter()
        run_study(study, record, spec, planner, executor, n_trials=trials)
        return time.perf_counter() - start


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    raw, ours = [], []
    cwd = os.getcwd()
    for i in range(args.repeat + 1):
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                r, o = _raw(Path(tmp), args.trials), _runlab(Path(tmp), args.trials)
            finally:
                os.chdir(cwd)
        if i:  # the first round warms imports and caches
            raw.append(r)
            ours.append(o)
    raw_s, ours_s = statistics.median(raw), statistics.median(ours)
    n = args.trials
    return {"trials": n, "raw_s": raw_s, "runlab_s": ours_s, "overhead_ms_per_trial": 1000 * (ours_s - raw_s) / n,
            "raw_ms_per_trial": 1000 * raw_s / n, "runlab_ms_per_trial": 1000 * ours_s / n}  # fmt: skip


def report(results: dict[str, Any]) -> None:
    print("Optimize overhead, inline (figures depend on the load of the machine: measure on a quiet one)")
    print(f"  {results['trials']} trials: raw study.optimize {results['raw_ms_per_trial']:.2f} ms/trial, "
          f"runlab {results['runlab_ms_per_trial']:.2f} ms/trial")  # fmt: skip
    print(f"  overhead per trial: {results['overhead_ms_per_trial']:.2f} ms (target <= 15 ms)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=100, help="trials per study (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3; median)")


if __name__ == "__main__":
    ensure_bytecode_caching()
    bench_main(__doc__, add_arguments, measure, report)
