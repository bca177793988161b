"""Errors of the branching layer; all derive from :class:`runlab.RunlabError`."""

from __future__ import annotations

from ..errors import ConfigError, RunlabError, UsageError

__all__ = [
    "BranchConfigError",
    "BranchError",
    "BranchSettingError",
    "BranchStateError",
    "LoggerClosedError",
    "StrategyError",
    "UnknownStrategyError",
]


class BranchError(RunlabError):
    """Root of the branching errors."""


class BranchConfigError(BranchError, ConfigError):
    """A branch config is not acceptable: an empty pool, a duplicate, or a config the function's model refuses.

    Raised when the function is decorated, never at the first call. ``index`` is the 0-based
    position of the offending config in the pool (``None`` when the whole pool is at fault).
    """

    def __init__(self, message: str, index: int | None = None, path: str = "") -> None:
        super().__init__(message, path)
        self.index = index


class BranchSettingError(BranchError, UsageError, ValueError):
    """A branching setting is out of range: a logger's ``flush_interval``, a timeout, or the
    ``RUNLAB_BRANCH_EXIT_TIMEOUT`` / ``RUNLAB_BRANCH_THREADS`` environment variables."""


class UnknownStrategyError(BranchError, UsageError, LookupError):
    """No strategy is registered under the given name."""

    def __str__(self) -> str:  # LookupError subclasses such as KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class StrategyError(BranchError, UsageError, TypeError):
    """An object given as a strategy does not satisfy the :class:`~runlab.branch.Strategy` protocol,
    or a strategy returned a plan that names configs outside its pool."""


class BranchStateError(BranchError, RuntimeError):
    """A branch was marked twice (success, failure, skipped or cancelled): its outcome is final."""


class LoggerClosedError(BranchError, RuntimeError):
    """A logger backend was given a branch after :meth:`close`."""
