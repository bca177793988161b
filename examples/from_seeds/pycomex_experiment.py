"""PyComex's experiment of section 2.1 (seed 000), ported by changing the imports.

Was::

    from pycomex.functional.experiment import Experiment
    from pycomex.utils import folder_path, file_namespace

Its runs go beside this file, to ``results/pycomex_experiment/`` (ignored by git).
"""

from runlab import Experiment, file_namespace, folder_path

# Parameters (uppercase globals are auto-discovered)
LEARNING_RATE: float = 0.001
BATCH_SIZE: int = 32

# Create experiment instance with decorator
experiment = Experiment(
    base_path=folder_path(__file__),  # Archive parent path
    namespace=file_namespace(__file__),  # Folder structure namespace
    glob=globals(),  # Module globals for parameter discovery
    debug=False,  # True = reuse "debug" folder
    name_format="{date}__{time}__{id}",  # Archive folder naming
    notify=True,  # Enable notifications
    console_width=120,  # Output formatting width
)


# Decorate main experiment function
@experiment
def run_experiment(e: Experiment) -> None:
    """Main experiment implementation"""
    e.log("Starting experiment...")
    e["results/accuracy"] = 0.95

    # Access parameters via e.PARAMETER_NAME
    print(e.LEARNING_RATE)


# Run if this module is executed directly
experiment.run_if_main()
