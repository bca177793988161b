"""The ways to define an experiment; all of them create runs through the run core.

The context-manager style (Yanex)::

    with runlab.run(params={"lr": 0.1}) as run:
        runlab.log_results({"loss": 0.5}, step=0)

The functional style (PyComex)::

    experiment = runlab.Experiment(glob=globals())   # UPPERCASE globals are the parameters

    @experiment
    def main(e):
        e.track("loss", 0.5)

    experiment.run_if_main()

The plain-script style (KohakuEngine)::

    runlab.run_script("train.py", runlab.Config(globals_dict={"learning_rate": 0.1}))
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._accessors import get_artifacts_dir, get_cli_args, get_metadata, get_run_dir, get_run_id
    from ._config_check import ConfigCheck, check_config
    from ._context import (
        RunContext,
        cancel,
        completed,
        fail,
        get_param,
        get_params,
        get_status,
        log_artifact,
        log_matplotlib_figure,
        log_results,
        log_text,
        run,
    )
    from ._current import current_run
    from ._driver import RunDriver
    from ._entrypoint import entrypoint
    from ._functional import Experiment
    from ._loader import exec_file
    from ._mixin import ExperimentMixin
    from ._paths import file_namespace, folder_path
    from ._run_file import run_file
    from ._run_script import run_script
    from ._script import Script, ScriptExecutor
    from ._script_params import function_params, script_params

_CONTEXT = ("RunContext", "cancel", "completed", "fail", "get_param", "get_params", "get_status", "log_artifact",
            "log_matplotlib_figure", "log_results", "log_text", "run")  # fmt: skip
_LAZY = {  # loaded on first use: a run started by `runlab run` needs neither the other styles nor the accessors
    **dict.fromkeys(("get_artifacts_dir", "get_cli_args", "get_metadata", "get_run_dir", "get_run_id"), "._accessors"),
    **dict.fromkeys(_CONTEXT, "._context"),
    "current_run": "._current",
    "file_namespace": "._paths",
    "folder_path": "._paths",
    "RunDriver": "._driver",
    "entrypoint": "._entrypoint",
    "Experiment": "._functional",
    "exec_file": "._loader",
    "ExperimentMixin": "._mixin",
    "run_file": "._run_file",
    "check_config": "._config_check",
    "ConfigCheck": "._config_check",
    "run_script": "._run_script",
    "Script": "._script",
    "ScriptExecutor": "._script",
    "function_params": "._script_params",
    "script_params": "._script_params",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ConfigCheck",
    "check_config",
    "Experiment",
    "ExperimentMixin",
    "RunContext",
    "RunDriver",
    "Script",
    "ScriptExecutor",
    "cancel",
    "completed",
    "current_run",
    "entrypoint",
    "exec_file",
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
    "log_artifact",
    "log_matplotlib_figure",
    "log_results",
    "log_text",
    "run",
    "run_file",
    "run_script",
    "function_params",
    "script_params",
]
