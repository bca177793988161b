"""The MLflow backend: each branch becomes one MLflow run (params, duration metric, status, tags).

Written with :class:`mlflow.MlflowClient` only, in batches from a background thread, with the
key, value and lock helpers of the MLflow bridge plugin (:mod:`runlab.plugins.builtin.mlflow`).
``mlflow`` is imported on the first write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..plugins.builtin.mlflow import _TAG_LENGTH, _file_lock, _sqlite_path, flatten_params, mlflow_key, param_text
from ..store import Store, get_store
from ._branch import Branch, output_summary
from ._loggers import BranchSession, BufferedLogger

__all__ = ["MLFLOW_BRANCH_STATUS", "MlflowLogger"]

MLFLOW_BRANCH_STATUS = {"success": "FINISHED", "failed": "FAILED", "cancelled": "KILLED", "skipped": "KILLED"}
"""Branch statuses and the MLflow run status each becomes (the exact one is in tag ``runlab.branch.status``)."""


class MlflowLogger(BufferedLogger):
    """Record each branch as an MLflow run.

    A branch's run holds the config as params (nested keys dotted, plus ``config_id``), the
    metric ``duration`` (seconds), start and end times, the status (success -> FINISHED,
    failed -> FAILED, cancelled and skipped -> KILLED) and tags ``runlab.branch.*``: status,
    role, call_id, config_id, function, strategy, session, the output summary, and for a failure
    the exception's type, message and traceback.

    Args:
        tracking_uri: where to write (default: ``MLFLOW_TRACKING_URI``, else the SQLite database
            ``sqlite:///<store root>/.runlab/mlflow.db``, the bridge plugin's default).
        experiment: the MLflow experiment (default: the function's ``module.qualname``).
        root: the store whose database is the default.
        flush_interval: seconds between batch writes.

    Open the default database with ``mlflow ui --backend-store-uri sqlite:///<store root>/.runlab/mlflow.db``.
    """

    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None,
                 root: str | os.PathLike[str] | Store | None = None, flush_interval: float = 1.0) -> None:  # fmt: skip
        super().__init__(flush_interval)
        if tracking_uri is None:
            tracking_uri = os.environ.get("MLFLOW_TRACKING_URI") or None
        if tracking_uri is None:
            db = (Path(get_store(root).root) / ".runlab" / "mlflow.db").absolute()
            tracking_uri = "sqlite:///" + db.as_posix()
            self._artifacts: str | None = (db.parent / "mlflow-artifacts").as_uri()
        else:
            self._artifacts = None
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self._client: Any = None
        self._experiments: dict[str, str] = {}
        self.run_ids: dict[int, str] = {}
        """``{id(branch): MLflow run id}`` of the branches written so far."""

    def _after_fork(self) -> None:
        super()._after_fork()
        self._client = None  # its database connections are the parent's

    def __repr__(self) -> str:
        return f"MlflowLogger({self.tracking_uri!r})"

    def client(self) -> Any:
        """The :class:`mlflow.MlflowClient` (created, and the database set up, on first use)."""
        if self._client is None:
            from mlflow import MlflowClient

            db = _sqlite_path(self.tracking_uri)
            if db is not None:  # creating the tables: one process at a time
                db.parent.mkdir(parents=True, exist_ok=True)
                with _file_lock(db.with_name(db.name + ".lock")):
                    self._client = MlflowClient(tracking_uri=self.tracking_uri)
            else:
                self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created (or restored) when needed."""
        cached = self._experiments.get(name)
        if cached is not None:
            return cached
        client = self.client()
        db = _sqlite_path(self.tracking_uri)
        lock_path = db.with_name(db.name + ".lock") if db is not None else None
        if lock_path is not None:
            with _file_lock(lock_path):
                found = self._find_or_create(client, name)
        else:
            found = self._find_or_create(client, name)
        self._experiments[name] = found
        return found

    def _find_or_create(self, client: Any, name: str) -> str:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            try:
                return str(client.create_experiment(name, artifact_location=self._artifacts))
            except Exception:  # created meanwhile by another process
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return str(experiment.experiment_id)

    def tags_of(self, branch: Branch, session: BranchSession) -> dict[str, str]:
        """The ``runlab.branch.*`` tags of a branch's MLflow run."""
        tags = {
            "runlab.branch.status": branch.status.value,
            "runlab.branch.role": branch.role,
            "runlab.branch.call_id": branch.call_id,
            "runlab.branch.config_id": branch.config_id,
            "runlab.branch.function": session.function,
            "runlab.branch.strategy": session.strategy,
            "runlab.branch.session": session.id,
        }
        if branch.output is not None:
            summary = output_summary(branch.output, _TAG_LENGTH)
            tags["runlab.branch.output"] = summary if isinstance(summary, str) else _json(summary)
        info = branch.exception_info
        if info is not None:
            tags["runlab.branch.error_type"] = info.type
            tags["runlab.branch.error_message"] = info.message
            if info.traceback:
                tags["runlab.branch.traceback"] = info.traceback
        return {k: v[:_TAG_LENGTH] for k, v in tags.items()}

    def _write(self, batch: Sequence[tuple[Branch, BranchSession]]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        from ..params import canonical

        client = self.client()
        for branch, session in batch:
            experiment_id = self.experiment_id(self.experiment or session.function)
            start = int(branch.start_ts * 1000)
            end = int((branch.end_ts or time.time()) * 1000)
            name = f"{branch.config_id}-{branch.call_id}"
            created = client.create_run(experiment_id, start_time=start, run_name=name)
            run_id = str(created.info.run_id)
            config = canonical(branch.config)
            flat = flatten_params(config) if isinstance(config, dict) else {"config": config}
            params = {mlflow_key(k): param_text(v)[0] for k, v in flat.items()}
            params["config_id"] = branch.config_id
            metrics = [Metric("duration", float(branch.duration or 0.0), end, 0)]
            tags = [RunTag(k, v) for k, v in self.tags_of(branch, session).items()]
            items = [Param(k, v) for k, v in params.items()]
            for i in range(0, max(len(items), len(tags), 1), 100):
                client.log_batch(run_id, metrics=metrics if i == 0 else [], params=items[i : i + 100],
                                 tags=tags[i : i + 100])  # fmt: skip
            client.set_terminated(run_id, MLFLOW_BRANCH_STATUS.get(branch.status.value, "FAILED"), end_time=end)
            self.run_ids[id(branch)] = run_id


def _json(value: Any) -> str:
    from ..store._files import dumps

    return dumps(value, indent=False).decode()
