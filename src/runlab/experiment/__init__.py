"""The ways to define an experiment; all of them create runs through the run core.

The context-manager style (Yanex)::

    with runlab.run(params={"lr": 0.1}) as run:
        runlab.log_results({"loss": 0.5}, step=0)
"""

from ._context import (
    RunContext,
    cancel,
    completed,
    fail,
    get_param,
    get_params,
    get_status,
    log_artifact,
    log_matplotlib_figure,
    log_results,
    log_text,
    run,
)
from ._current import current_run
from ._driver import RunDriver

__all__ = [
    "RunContext",
    "RunDriver",
    "cancel",
    "completed",
    "current_run",
    "fail",
    "get_param",
    "get_params",
    "get_status",
    "log_artifact",
    "log_matplotlib_figure",
    "log_results",
    "log_text",
    "run",
]
