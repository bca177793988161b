"""The exceptions runlab raises.

Every error derives from :class:`RunlabError`. Where the meaning matches a builtin
exception, the class inherits it as well, so ``except ValueError`` keeps working::

    >>> import runlab
    >>> try:
    ...     runlab.load("zzzz", root="/nonexistent-store")
    ... except runlab.RunNotFoundError as exc:
    ...     print(type(exc).__name__)
    RunNotFoundError

Messages state the rule, the offending value, the valid options and the next step.
The CLI maps :class:`UsageError` subclasses (bad input) to exit code 2 and any other
:class:`RunlabError` to exit code 1.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AmbiguousRunError",
    "ArtifactPathError",
    "CacheError",
    "ConfigError",
    "DataError",
    "DamagedFileError",
    "DirtyWorkingDirectoryError",
    "ExperimentAlreadyRunningError",
    "ExperimentContextError",
    "ExperimentNotFoundError",
    "FilterError",
    "ForeignRunError",
    "HookSignatureError",
    "InheritError",
    "InvalidTransitionError",
    "MetricError",
    "MetricNotFoundError",
    "ParameterError",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "RunFinishedError",
    "RunNotFoundError",
    "RunNotResumableError",
    "RunPruned",
    "RunlabError",
    "StorageError",
    "SweepNotFoundError",
    "UsageError",
    "ValidationError",
]


class RunlabError(Exception):
    """Root of every exception raised by runlab."""


class UsageError(RunlabError):
    """Bad input from the user: a wrong value, an unknown name, a malformed expression.

    The CLI reports these in one line with exit code 2.
    """


class StorageError(RunlabError, OSError):
    """The store on disk cannot be read or written as required."""


class ExperimentNotFoundError(UsageError, LookupError):
    """No experiment (script, file or run) matches what was asked for.

    Yanex's name for a missing experiment; :class:`RunNotFoundError` (no run matches an ID,
    prefix or name) is a subclass, so ``except ExperimentNotFoundError`` catches both.
    """


class RunNotFoundError(ExperimentNotFoundError):
    """No run matches the given ID, ID prefix or name (an :class:`ExperimentNotFoundError`)."""


class SweepNotFoundError(UsageError, LookupError):
    """No sweep or study of the store matches the given id or name (the UI answers 404)."""


class AmbiguousRunError(UsageError, LookupError):
    """An ID prefix or name matches more than one run.

    Attributes:
        candidates: the IDs of the matching runs.
    """

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class InvalidTransitionError(RunlabError, RuntimeError):
    """A run was asked to move to a state its current state does not allow."""


class RunFinishedError(InvalidTransitionError):
    """The run has already finished; its record no longer changes."""


class RunNotResumableError(UsageError, InvalidTransitionError):
    """A run cannot be resumed: it completed or failed, or its process is still running."""


class FilterError(UsageError, ValueError):
    """A ``where`` or ``order_by`` expression is malformed or names an unknown field.

    Attributes:
        expression: the text that was parsed.
        position: the 0-based character offset of the problem.
    """

    def __init__(self, message: str, expression: str = "", position: int = 0) -> None:
        super().__init__(message)
        self.expression = expression
        self.position = position


class ArtifactPathError(UsageError, ValueError):
    """An artifact name would leave the run's ``artifacts/`` folder."""


class MetricError(UsageError, TypeError):
    """A metric name or value is not acceptable (values must be real numbers)."""


