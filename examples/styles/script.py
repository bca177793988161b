"""Fit y = 2x + 1 with gradient descent: a plain script, no runlab inside.

python examples/styles/script.py
runlab run examples/styles/script.py --learning_rate=0.05
"""

learning_rate = 0.5  # step size of gradient descent
epochs = 60  # passes over the data
points = 20  # samples of y = 2x + 1 on [0, 1]


def main() -> dict[str, float]:
    xs = [i / (points - 1) for i in range(points)]
    ys = [2 * x + 1 for x in xs]
    w, b = 0.0, 0.0
    for _ in range(epochs):
        errors = [w * x + b - y for x, y in zip(xs, ys, strict=True)]
        w -= learning_rate * 2 * sum(err * x for err, x in zip(errors, xs, strict=True)) / len(xs)
        b -= learning_rate * 2 * sum(errors) / len(xs)
    print(f"fitted y = {w:.3f}x + {b:.3f}")
    return {"w": w, "b": b}


if __name__ == "__main__":
    main()
