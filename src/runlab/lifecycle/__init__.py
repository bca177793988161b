"""The run lifecycle: creation, states, heartbeat, tracking and capture."""

from ._api import start_run
from ._data import RunData
from ._events import EVENTS, RunListener, add_listener
from ._manager import ExperimentManager
from ._run import Run, RunTerminated, finish_open_runs, open_runs

__all__ = [
    "EVENTS",
    "ExperimentManager",
    "Run",
    "RunData",
    "RunListener",
    "RunTerminated",
    "add_listener",
    "finish_open_runs",
    "open_runs",
    "start_run",
]