class MetricNotFoundError(UsageError, KeyError):
    """The run has no metric of the requested name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ParameterError(UsageError, ValueError):
    """A parameter value or name is not acceptable.

    Raised for a value that cannot be converted to the parameter's type, an unknown
    parameter name in an override, or a malformed override.

    Attributes:
        name: the parameter concerned ("" when unknown).
    """

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class InheritError(ParameterError):
    """A parameter set to ``INHERIT`` cannot take the base experiment's value: the base has no such
    parameter, or the ``INHERIT(fn)`` transform raised (PyComex's ``InheritError``)."""


class ConfigError(UsageError, ValueError):
    """A config file or Python config cannot be read, merged or expanded.

    Attributes:
        path: the file concerned, as text ("" when the config did not come from a file).
        line: the 1-based line of the problem, or ``None`` when unknown.
    """

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class RunPruned(RunlabError):
    """Raised inside a study trial's run when the study's pruner stops it; the run ends ``pruned``.

    runlab raises it from the metric-logging call that reported the step the pruner rejected.
    Let it propagate (do not catch it with ``except Exception``): the trial is then PRUNED.
    """


class ExperimentContextError(RunlabError, RuntimeError):
    """A context function (``runlab.log_results`` ...) was called with no active run."""


class ForeignRunError(RunlabError, RuntimeError):
    """A run was used from a process that does not run it: a worker forked or spawned by the run's process.

    A run is recorded by the process that runs it; a worker returns its values to that
    process, which logs them.
    """


class ExperimentAlreadyRunningError(RunlabError, RuntimeError):
    """Exclusive mode: another run of the store is still running."""


class DirtyWorkingDirectoryError(UsageError):
    """``require_clean_git=True`` and the git working tree has uncommitted changes."""


class ValidationError(UsageError, ValueError):
    """Input to an experiment API has the wrong shape or type."""


class HookSignatureError(UsageError, TypeError):
    """A hook implementation takes an argument its hook never passes; refused when it registers.

    Attributes:
        hook: the hook's name.
        argument: the first argument the hook does not pass.
        implementation: the implementation's qualified name (or its plugin's name).
    """

    def __init__(self, message: str, hook: str = "", argument: str = "", implementation: str = "") -> None:
        super().__init__(message)
        self.hook = hook
        self.argument = argument
        self.implementation = implementation


class DataError(ValidationError, TypeError):
    """A value given to ``run.data[...]`` (or ``e[...]``) cannot be stored as JSON.

    Raised when the value is set, so nothing already stored is lost. Also a ``ValueError``
    (an integer beyond 64 bits) and a ``TypeError`` (a function, an object).

    Attributes:
        key: the data key (or parameter name) concerned.
        type_name: the type of the refused value.
    """

    def __init__(self, message: str, key: str = "", type_name: str = "") -> None:
        super().__init__(message)
        self.key = key
        self.type_name = type_name


class CacheError(UsageError, ValueError):
    """A cache name, scope, backend or argument that cannot be used (see :mod:`runlab.cache`)."""


class PluginError(RunlabError, RuntimeError):
    """A plugin failed.

    Raised from a hook call when a *critical* plugin's implementation fails, so the caller's
    run fails with it; other plugins' failures are isolated and only recorded.

    Attributes:
        plugin: the plugin's name.
        hook: the hook being called ("" when the failure happened while loading).
    """

    def __init__(self, message: str, plugin: str = "", hook: str = "") -> None:
        super().__init__(message)
        self.plugin = plugin
        self.hook = hook


class PluginLoadError(PluginError):
    """A plugin could not be imported, instantiated or initialised.

    Attributes:
        path: the file to fix when it is not the plugin's own (its ``config.yml``), else None.
    """

    def __init__(self, message: str, plugin: str = "", hook: str = "", path: str | None = None) -> None:
        super().__init__(message, plugin, hook)
        self.path = path


class PluginNotFoundError(UsageError, LookupError):
    """No plugin of the given name was discovered."""


class DamagedFileError(StorageError):
    """A file of a run (``run.json``, ``data.json``, ``metrics.jsonl``) cannot be read: it is
    empty, not JSON, or holds values of the wrong type. The message names the file and what is wrong.

    Attributes:
        path: the damaged file, as text.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:  # OSError would format its args as (errno, strerror)
        return str(self.args[0]) if self.args else ""
