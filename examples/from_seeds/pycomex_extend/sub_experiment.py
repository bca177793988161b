"""PyComex's sub experiment of section 2.5 (seed 000), ported by changing the imports.

Was ``from pycomex.functional.experiment import Experiment``. Mixins can be added without
changing this file (PyComex's ``__INCLUDE__``)::

    python sub_experiment.py --__INCLUDE__=logging_mixin.py --MIXIN_LOG_LEVEL=DEBUG
    runlab run sub_experiment.py -p __INCLUDE__=logging_mixin.py
"""

from runlab import Experiment, file_namespace, folder_path

# Extend base experiment with parameter override
experiment = Experiment.extend(
    experiment_path="base_experiment.py",
    base_path=folder_path(__file__),
    namespace=file_namespace(__file__),
    glob=globals(),
)

# Override parameter
experiment.BASE_PARAM = 20


# Add/override hooks
@experiment.hook("before_run")
def before_run(e):
    e.log("Sub-experiment before_run")


# Define main code
@experiment
def run_sub(e):
    e.log("Sub code")


experiment.run_if_main()
