"""The ``runlab`` command line.

:class:`ExperimentCLI` (a command line for a folder of experiment modules) is imported on
first use, so ``runlab run`` does not pay for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._main import cli, main

if TYPE_CHECKING:
    from ._experiment_cli import ExperimentCLI

__all__ = ["ExperimentCLI", "cli", "main"]


def __getattr__(name: str) -> Any:
    if name != "ExperimentCLI":
        raise AttributeError(f"module 'runlab.cli' has no attribute {name!r}")
    value = import_module("._experiment_cli", __name__).ExperimentCLI
    globals()[name] = value
    return value
