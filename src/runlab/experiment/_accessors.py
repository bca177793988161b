"""Yanex's accessors of the current run: ``get_run_id()``, ``get_run_dir()``, ``get_artifacts_dir()``,
``get_metadata()`` and ``get_cli_args()``.

They read the run that :func:`~runlab.experiment.current_run` finds (the enclosing ``with
runlab.run()`` block, functional experiment or script run) and raise
:class:`~runlab.ExperimentContextError` outside of one, like the other context functions.

Example:
    >>> import runlab, tempfile
    >>> with runlab.run(root=tempfile.mkdtemp(), name="probe") as run:
    ...     runlab.get_run_id() == run.id, runlab.get_run_dir() == run.path
    ...     runlab.get_artifacts_dir().name, runlab.get_metadata()["name"]
    (True, True)
    ('artifacts', 'probe')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._current import current_run

__all__ = ["get_artifacts_dir", "get_cli_args", "get_metadata", "get_run_dir", "get_run_id"]


def get_run_id() -> str:
    """The current run's 8-hex-character ID (Yanex: ``get_experiment_id``)."""
    return current_run().id


def get_run_dir() -> Path:
    """The current run's folder (Yanex: ``get_experiment_dir``)."""
    return current_run().path


def get_artifacts_dir() -> Path:
    """The current run's ``artifacts/`` folder, created if needed; files written there are its artifacts."""
    folder = current_run().path / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def get_metadata() -> dict[str, Any]:
    """A copy of the current run's record (what ``run.json`` holds: id, name, status, params, git ...)."""
    return current_run().metadata


def get_cli_args() -> list[str]:
    """The parameter overrides the run was started with on the command line, as typed.

    ``runlab run train.py --lr=0.1 --epochs=3`` gives ``["--lr=0.1", "--epochs=3"]``; a run
    not started from the command line gives ``[]``. The values themselves are typed in
    :func:`runlab.get_params`.
    """
    origin = current_run().metadata.get("origin") or {}
    argv = origin.get("argv") if isinstance(origin, dict) else None
    return [str(a) for a in argv] if isinstance(argv, list) else []
