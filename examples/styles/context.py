"""Fit y = 2x + 1 with gradient descent: the context-manager style.

python examples/styles/context.py
runlab run examples/styles/context.py
"""

import runlab

with runlab.run(params={"learning_rate": 0.5, "epochs": 60, "points": 20}, namespace="context") as run:
    lr, epochs, points = (runlab.get_param(k) for k in ("learning_rate", "epochs", "points"))
    xs = [i / (points - 1) for i in range(points)]
    ys = [2 * x + 1 for x in xs]
    w, b = 0.0, 0.0
    for epoch in range(epochs):
        errors = [w * x + b - y for x, y in zip(xs, ys, strict=True)]
        w -= lr * 2 * sum(err * x for err, x in zip(errors, xs, strict=True)) / len(xs)
        b -= lr * 2 * sum(errors) / len(xs)
        runlab.log_results({"loss": sum(err * err for err in errors) / len(xs)}, step=epoch)
    runlab.log_results({"w": w, "b": b})
    print(f"fitted y = {w:.3f}x + {b:.3f}")
