"""Branching: run one function over several configs in live use, with a strategy, recording every branch.

A developer trying two prompts or two model settings decorates the function; callers do not
change::

    import runlab

    @runlab.branch(configs=[{"temperature": 0.2}, {"temperature": 0.9}], strategy="shadow")
    async def answer(question: str, config: dict) -> str:
        ...

    await answer("why?")        # the primary config's answer; the other config runs in the background

Strategies (:mod:`runlab.branch.registry` has them by name): ``single``, ``round_robin``,
``shadow``, ``multi_branch``, and yours. Every branch is recorded by a logger backend: the
runlab store (default), MLflow, or memory. See ``docs/branching.md``.

``runlab.branch`` is both this package and the decorator: ``runlab.branch(configs=...)``
calls :func:`branch`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import registry
from ._background import EXIT_TIMEOUT, shutdown
from ._branch import Branch, BranchContainer, BranchStatus, ExceptionInfo, output_summary
from ._configs import BranchConfig, resolve_configs
from ._decorator import Branching, branch, drain
from ._errors import (
    BranchConfigError,
    BranchError,
    BranchSettingError,
    BranchStateError,
    LoggerClosedError,
    StrategyError,
    UnknownStrategyError,
)
from ._loggers import BranchSession, BufferedLogger, InMemoryLogger, LoggerBackend
from ._query import iter_branches, read_branches, sessions
from ._store_logger import BRANCH_LOG, BRANCH_TAG, StoreLogger
from ._strategies import MultiBranch, Plan, RoundRobin, Shadow, SingleConfig, Strategy

__all__ = [
    "BRANCH_LOG",
    "BRANCH_TAG",
    "EXIT_TIMEOUT",
    "Branch",
    "BranchConfig",
    "BranchConfigError",
    "BranchContainer",
    "BranchError",
    "BranchSession",
    "BranchSettingError",
    "BranchStateError",
    "BranchStatus",
    "Branching",
    "BufferedLogger",
    "ExceptionInfo",
    "InMemoryLogger",
    "LoggerBackend",
    "LoggerClosedError",
    "MlflowLogger",
    "MultiBranch",
    "Plan",
    "RoundRobin",
    "Shadow",
    "SingleConfig",
    "StoreLogger",
    "Strategy",
    "StrategyError",
    "UnknownStrategyError",
    "branch",
    "drain",
    "iter_branches",
    "output_summary",
    "read_branches",
    "register_strategy",
    "registry",
    "resolve_configs",
    "sessions",
    "shutdown",
]

register_strategy = registry.register


def __getattr__(name: str) -> Any:
    if name == "MlflowLogger":  # imports nothing of mlflow until used, but keep the module itself lazy too
        from ._mlflow_logger import MlflowLogger

        return MlflowLogger
    raise AttributeError(f"module 'runlab.branch' has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    """Lets ``runlab.branch(...)`` decorate even after ``import runlab.branch`` bound the package there."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return branch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
