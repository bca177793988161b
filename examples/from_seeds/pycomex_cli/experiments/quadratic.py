"""Minimise (w - 3)^2 by gradient descent."""

from runlab import Experiment

# Step size of gradient descent.
LEARNING_RATE: float = 0.1
NUM_STEPS: int = 5  # gradient steps

experiment = Experiment(glob=globals())


@experiment
def run(e):
    w = 0.0
    for _ in range(e.NUM_STEPS):
        w -= e.LEARNING_RATE * 2 * (w - 3.0)
        e.track("loss", (w - 3.0) ** 2)
    e["results/w"] = w
    e.log(f"w = {w:.4f}")


experiment.run_if_main()
