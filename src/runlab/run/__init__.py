"""The run lifecycle: creation, states, heartbeat, tracking and capture."""

from ._api import start_run
from ._data import RunData
from ._run import Run, RunTerminated

__all__ = ["Run", "RunData", "RunTerminated", "start_run"]
