"""PyComex's ExperimentCLI (seed 000, section 5.3), ported by changing the import.

Was ``from pycomex.cli import ExperimentCLI``. The seed's placeholder paths are this folder's
``experiments/`` and the store (RUNLAB_ROOT, else ``./results`` of the current folder)::

    python cli.py list-experiments
    python cli.py experiment-info quadratic
    python cli.py run-experiment quadratic --NUM_STEPS=3
"""

import os
from pathlib import Path

from runlab.cli import ExperimentCLI

cli = ExperimentCLI(
    name="my_experiments",
    experiments_path=Path(__file__).parent / "experiments",
    experiments_base_path=os.environ.get("RUNLAB_ROOT", "results"),
    version="1.0.0",
)

if __name__ == "__main__":
    cli()
