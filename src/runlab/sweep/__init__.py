"""Sweeps: many runs of one experiment over a set of configurations.

A sweep makes one run request per config and hands them to an executor; it never knows where
they execute. A study (``runlab optimize``) is a sweep whose configs Optuna proposes, by
ask and tell; every trial is a run (see ``docs/optimize.md``). A sweep's record
(``<root>/.runlab/sweeps/<id>.json``) links the runs, and starting the same sweep again resumes
it. See ``docs/sweeps.md``.

Example:
    >>> import pathlib, tempfile
    >>> from runlab.sweep import build_requests, plan_sweep
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "train.py"
    >>> _ = f.write_text("lr = 0.1\\ndef main():\\n    return lr\\n")
    >>> sweep_id, configs = plan_sweep(build_requests(f, [["--lr=0.1"], ["--lr=0.2"]]))
    >>> [c.request.params["lr"] for c in configs], configs[0].request.links.sweep == sweep_id
    ([0.1, 0.2], True)
"""

from ._optimize import StudyObserver, TrialOutcome, TrialPlanner, recover_trials, run_study
from ._plan import plan_study
from ._progress import StudyProgress, SweepProgress
from ._record import SweepEntry, SweepRecord, list_sweeps, load_sweep, sweep_dir
from ._requests import build_requests, load_experiment
from ._runner import SweepConfig, SweepObserver, plan_sweep, preview_sweep, run_sweep
from ._space import Dimension, SearchSpaceError, parse_search, parse_search_mapping
from ._study import (
    PRUNERS,
    SAMPLERS,
    Objective,
    StudyFile,
    StudySpec,
    list_studies,
    load_study_file,
    open_study,
    parse_objectives,
)
from ._study_api import StudyResult, study

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "Dimension",
    "Objective",
    "SearchSpaceError",
    "StudyFile",
    "StudyObserver",
    "StudyProgress",
    "StudyResult",
    "StudySpec",
    "TrialOutcome",
    "TrialPlanner",
    "list_studies",
    "load_study_file",
    "open_study",
    "parse_objectives",
    "parse_search",
    "parse_search_mapping",
    "plan_study",
    "recover_trials",
    "run_study",
    "study",
    "SweepConfig",
    "SweepEntry",
    "SweepObserver",
    "SweepProgress",
    "SweepRecord",
    "build_requests",
    "list_sweeps",
    "load_experiment",
    "load_sweep",
    "plan_sweep",
    "preview_sweep",
    "run_sweep",
    "sweep_dir",
]
