"""The hook points: their names as constants, when each fires and its keyword arguments.

Hooks are called with keyword arguments only; an implementation may accept any subset of
them (or ``**kwargs``), so a hook can gain arguments without breaking plugins.
:data:`HOOKS` maps every name to a :class:`HookSpec`; ``docs/plugins.md`` lists them.

The table lives below every layer (``runlab.hooks``) so the hook registry can check an
implementation's arguments against it when it registers; ``runlab.plugins`` re-exports it.

Example:
    >>> from runlab.plugins import HOOKS, AFTER_RUN
    >>> HOOKS[AFTER_RUN].arguments
    ('experiment', 'run', 'result')
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "AFTER_EXPERIMENT_FINALIZE",
    "AFTER_EXPERIMENT_INITIALIZE",
    "AFTER_PLUGINS_LOADED",
    "AFTER_RUN",
    "ARTIFACT_SAVED",
    "BEFORE_EXPERIMENT_ERROR",
    "BEFORE_EXPERIMENT_INITIALIZE",
    "BEFORE_EXPERIMENT_PARAMETERS",
    "BEFORE_RUN",
    "BEFORE_TESTING",
    "CLI_REGISTER_COMMANDS",
    "EXPERIMENT_COMMIT_FIG",
    "EXPERIMENT_COMMIT_JSON",
    "EXPERIMENT_COMMIT_RAW",
    "EXPERIMENT_CONSTRUCTED",
    "EXPERIMENT_TRACK",
    "HOOKS",
    "METRICS_LOGGED",
    "RUN_FINISHING",
    "RUN_STATE_CHANGED",
    "SWEEP_FINISHED",
    "SWEEP_STARTED",
    "HookSpec",
]


class HookSpec(NamedTuple):
    """One hook point.

    Attributes:
        name: the hook's name.
        arguments: the keyword arguments it is called with.
        fires: when it is called, and by whom.
        returns: what a return value (or a ``StopHook`` value) means, if anything.
    """

    name: str
    arguments: tuple[str, ...]
    fires: str
    returns: str = "ignored"


BEFORE_EXPERIMENT_PARAMETERS = "before_experiment_parameters"
EXPERIMENT_CONSTRUCTED = "experiment_constructed"
AFTER_PLUGINS_LOADED = "after_plugins_loaded"
BEFORE_EXPERIMENT_INITIALIZE = "before_experiment_initialize"
AFTER_EXPERIMENT_INITIALIZE = "after_experiment_initialize"
BEFORE_RUN = "before_run"
BEFORE_TESTING = "before_testing"
AFTER_RUN = "after_run"
AFTER_EXPERIMENT_FINALIZE = "after_experiment_finalize"
BEFORE_EXPERIMENT_ERROR = "before_experiment_error"
EXPERIMENT_COMMIT_FIG = "experiment_commit_fig"
EXPERIMENT_COMMIT_JSON = "experiment_commit_json"
EXPERIMENT_COMMIT_RAW = "experiment_commit_raw"
EXPERIMENT_TRACK = "experiment_track"
RUN_STATE_CHANGED = "run_state_changed"
METRICS_LOGGED = "metrics_logged"
ARTIFACT_SAVED = "artifact_saved"
RUN_FINISHING = "run_finishing"
SWEEP_STARTED = "sweep_started"
SWEEP_FINISHED = "sweep_finished"
CLI_REGISTER_COMMANDS = "cli_register_commands"

_SPECS = [
    HookSpec(
        BEFORE_EXPERIMENT_PARAMETERS,
        ("experiment", "parameters"),
        "Before an experiment discovers its parameters; ``parameters`` is the mutable mapping of "
        "parameter defaults, so a plugin may add its own (for example ``__NOTIFY__``).",
    ),
    HookSpec(EXPERIMENT_CONSTRUCTED, ("experiment",), "At the end of an experiment object's construction."),
    HookSpec(
        AFTER_PLUGINS_LOADED,
        ("manager", "plugins"),
        "Once, after the plugin manager loaded and initialised every enabled plugin; ``plugins`` "
        "is the list of active plugin names.",
    ),
    HookSpec(BEFORE_EXPERIMENT_INITIALIZE, ("experiment",), "Before an experiment creates its run."),
    HookSpec(AFTER_EXPERIMENT_INITIALIZE, ("experiment", "run"), "After the run folder and run.json exist."),
    HookSpec(BEFORE_RUN, ("experiment", "run"), "Just before the user's code starts (run state running)."),
    HookSpec(BEFORE_TESTING, ("experiment", "run"), "Before testing mode shrinks the parameters (testing mode only)."),
    HookSpec(
        AFTER_RUN,
        ("experiment", "run", "result"),
        "After the user's code returned, before the run finishes; a critical plugin failing here fails the run.",
    ),
    HookSpec(
        AFTER_EXPERIMENT_FINALIZE,
        ("experiment", "run"),
        "After the run finished and its record was written (any final state).",
    ),
    HookSpec(
        BEFORE_EXPERIMENT_ERROR,
        ("experiment", "run", "error"),
        "When the user's code raised, before the run is marked failed and the error re-raised.",
    ),
    HookSpec(
        EXPERIMENT_COMMIT_FIG, ("experiment", "run", "name", "figure", "path"), "After a figure was saved as artifact."
    ),
    HookSpec(
        EXPERIMENT_COMMIT_JSON, ("experiment", "run", "name", "data", "path"), "After a JSON artifact was written."
    ),
    HookSpec(
        EXPERIMENT_COMMIT_RAW,
        ("experiment", "run", "name", "content", "path"),
        "After a raw text artifact was written.",
    ),
    HookSpec(
        EXPERIMENT_TRACK,
        ("experiment", "run", "name", "value", "step"),
        "When an experiment tracks a value (a metric point or a figure of a tracked series).",
    ),
    HookSpec(
        RUN_STATE_CHANGED,
        ("run", "old", "new"),
        "Fired by the run core for every run after a new state was written: ``old`` is None for a new "
        "run; ``new`` is created, running, completed, failed or cancelled.",
    ),
    HookSpec(
        METRICS_LOGGED,
        ("run", "counts"),
        "Fired by the run core after a batch of metric points was appended to metrics.jsonl; "
        "``counts`` maps metric names to points in the batch. Runs in the run's writer thread.",
    ),
    HookSpec(ARTIFACT_SAVED, ("run", "name", "path"), "Fired by the run core after an artifact file was written."),
    HookSpec(
        RUN_FINISHING,
        ("run", "status"),
        "Fired by the run core for every run while it finishes: its metrics, data and capture are "
        "written, its final record (``status``) is not yet. Files a plugin adds to ``run.path`` and "
        "``run.record_plugin(...)`` records become part of the final record. No more logging calls.",
    ),
    HookSpec(
        SWEEP_STARTED,
        ("sweep", "configs"),
        "Before a sweep launches its first run (``sweep``: its record). An Optuna study fires neither "
        "sweep hook: its trials are asked one by one; each is a run with ``study`` set.",
    ),
    HookSpec(SWEEP_FINISHED, ("sweep", "runs"), "After every run of a sweep finished."),
    HookSpec(
        CLI_REGISTER_COMMANDS,
        ("cli",),
        "When the ``runlab`` command starts, before it parses arguments; ``cli`` is the click group: "
        "call ``cli.add_command(...)`` and the command appears in ``runlab --help``.",
    ),
]

HOOKS: dict[str, HookSpec] = {spec.name: spec for spec in _SPECS}
"""Every hook point by name, in the order they fire in a run's life."""
