"""``ExperimentManager``: Yanex's manager surface as a thin facade over :class:`Run` and :class:`Store`.

Everything a manager does is done by the run core: :meth:`Run.create` makes the folder,
``run.json`` and index row; :meth:`Run.start` / :meth:`Run.finish` move the state and
write the record; the store answers the lookups. The manager only keeps, per process,
the runs it created, so that the ID it hands out can be started and finished later.

Contract:
    * Not thread-safe as an object (Yanex's was not either); the runs it drives are.
    * Only the process that started a run can finish it: a run another process runs is
      refused (:class:`~runlab.InvalidTransitionError`), as is a finished run
      (:class:`~runlab.RunFinishedError`: a finished record does not change).

Example:
    >>> import runlab, tempfile
    >>> manager = runlab.ExperimentManager(tempfile.mkdtemp())
    >>> run_id = manager.create_experiment("train.py", name="first", config={"lr": 0.1}, capture=False)
    >>> manager.start_experiment(run_id)
    >>> manager.get_running_experiment() == run_id
    True
    >>> manager.complete_experiment(run_id)
    >>> manager.get_experiment_metadata(run_id)["status"], manager.find_experiment_by_name("first") == run_id
    ('completed', True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import (
    ExperimentAlreadyRunningError,
    InvalidTransitionError,
    RunFinishedError,
    RunNotFoundError,
    StorageError,
)
from ..store._api import get_store
from ..store._store import Store
from ._run import Run

__all__ = ["ExperimentManager"]

_ID_TRIES = 10


class ExperimentManager:
    """Create runs and move them through their states by ID (Yanex's ``ExperimentManager``).

    Args:
        experiments_dir: the store's root folder (default: ``RUNLAB_ROOT``, ``[tool.runlab]
            root`` or ``./runs``), or a :class:`~runlab.Store`.

    Attributes:
        store: the :class:`~runlab.Store` the runs live in.
    """

    def __init__(self, experiments_dir: str | os.PathLike[str] | Store | None = None) -> None:
        self.store = get_store(experiments_dir)
        self._runs: dict[str, Run] = {}

    @property
    def experiments_dir(self) -> Path:
        """The store's root folder."""
        return self.store.root

    def __repr__(self) -> str:
        return f"ExperimentManager({str(self.store.root)!r})"

    # -- creating -----------------------------------------------------------------------
    def generate_experiment_id(self) -> str:
        """A fresh 8-hex-character ID that no run of the store has.

        :meth:`create_experiment` draws its own ID; this is for code that wants one ahead.

        Raises:
            StorageError: ten random IDs in a row were taken (a store of billions of runs).
        """
        for _ in range(_ID_TRIES):
            candidate = os.urandom(4).hex()
            try:
                self.store.resolve(candidate)
            except RunNotFoundError:
                return candidate
            except LookupError:  # an ambiguous prefix is a taken one too
                continue
        raise StorageError(f"Could not find an unused run ID in {_ID_TRIES} tries in {self.store.root}.")

    def create_experiment(
        self,
        script_path: str | os.PathLike[str] | None = None,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        tags: Iterable[str] | str | None = None,
        description: str | None = None,
        *,
        namespace: str | None = None,
        capture: bool = True,
    ) -> str:
        """Create a run in state ``created``; returns its ID.

        Args:
            script_path: the experiment's file (snapshotted when the run starts; its stem
                names the experiment).
            name, tags, description, namespace: as for :func:`runlab.start_run`.
            config: the parameter values.
            capture: record git state, environment and a code snapshot when it starts.
        """
        source = Path(script_path) if script_path is not None else None
        run = Run.create(
            store=self.store,
            namespace=namespace,
            name=name,
            params=config,
            tags=tags,
            description=description,
            experiment=source.stem if source is not None else None,
            source=source if source is not None and source.is_file() else None,
            capture=capture,
            staged=True,  # another manager or process may start it: it stays created when this one ends
        )
        self._runs[run.id] = run
        return run.id

    # -- moving through the states ----------------------------------------------------------
    def _run(self, experiment_id: str) -> Run:
        run = self._runs.get(experiment_id)
        if run is not None:
            return run
        record = self.store.load(experiment_id)  # RunNotFoundError (an ExperimentNotFoundError)
        run = self._runs.get(record.id)
        if run is not None:
            return run
        if record.status == "created":  # created by another manager or process: this one may start it
            run = self._runs[record.id] = Run(self.store, record.metadata, record.path)
            return run
        if record.status in ("running", "crashed"):
            raise InvalidTransitionError(
                f"Run {record.id} is {record.status} in another process; only the process running it can "
                "finish it. Use 'runlab list --status running' to see it."
            )
        raise RunFinishedError(
            f"Run {record.id} already finished with status {record.status!r}; a finished run does not change."
        )

    def start_experiment(self, experiment_id: str) -> None:
        """Move a created run to ``running`` (heartbeat, capture and output copying start).

        Raises:
            ExperimentNotFoundError: no run has this ID.
            InvalidTransitionError: the run is not in state ``created``.
        """
        self._run(experiment_id).start()

    def complete_experiment(self, experiment_id: str) -> None:
        """Finish a running run as ``completed``."""
        self._run(experiment_id).complete()

    def fail_experiment(self, experiment_id: str, error_message: str) -> None:
        """Finish a run as ``failed`` with ``error_message``."""
        self._run(experiment_id).fail(error_message)

    def cancel_experiment(self, experiment_id: str, reason: str) -> None:
        """Finish a run as ``cancelled`` with ``reason``."""
        self._run(experiment_id).cancel(reason)

    def archive_experiment(self, experiment_id: str) -> Path:
        """Move a finished run to the store's archive (as ``runlab archive``); returns its new folder."""
        from ..store._manage import archive

        path = archive(self.store, experiment_id)
        self._runs.pop(experiment_id, None)
        return path

    # -- looking up ---------------------------------------------------------------------
    def get_experiment_metadata(self, experiment_id: str) -> dict[str, Any]:
        """What the run's ``run.json`` holds (id, name, status, times, params, git, env ...)."""
        run = self._runs.get(experiment_id)
        if run is not None:
            return run.metadata
        return self.store.load(experiment_id).metadata

    load_metadata = get_experiment_metadata

    def find_experiment_by_name(self, name: str) -> str | None:
        """The ID of the newest run with this name, or None."""
        found = self.store.runs(name=name, order_by="-created", limit=1)
        return found[0].id if found else None

    def get_running_experiment(self) -> str | None:
        """The ID of a run of the store whose process is alive and running it, or None."""
        found = self.store.runs(status="running", order_by="-created", limit=1)
        return found[0].id if found else None

    def prevent_concurrent_execution(self) -> None:
        """Raise if a run of the store is running (Yanex runs one experiment at a time).

        Raises:
            ExperimentAlreadyRunningError: the message names the running run.
        """
        running = self.get_running_experiment()
        if running is not None:
            raise ExperimentAlreadyRunningError(
                f"Run {running} is still running in {self.store.root}. Wait for it, or stop it first."
            )
