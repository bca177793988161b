"""A small experiment to sweep: fit y = 2x + 1 by gradient descent and log the final loss.

runlab run examples/sweeps/train.py --sweep LEARNING_RATE=0.05,0.1,0.5 --sweep EPOCHS=20,80 -j 2 --root /tmp/runs
runlab run examples/sweeps/train.py -p "LEARNING_RATE=loguniform(1e-3, 1)" --samples 8 --seed 1 --root /tmp/runs
runlab sweep show ID --sort loss --root /tmp/runs
"""

import runlab

LEARNING_RATE = 0.1
EPOCHS = 50


def main():
    xs = [i / 19 for i in range(20)]
    w = b = 0.0
    for _ in range(EPOCHS):
        errors = [w * x + b - (2 * x + 1) for x in xs]
        w -= LEARNING_RATE * 2 * sum(e * x for e, x in zip(errors, xs, strict=True)) / len(xs)
        b -= LEARNING_RATE * 2 * sum(errors) / len(xs)
    loss = sum(e * e for e in errors) / len(xs)
    runlab.log_results({"loss": loss})
    return loss
