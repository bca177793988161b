"""Sweeps: many runs of one experiment over a set of configurations.

A sweep makes one run request per config and hands them to an executor; it never knows where
they execute. Its record (``<root>/.runlab/sweeps/<id>.json``) links the runs, and starting
the same sweep again resumes it. See ``docs/sweeps.md``.

Example:
    >>> from runlab.sweep import plan_sweep
    >>> from pathlib import Path
    >>> sweep_id, configs = plan_sweep("train.py", [["-p", "LR=0.1"]], Path("runs"))
    >>> configs[0].request.links == {"sweep": sweep_id}
    True
"""

from ._progress import SweepProgress
from ._record import SweepEntry, SweepRecord, list_sweeps, load_sweep, sweep_dir
from ._runner import SweepConfig, SweepObserver, plan_sweep, run_sweep

__all__ = [
    "SweepConfig",
    "SweepEntry",
    "SweepObserver",
    "SweepProgress",
    "SweepRecord",
    "list_sweeps",
    "load_sweep",
    "plan_sweep",
    "run_sweep",
    "sweep_dir",
]
