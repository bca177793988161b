"""A synthetic learning curve for pruning: the loss falls faster for a larger RATE."""

# Each epoch logs val_loss with its step; the median pruner stops trials whose curve is worse
# than the median of earlier trials at the same step (their runs end ``pruned``).
#
# runlab optimize examples/optimize/learning_curve.py -n 30 --search "RATE=float(0.01,1)" \
#     --objective metrics.val_loss --pruner median --sampler random --seed 3 --root /tmp/runs
# runlab list --where "status == 'pruned'" --root /tmp/runs

import math
import time

import runlab

RATE: float = 0.5  # how fast the loss falls
EPOCHS: int = 20
EPOCH_SECONDS: float = 0.0  # sleep per epoch, to watch it in the progress bar

experiment = runlab.Experiment(namespace="learning_curve", glob=globals())


@experiment
def main(e):
    loss = 1.0
    for epoch in range(e.EPOCHS):
        loss = math.exp(-e.RATE * epoch / 5) + 0.01
        e.track("val_loss", loss)  # logged with its step: reported to the pruner
        time.sleep(e.EPOCH_SECONDS)
    return loss


experiment.run_if_main()
