"""The ``runlab`` command line."""

from ._experiment_cli import ExperimentCLI
from ._main import cli, main

__all__ = ["ExperimentCLI", "cli", "main"]
