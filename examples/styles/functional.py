"""Fit y = 2x + 1 with gradient descent: the functional style.

python examples/styles/functional.py --LEARNING_RATE=0.05
runlab run examples/styles/functional.py --EPOCHS=50
"""

from runlab import Experiment

# Step size of gradient descent.
LEARNING_RATE: float = 0.5
EPOCHS: int = 60  # passes over the data
POINTS: int = 20  # samples of y = 2x + 1 on [0, 1]

experiment = Experiment(glob=globals())


@experiment
def main(e: Experiment) -> None:
    xs = [i / (e.POINTS - 1) for i in range(e.POINTS)]
    ys = [2 * x + 1 for x in xs]
    w, b = 0.0, 0.0
    for _ in range(e.EPOCHS):
        errors = [w * x + b - y for x, y in zip(xs, ys, strict=True)]
        w -= e.LEARNING_RATE * 2 * sum(err * x for err, x in zip(errors, xs, strict=True)) / len(xs)
        b -= e.LEARNING_RATE * 2 * sum(errors) / len(xs)
        e.track("loss", sum(err * err for err in errors) / len(xs))
    e["fit/w"], e["fit/b"] = w, b
    e.log(f"fitted y = {w:.3f}x + {b:.3f}")


experiment.run_if_main()
