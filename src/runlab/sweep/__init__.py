"""Sweeps: many runs of one experiment over a set of configurations.

A sweep makes one run request per config and hands them to an executor; it never knows where
they execute. Its record (``<root>/.runlab/sweeps/<id>.json``) links the runs, and starting
the same sweep again resumes it. See ``docs/sweeps.md``.

Example:
    >>> import pathlib, tempfile
    >>> from runlab.sweep import build_requests, plan_sweep
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "train.py"
    >>> _ = f.write_text("lr = 0.1\\ndef main():\\n    return lr\\n")
    >>> sweep_id, configs = plan_sweep(build_requests(f, [["--lr=0.1"], ["--lr=0.2"]]))
    >>> [c.request.params["lr"] for c in configs], configs[0].request.links.sweep == sweep_id
    ([0.1, 0.2], True)
"""

from ._progress import SweepProgress
from ._record import SweepEntry, SweepRecord, list_sweeps, load_sweep, sweep_dir
from ._requests import build_requests, load_experiment
from ._runner import SweepConfig, SweepObserver, plan_sweep, run_sweep

__all__ = [
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
    "run_sweep",
    "sweep_dir",
]
