"""PyComex's mixin of section 8.1 (seed 000), ported by changing the import.

Was ``from pycomex.functional.mixin import ExperimentMixin``.
"""

from runlab import ExperimentMixin

MIXIN_LOG_LEVEL: str = "INFO"

mixin = ExperimentMixin(glob=globals())


@mixin.hook("before_run", replace=False)
def setup_logging(e):
    e.log(f"Logging level: {e.MIXIN_LOG_LEVEL}")


@mixin.hook("after_run", replace=False)
def teardown_logging(e):
    e.log("Logging cleanup")
