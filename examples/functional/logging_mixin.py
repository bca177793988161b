"""A mixin (PyComex seed 8.1): hooks and a parameter that several experiments share."""

from runlab import ExperimentMixin

MIXIN_LOG_LEVEL: str = "INFO"  # level of the mixin's log messages

mixin = ExperimentMixin(glob=globals())


@mixin.hook("before_run", replace=False)
def setup_logging(e):
    e.log(f"mixin: before_run (logging level: {e.MIXIN_LOG_LEVEL})")


@mixin.hook("after_run", replace=False)
def teardown_logging(e):
    e.log("mixin: after_run (logging cleanup)")
