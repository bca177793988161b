"""A tiny plain training script: fit y = 2x with mini-batch SGD, in pure Python.

Its lowercase globals are the knobs that examples/configs/sweep_config.py sets::

    python examples/scripts/train.py
    runlab run examples/scripts/train.py --learning_rate=0.05
    runlab run examples/scripts/train.py -c examples/configs/sweep_config.py   # 9 runs

It never imports runlab; the final loss is the run's result.
"""

import random

learning_rate = 0.01  # step size of SGD
batch_size = 32  # samples per step
experiment_name = "baseline"  # a label printed with the results
epochs = 5  # passes over the data
seed = 0  # random seed for the data and the batch order


def make_data(n=256):
    rng = random.Random(seed)
    xs = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    return [(x, 2.0 * x + rng.gauss(0.0, 0.05)) for x in xs]


def mse(w, data):
    return sum((w * x - y) ** 2 for x, y in data) / len(data)


def main():
    data = make_data()
    rng = random.Random(seed + 1)
    w = 0.0
    for epoch in range(epochs):
        rng.shuffle(data)
        for start in range(0, len(data), batch_size):
            batch = data[start : start + batch_size]
            grad = sum(2.0 * (w * x - y) * x for x, y in batch) / len(batch)
            w -= learning_rate * grad
        print(f"[{experiment_name}] epoch {epoch}: w={w:.4f} loss={mse(w, data):.5f}")
    return mse(w, data)


if __name__ == "__main__":
    main()
