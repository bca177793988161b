"""A tiny training loop written as a PyComex-style functional experiment.

Its UPPERCASE globals are the parameters; this docstring is each run's description.
Run it with ``python base_experiment.py --LEARNING_RATE=0.2`` (``--help`` lists the
parameters), or extend it: see ``sub_experiment.py``.
"""

from runlab import Experiment

# Step size of the optimiser.
LEARNING_RATE: float = 0.1
NUM_EPOCHS: int = 5  # passes over the data
BATCH_SIZE: int = 32  # samples per step
BASE_PARAM: int = 10  # a value sub-experiments override

experiment = Experiment(glob=globals())


@experiment.hook("before_run")
def announce(e):
    e.log("base: before_run")


@experiment.hook("compute_loss", default=True)
def quadratic_loss(e, weight):
    """The loss of the model: a default that sub-experiments may replace."""
    return (weight - 3.0) ** 2


@experiment
def run_base(e):
    e.log("base: main")
    e.log_parameters()
    weight = 0.0
    for epoch in range(e.NUM_EPOCHS):
        loss = e.apply_hook("compute_loss", weight=weight)
        weight += e.LEARNING_RATE * 2 * (3.0 - weight)
        e.track("loss", loss)
        e.log(f"epoch {epoch}: loss {loss:.4f}")
    e["results/weight"] = weight
    e["results/base_param"] = e.BASE_PARAM
    e["_scratch/weights"] = [weight]  # in memory only: keys starting with "_" are not saved
    e.commit_json("summary.json", {"weight": weight, "epochs": e.NUM_EPOCHS})


@experiment.hook("after_run")
def goodbye(e):
    e.log("base: after_run")


experiment.run_if_main()
