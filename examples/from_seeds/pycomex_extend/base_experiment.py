"""PyComex's base experiment of section 2.5 (seed 000), ported by changing the imports.

Was ``from pycomex.functional.experiment import Experiment`` and ``from pycomex.utils import
folder_path, file_namespace``. The parameters after ``BASE_PARAM`` are those of PyComex's INHERIT
documentation (``inherit_experiment.py`` extends them). Its runs go beside this file, to
``results/`` (ignored by git).
"""

from runlab import Experiment, file_namespace, folder_path

BASE_PARAM = 10

# The base values inherit_experiment.py takes with INHERIT.
LEARNING_RATE: float = 0.01
BATCH_SIZE: int = 32
DATA_PATHS: list = ["/data/a", "/data/b"]
CONFIG: dict = {"optimizer": "adam"}
MODEL_NAME: str = "resnet18"

experiment = Experiment(
    base_path=folder_path(__file__),
    namespace=file_namespace(__file__),
    glob=globals(),
)


@experiment
def run_base(e):
    e.log("Base code")


experiment.run_if_main()
