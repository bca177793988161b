"""The base experiment with another BASE_PARAM and the logging mixin (PyComex seeds 2.5, 8.2)."""

from runlab import Experiment

NUM_EPOCHS: int = 3  # fewer epochs than the base

# Extend the base experiment: its parameters, hooks and main function are inherited.
experiment = Experiment.extend(
    experiment_path="base_experiment.py",
    glob=globals(),
)

# Override a parameter.
experiment.BASE_PARAM = 20

# Include a mixin: hooks run base -> mixin -> this file.
experiment.include("logging_mixin.py")


# Add a hook.
@experiment.hook("before_run")
def before_run(e):
    e.log("sub: before_run")


experiment.run_if_main()
