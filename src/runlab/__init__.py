"""runlab: record, sweep, compare and reproduce computational experiments.

Quick use::

    import runlab

    with runlab.start_run(namespace="mnist", params={"lr": 0.01}) as run:
        for step in range(100):
            run.log_metric("loss", 1 / (step + 1))

    with runlab.run(params={"lr": 0.01}):          # the context style: module functions
        runlab.log_results({"loss": 0.1}, step=0)

    best = runlab.runs(where="metrics.loss < 0.05", order_by="metrics.loss")

    @runlab.branch(configs=[{"temperature": 0.2}, {"temperature": 0.9}], strategy="shadow")
    def answer(question, config): ...              # try several configs in live use, record each branch

Heavy parts load on first use, so ``import runlab`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_getattr
from ._version import __version__
from .errors import (
    AmbiguousRunError,
    ArtifactPathError,
    CacheError,
    ConfigError,
    DamagedFileError,
    DataError,
    DirtyWorkingDirectoryError,
    ExperimentAlreadyRunningError,
    ExperimentContextError,
    ExperimentNotFoundError,
    FilterError,
    ForeignRunError,
    HookSignatureError,
    InheritError,
    InvalidTransitionError,
    MetricError,
    MetricNotFoundError,
    ParameterError,
    PluginError,
    PluginLoadError,
    PluginNotFoundError,
    RunFinishedError,
    RunlabError,
    RunNotFoundError,
    RunNotResumableError,
    RunPruned,
    StorageError,
    SweepNotFoundError,
    UsageError,
    ValidationError,
)

if TYPE_CHECKING:
    from .branch import branch
    from .cache import Cache, cached
    from .experiment import (
        Experiment,
        ExperimentMixin,
        Script,
        ScriptExecutor,
        cancel,
        check_config,
        completed,
        entrypoint,
        fail,
        file_namespace,
        folder_path,
        get_artifacts_dir,
        get_cli_args,
        get_metadata,
        get_param,
        get_params,
        get_run_dir,
        get_run_id,
        get_status,
        log_artifact,
        log_matplotlib_figure,
        log_results,
        log_text,
        run,
        run_file,
        run_script,
    )
    from .hooks import StopHook
    from .lifecycle import ExperimentManager, Run, RunData, start_run
    from .params import INHERIT, Config, ConfigGenerator, ConfigLoader, Param, expand, load_config
    from .request import RunRequest, RunResult, execute
    from .store import (
        MetricSeries,
        MetricSummary,
        RebuildReport,
        RunRecord,
        RunSet,
        RunStatus,
        Store,
        best,
        compare,
        latest,
        load,
        runs,
    )
    from .sweep import study
    from .workflow import Parallel, Pipeline, Sequential, inputs

_LAZY = {
    "StopHook": "runlab.hooks",
    "branch": "runlab.branch",
    "cache": "runlab.cache",  # the module: runlab.cache.caching(False)
    "Cache": "runlab.cache",
    "cached": "runlab.cache",
    "Experiment": "runlab.experiment",
    "ExperimentMixin": "runlab.experiment",
    "Script": "runlab.experiment",
    "ScriptExecutor": "runlab.experiment",
    "entrypoint": "runlab.experiment",
    "run_script": "runlab.experiment",
    "run_file": "runlab.experiment",
    "check_config": "runlab.experiment",
    "cancel": "runlab.experiment",
    "completed": "runlab.experiment",
    "fail": "runlab.experiment",
    "file_namespace": "runlab.experiment",
    "folder_path": "runlab.experiment",
    "get_artifacts_dir": "runlab.experiment",
    "get_cli_args": "runlab.experiment",
    "get_metadata": "runlab.experiment",
    "get_run_dir": "runlab.experiment",
    "get_run_id": "runlab.experiment",
    "get_param": "runlab.experiment",
    "get_params": "runlab.experiment",
    "get_status": "runlab.experiment",
    "log_artifact": "runlab.experiment",
    "log_matplotlib_figure": "runlab.experiment",
    "log_results": "runlab.experiment",
    "log_text": "runlab.experiment",
    "run": "runlab.experiment",
    "RunRequest": "runlab.request",
    "RunResult": "runlab.request",
    "execute": "runlab.request",
    "Parallel": "runlab.workflow",
    "Pipeline": "runlab.workflow",
    "Sequential": "runlab.workflow",
    "inputs": "runlab.workflow",
    "study": "runlab.sweep",
    "Config": "runlab.params",
    "INHERIT": "runlab.params",
    "ConfigGenerator": "runlab.params",
    "ConfigLoader": "runlab.params",
    "Param": "runlab.params",
    "expand": "runlab.params",
    "load_config": "runlab.params",
    "ExperimentManager": "runlab.lifecycle",
    "Run": "runlab.lifecycle",
    "RunData": "runlab.lifecycle",
    "start_run": "runlab.lifecycle",
    "MetricSeries": "runlab.store",
    "MetricSummary": "runlab.store",
    "RebuildReport": "runlab.store",
    "RunRecord": "runlab.store",
    "RunSet": "runlab.store",
    "RunStatus": "runlab.store",
    "Store": "runlab.store",
    "load": "runlab.store",
    "runs": "runlab.store",
    "best": "runlab.store",
    "compare": "runlab.store",
    "latest": "runlab.store",
}

__all__ = [
    "AmbiguousRunError",
    "ArtifactPathError",
    "Cache",
    "CacheError",
    "Config",
    "ConfigError",
    "DataError",
    "ConfigGenerator",
    "ConfigLoader",
    "DirtyWorkingDirectoryError",
    "Experiment",
    "ExperimentAlreadyRunningError",
    "ExperimentContextError",
    "ExperimentManager",
    "ExperimentMixin",
    "ExperimentNotFoundError",
    "FilterError",
    "ForeignRunError",
    "HookSignatureError",
    "INHERIT",
    "InheritError",
    "InvalidTransitionError",
    "MetricError",
    "MetricNotFoundError",
    "MetricSeries",
    "Parallel",
    "Param",
    "ParameterError",
    "Pipeline",
    "PluginError",
    "PluginLoadError",
    "PluginNotFoundError",
    "MetricSummary",
    "DamagedFileError",
    "RebuildReport",
    "Run",
    "RunData",
    "RunFinishedError",
    "RunNotFoundError",
    "RunNotResumableError",
    "RunPruned",
    "RunRecord",
    "RunRequest",
    "RunResult",
    "RunSet",
    "RunStatus",
    "RunlabError",
    "Script",
    "ScriptExecutor",
    "Sequential",
    "StopHook",
    "StorageError",
    "SweepNotFoundError",
    "Store",
    "UsageError",
    "ValidationError",
    "__version__",
    "branch",
    "cache",
    "cached",
    "cancel",
    "check_config",
    "completed",
    "entrypoint",
    "execute",
    "fail",
    "file_namespace",
    "folder_path",
    "get_artifacts_dir",
    "get_cli_args",
    "get_metadata",
    "get_param",
    "get_params",
    "get_run_dir",
    "get_run_id",
    "get_status",
    "inputs",
    "log_artifact",
    "log_matplotlib_figure",
    "log_results",
    "log_text",
    "run",
    "run_file",
    "run_script",
    "expand",
    "load_config",
    "load",
    "runs",
    "best",
    "compare",
    "latest",
    "start_run",
    "study",
]


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)
