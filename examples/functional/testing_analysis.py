"""Fit a line to noisy points; shows @experiment.testing and @experiment.analysis.

``python testing_analysis.py --__TESTING__=true`` runs a quick check with fewer points and
steps. Every run's folder gets an ``analysis.py`` holding the analysis function below:
``python <run folder>/analysis.py`` prints the fit of that archived run.
"""

import math
import random

from runlab import Experiment

NUM_POINTS: int = 200  # points to fit
NUM_STEPS: int = 50  # gradient steps
LEARNING_RATE: float = 0.5  # step size
SEED: int = 1  # random seed of the data

experiment = Experiment(glob=globals())


@experiment.testing
def shrink(e):
    """Testing mode: a handful of points and steps, enough to check the code."""
    e.NUM_POINTS = 10
    e.NUM_STEPS = 3


@experiment
def fit(e):
    rng = random.Random(e.SEED)
    xs = [rng.uniform(-1, 1) for _ in range(e.NUM_POINTS)]
    ys = [2.0 * x + 0.5 + rng.gauss(0, 0.1) for x in xs]
    slope = intercept = 0.0
    for _ in range(e.NUM_STEPS):
        errors = [slope * x + intercept - y for x, y in zip(xs, ys, strict=True)]
        slope -= e.LEARNING_RATE * 2 * sum(err * x for err, x in zip(errors, xs, strict=True)) / len(xs)
        intercept -= e.LEARNING_RATE * 2 * sum(errors) / len(xs)
        e.track("mse", sum(err * err for err in errors) / len(xs))
    e["fit/slope"] = slope
    e["fit/intercept"] = intercept
    e.commit_raw("fit.txt", f"y = {slope:.3f} x + {intercept:.3f}\n")


@experiment.analysis
def report(e):
    """Print the fitted line and how the error fell."""
    mse = e.metrics("mse").values
    print(f"fit: y = {e['fit/slope']:.3f} x + {e['fit/intercept']:.3f} from {e.NUM_POINTS} points")
    print(f"mse: {mse[0]:.4f} -> {mse[-1]:.4f} in {len(mse)} steps (finite: {math.isfinite(mse[-1])})")


experiment.run_if_main()
