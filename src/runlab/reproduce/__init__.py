"""Reproduce a run: rebuild its environment with uv and run its archived code again.

Example (a run recorded with ``reproducible=True``)::

    runlab reproduce 3f2a9c1e            # build its environment (or reuse a finished one), rerun, compare
    runlab reproduce 3f2a9c1e --env-only # only the environment; prints how to activate it
"""

from ._env import (
    ReproduceError,
    RunEnvironment,
    build_environment,
    environment_folder,
    read_dependencies,
    shared_environment,
)
from ._rerun import archived_request, run_in_environment

__all__ = [
    "ReproduceError",
    "RunEnvironment",
    "archived_request",
    "build_environment",
    "environment_folder",
    "read_dependencies",
    "run_in_environment",
    "shared_environment",
]
