"""PyComex's INHERIT example ("Parameter Inheritance with INHERIT", docs/basics_inherit.md),
ported by changing the imports.

Was ``from pycomex.functional.experiment import Experiment``, ``from pycomex import INHERIT`` and
``from pycomex.utils import file_namespace, folder_path``.
"""

from runlab import INHERIT, Experiment, file_namespace, folder_path

# Explicitly inherit from parent (self-documenting)
LEARNING_RATE = INHERIT

# Double the parent's value
BATCH_SIZE = INHERIT(lambda x: x * 2)

# Extend the parent's list
DATA_PATHS = INHERIT(lambda x: x + ["/data/extra"])  # noqa: RUF005 (the example as PyComex wrote it)

# Merge into the parent's dict
CONFIG = INHERIT(lambda x: {**x, "new_key": "new_value"})

# Regular override (existing behavior, unchanged)
MODEL_NAME = "resnet50"

experiment = Experiment.extend(
    experiment_path="base_experiment.py",
    base_path=folder_path(__file__),
    namespace=file_namespace(__file__),
    glob=globals(),
)


@experiment
def run(e: Experiment):
    e.log(f"Learning rate: {e.LEARNING_RATE}")  # parent's original value
    e.log(f"Batch size: {e.BATCH_SIZE}")  # parent's value * 2
    e.log(f"Data paths: {e.DATA_PATHS}")  # parent's list + extra


experiment.run_if_main()
