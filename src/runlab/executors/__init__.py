"""Executors: where runs execute (this process, local processes, a Dask cluster, SLURM).

An executor ships run requests and never knows why they were made; a sweep or workflow makes
requests and never knows where they execute. Every executor follows :class:`Executor`'s
contract. Pick one by name with :func:`get_executor`::

    >>> from runlab.executors import get_executor
    >>> get_executor("local", workers=2)
    <LocalExecutor workers=2>

The Dask executor imports ``distributed`` only when it is created. See ``docs/executors.md``.
"""

from ._base import Executor, SubmitInterrupted
from ._inline import InlineExecutor
from ._local import LocalExecutor
from ._registry import EXECUTORS, get_executor
from ._ship import RunRequest, RunResult

__all__ = [
    "EXECUTORS", "Executor", "InlineExecutor", "LocalExecutor", "RunRequest", "RunResult", "SubmitInterrupted",
    "get_executor",
]  # fmt: skip
