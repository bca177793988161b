"""A small learning-rate sweep recorded with runlab.

Run it with ``make demo`` (or ``python examples/quickstart.py``). Each training run
records parameters, a loss curve, a figure, user data and an artifact into the default
store (``./runs``), then the script prints ``runlab list`` and the best run.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from pathlib import Path

import runlab


def train(run: runlab.Run, lr: float, epochs: int) -> list[float]:
    """A toy 'training loop': the loss decays at a rate set by the learning rate."""
    rng = random.Random(int(lr * 1e6))
    losses = []
    for epoch in range(epochs):
        loss = math.exp(-lr * 40 * (epoch + 1)) + 0.05 + rng.random() * 0.01
        run.log_metrics({"loss": loss, "accuracy": 1.0 - loss / 2}, step=epoch)
        losses.append(loss)
    return losses


def main() -> None:
    for lr in (0.003, 0.01, 0.03):
        with runlab.start_run(namespace="quickstart", name=f"lr={lr}", params={"lr": lr, "epochs": 20},
                              tags=["demo"], description="toy exponential-decay training") as run:  # fmt: skip
            print(f"training with lr={lr} (run {run.id})")
            losses = train(run, lr, epochs=20)
            run.data["final/loss"] = losses[-1]
            run.save_json("summary.json", {"lr": lr, "final_loss": losses[-1]})
            try:
                import matplotlib

                matplotlib.use("Agg")
                import matplotlib.pyplot as plt

                fig, ax = plt.subplots(figsize=(4, 3))
                ax.plot(losses)
                ax.set(xlabel="epoch", ylabel="loss", title=f"lr={lr}")
                run.log_figure(fig, "loss.png", dpi=80)
                plt.close(fig)
            except ImportError:
                pass

    best = runlab.runs(namespace="quickstart", status="completed", order_by="metrics.loss", limit=1)[0]
    print(f"\nbest run: {best.id} (lr={best.params['lr']}, final loss {best.summaries['loss'].last:.4f})\n")
    subprocess.run([sys.executable, "-m", "runlab", "list", "--namespace", "quickstart", "--limit", "6"], check=True)
    cli = Path(sys.executable).parent / "runlab"
    cli_text = os.path.relpath(cli) if cli.exists() else "runlab"
    print(f"\nWhere to look:\n  runs folder   {best.path.parent}\n  best run      {best.path}\n"
          f"  details       {cli_text} show {best.id}\n"
          f"  query         {cli_text} list --where \"metrics.loss < 0.2\"")  # fmt: skip


if __name__ == "__main__":
    main()
