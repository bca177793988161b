"""``mlflow``: mirror every run into an MLflow tracking URI (params, metrics, artifacts, tags, state).

The mirror is written with :class:`mlflow.MlflowClient` only (no ``mlflow.start_run``
global state), so runs finishing at the same time in several threads do not clash.
``mlflow`` is imported inside the hooks: ``import runlab`` never imports it.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..._valueclass import value_class
from ..._version import __version__
from ...errors import UsageError
from .._plugin import Plugin, hook
from ._background import BackgroundSender, quiet_loggers

__all__ = ["MLFLOW_STATUS", "MlflowPlugin", "flatten_params", "mlflow_key", "param_text"]

MLFLOW_STATUS = {"completed": "FINISHED", "failed": "FAILED", "cancelled": "KILLED", "pruned": "KILLED"}
"""runlab's final states and the MLflow run status each becomes."""

# MLflow's limits (mlflow.utils.validation); the ones read at run time fall back to these
_METRICS_PER_BATCH = 1000
_PARAMS_TAGS_PER_BATCH = 100
_KEY_LENGTH = 250
_PARAM_LENGTH = 6000
_TAG_LENGTH = 8000
_INVALID_KEY_CHARS = re.compile(r"[^\w./\- ]")


def mlflow_key(name: str) -> str:
    """A valid MLflow param, metric or tag key for ``name``.

    MLflow keys hold letters, digits, ``_ - . /`` and spaces, must not look like an
    unnormalised path and have at most 250 characters; other characters become ``_``.

    Example:
        >>> mlflow_key("val/acc"), mlflow_key("a:b#c"), mlflow_key("/x//y/../z/")
        ('val/acc', 'a_b_c', 'x/y/__/z')
    """
    key = _INVALID_KEY_CHARS.sub("_", name)
    parts = ["__" if part == ".." else part for part in key.split("/") if part not in ("", ".")]
    return "/".join(parts)[:_KEY_LENGTH].rstrip("/") or "_"


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into dotted keys (MLflow params are flat).

    Example:
        >>> flatten_params({"lr": 0.1, "model": {"depth": 3, "act": "relu"}, "empty": {}})
        {'lr': 0.1, 'model.depth': 3, 'model.act': 'relu', 'empty': {}}
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def param_text(value: Any, limit: int = _PARAM_LENGTH) -> tuple[str, bool]:
    """MLflow's text of a parameter value (``str(value)``) cut to ``limit`` characters.

    Returns:
        The text (ending in ``...`` when it was cut) and whether it was cut.

    Example:
        >>> param_text(0.1)
        ('0.1', False)
        >>> param_text("x" * 10, limit=6)
        ('xxx...', True)
    """
    text = str(value)
    if len(text) <= limit:
        return text, False
    return text[: limit - 3] + "...", True


@value_class
class _Mirror:
    """One runlab run's MLflow counterpart."""

    uri: str
    run_id: str
    experiment_id: str
    params: dict[str, str] = field(default_factory=dict)


def _limit(name: str, default: int) -> int:
    try:
        from mlflow.utils import validation

        return int(getattr(validation, name, default))
    except Exception:
        return default


def _millis(iso: str | None) -> int:
    if iso:
        try:
            return int(datetime.fromisoformat(iso).timestamp() * 1000)
        except ValueError:
            pass
    return int(time.time() * 1000)


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///PATH`` URI (None for other URIs and in-memory databases)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _redact(uri: str) -> str:
    """``uri`` without a password (it is written to run.json)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if not parts.password:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` across processes (POSIX; elsewhere a no-op)."""
    try:
        import fcntl
    except ImportError:  # Windows: parallel first use of a new database may race
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class MlflowPlugin(Plugin):
    """Mirror every run into MLflow: params, metrics with steps, artifacts, tags and final state.

    When a run starts, an MLflow run is created in the experiment named after the runlab
    namespace, with the run's params and tags; its id is recorded in ``run.json``
    (``plugins.mlflow.run_id``). While the run finishes (hook ``run_finishing``) every
    metric point (step, value, time), the files under ``artifacts/``, the final tags and
    params, and the final state (completed -> FINISHED, failed -> FAILED,
    cancelled -> KILLED) are written. A run whose process died stays RUNNING in MLflow.

    Nested params are flattened with dots (``model.depth``); values are ``str(value)``, cut
    to MLflow's length limit (6000 characters) with ``...``. runlab tags become MLflow tags
    with the value ``"true"``; ``runlab.id``, ``runlab.namespace``, ``runlab.folder`` (and
    ``runlab.experiment``, ``runlab.sweep``, ``runlab.study``, ``runlab.parent`` when set)
    link back to the run.

    Off unless enabled: ``[tool.runlab.plugins] enabled = ["mlflow"]``.

    Settings ([tool.runlab.plugins.mlflow]):
        tracking_uri: where to write (default: ``MLFLOW_TRACKING_URI``, else the SQLite
            database ``sqlite:///<store root>/.runlab/mlflow.db`` with artifacts in
            ``<store root>/.runlab/mlflow-artifacts/``).
        experiment: the MLflow experiment (default: the run's namespace).
        artifact_location: artifact root of experiments the plugin creates (default: the
            server's choice; ``<store root>/.runlab/mlflow-artifacts`` for the default database).
        artifacts: upload the run's ``artifacts/`` folder (default true).
        background: send in a background thread so the run is not held up (default
            true); at exit the program waits for what is queued. ``false``: send in the hooks.
        quiet: MLflow's and alembic's log lines go to ``<store root>/.runlab/logs/mlflow.log``
            instead of the console (default true).

    Open the default store with
    ``mlflow ui --backend-store-uri sqlite:///<store root>/.runlab/mlflow.db``.

    Example:
        >>> from runlab.plugins.builtin.mlflow import MlflowPlugin
        >>> plugin = MlflowPlugin({"experiment": "baselines"})
        >>> plugin.experiment_name(namespace="default")
        'baselines'
        >>> MlflowPlugin().experiment_name(namespace="vision")
        'vision'
    """

    name = "mlflow"
    version = __version__
    author = "runlab developers"
    tags = ("tracking", "mirror", "builtin")
    dependencies = ("mlflow",)
    requires = ("mlflow",)
    install_hint = "pip install 'runlab[mlflow]'"
    # opt-in: importing mlflow costs ~2 s and a first database ~2 s more, at a run's start
    enabled_by_default = False

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._mirrors: dict[str, _Mirror] = {}
        self._clients: dict[str, Any] = {}
        self._uri_locks: dict[str, threading.RLock] = {}
        self._manager: Any = None
        self._sender = BackgroundSender(self.name, self._failed)

    def initialize(self, context: Any) -> None:
        self._manager = getattr(context, "manager", None)
        for key in ("background", "quiet"):
            if not isinstance(self.settings.get(key, True), bool):
                raise UsageError(
                    f"Invalid value for {key!r} of the mlflow plugin: {self.settings[key]!r} is not true or false. "
                    f"Set for example {key} = false in [tool.runlab.plugins.mlflow]."
                )

    def _failed(self, hook: str, exc: BaseException, run: Any) -> None:
        if self._manager is not None:
            self._manager.report_failure(self.name, hook, exc, run)
        else:
            print(f"runlab: plugin 'mlflow' failed in {hook!r}: {type(exc).__name__}: {exc}", file=sys.__stderr__)

    def _do(self, hook: str, run: Any, job: Callable[[], Any]) -> None:
        """Run ``job`` in the background sender (the default), or now with ``background = false``."""
        if self.settings.get("background", True):
            self._sender.submit(hook, run, job)
        else:
            job()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued mirror write was sent; False when ``timeout`` passed first.

        Example:
            >>> MlflowPlugin().flush(timeout=1)
            True
        """
        return self._sender.flush(timeout)

    def cleanup(self) -> None:
        self._sender.close()
        with self._lock:
            self._mirrors.clear()
            self._clients.clear()

    def _quiet(self, run: Any) -> None:
        if self.settings.get("quiet", True):
            quiet_loggers(("mlflow", "alembic"), Path(run.store.root) / ".runlab" / "logs" / "mlflow.log")

    # -- where to write ---------------------------------------------------------------
    def default_uri(self, run: Any) -> str:
        """The default tracking URI: a SQLite database beside the store's index."""
        db = (Path(run.store.root) / ".runlab" / "mlflow.db").absolute()
        return "sqlite:///" + db.as_posix()

    def tracking_uri(self, run: Any) -> str:
        """The setting ``tracking_uri``, else ``MLFLOW_TRACKING_URI``, else :meth:`default_uri`."""
        configured = self.settings.get("tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI")
        return str(configured) if configured else self.default_uri(run)

    def experiment_name(self, namespace: str) -> str:
        """The MLflow experiment of runs in ``namespace`` (the setting ``experiment`` wins)."""
        return str(self.settings.get("experiment") or namespace)

    def _artifact_location(self, run: Any, uri: str) -> str | None:
        location = self.settings.get("artifact_location")
        if location:
            return str(location)
        if uri == self.default_uri(run):
            return (Path(run.store.root) / ".runlab" / "mlflow-artifacts").absolute().as_uri()
        return None

    @contextmanager
    def _serialized(self, uri: str) -> Iterator[None]:
        """Serialise this process's writes to one SQLite database (a file store too)."""
        if not uri.startswith(("sqlite:", "file:")) and "://" in uri:
            yield
            return
        with self._lock:
            lock = self._uri_locks.setdefault(uri, threading.RLock())
        with lock:
            yield

    def _client(self, uri: str) -> Any:
        with self._lock:
            client = self._clients.get(uri)
        if client is not None:
            return client
        from mlflow import MlflowClient

        db = _sqlite_path(uri)
        if db is not None:  # creating the tables: one process at a time
            db.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock(db.with_name(db.name + ".lock")):
                client = MlflowClient(tracking_uri=uri)
        else:
            client = MlflowClient(tracking_uri=uri)
        with self._lock:
            return self._clients.setdefault(uri, client)

    def _experiment_id(self, client: Any, name: str, artifact_location: str | None, uri: str) -> str:
        db = _sqlite_path(uri)
        lock = _file_lock(db.with_name(db.name + ".lock")) if db is not None else _no_lock()
        with lock:
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                try:
                    return str(client.create_experiment(name, artifact_location=artifact_location))
                except Exception:  # created meanwhile by another process
                    experiment = client.get_experiment_by_name(name)
                    if experiment is None:
                        raise
            if experiment.lifecycle_stage == "deleted":
                client.restore_experiment(experiment.experiment_id)
            return str(experiment.experiment_id)

    # -- what to write ----------------------------------------------------------------
    def params_of(self, run: Any) -> tuple[dict[str, str], list[str]]:
        """The run's params as MLflow params, and the keys whose values were cut."""
        limit = _limit("MAX_PARAM_VAL_LENGTH", _PARAM_LENGTH)
        params: dict[str, str] = {}
        cut: list[str] = []
        for name, value in flatten_params(run.params).items():
            key = mlflow_key(name)
            params[key], truncated = param_text(value, limit)
            if truncated:
                cut.append(key)
        return params, cut

    def tags_of(self, run: Any) -> dict[str, str]:
        """The MLflow tags of ``run``: its runlab tags and the links back to it."""
        meta = run.metadata
        limit = _limit("MAX_TAG_VAL_LENGTH", _TAG_LENGTH)
        tags = {mlflow_key(tag): "true" for tag in run.tags}
        if run.tags:
            tags["runlab.tags"] = ",".join(run.tags)
        tags.update({"runlab.id": run.id, "runlab.namespace": run.namespace, "runlab.folder": str(run.path)})
        for link in ("experiment", "sweep", "study", "parent"):
            if meta.get(link):
                tags[f"runlab.{link}"] = str(meta[link])
        if meta.get("description"):
            tags["mlflow.note.content"] = str(meta["description"])
        if meta.get("source"):
            tags["mlflow.source.name"] = str(meta["source"])
            tags["mlflow.source.type"] = "LOCAL"
        commit = (meta.get("git") or {}).get("commit")
        if commit:
            tags["mlflow.source.git.commit"] = str(commit)
        return {key: value[:limit] for key, value in tags.items()}

    # -- hooks ------------------------------------------------------------------------
    @hook("run_state_changed")
    def started(self, run: Any, new: str) -> None:
        """When a run starts: create its MLflow run (params, tags) and record its id."""
        if new == "running":
            self._do("run_state_changed", run, lambda: self.mirror_of(run))

    def mirror_of(self, run: Any) -> _Mirror:
        """The MLflow run mirroring ``run``, created (and recorded in ``run.json``) on first use."""
        with self._lock:
            mirror = self._mirrors.get(run.id)
        if mirror is not None:
            return mirror
        from mlflow.entities import Param

        self._quiet(run)  # after the import: importing mlflow configures its logger

        uri = self.tracking_uri(run)
        client = self._client(uri)
        params, cut = self.params_of(run)
        with self._serialized(uri):
            experiment_id = self._experiment_id(
                client, self.experiment_name(run.namespace), self._artifact_location(run, uri), uri
            )
            created = client.create_run(
                experiment_id,
                start_time=_millis(run.metadata.get("started")),
                tags=self.tags_of(run),
                run_name=run.name or run.id,
            )
            run_id = str(created.info.run_id)
            items = [Param(key, value) for key, value in params.items()]
            for i in range(0, len(items), _PARAMS_TAGS_PER_BATCH):
                client.log_batch(run_id, params=items[i : i + _PARAMS_TAGS_PER_BATCH])
        mirror = _Mirror(uri, run_id, experiment_id, params)
        with self._lock:
            self._mirrors[run.id] = mirror
        record: dict[str, Any] = {
            "run_id": run_id,
            "experiment_id": experiment_id,
            "experiment": self.experiment_name(run.namespace),
            "tracking_uri": _redact(uri),
            "artifact_uri": str(created.info.artifact_uri),
        }
        if cut:
            record["params_truncated"] = cut
        run.record_plugin("mlflow", **record)
        return mirror

    @hook("run_finishing", priority=-50)
    def finishing(self, run: Any, status: str) -> None:
        """While a run finishes: queue its metrics, artifacts, final params and tags, final state.

        Runs after other plugins' ``run_finishing`` hooks (priority -50), so files they add
        under ``artifacts/`` (``plot_track``'s plots) are uploaded too.
        """
        if self.settings.get("background", True) and not self._clients:
            # MLflow is still being imported or its store opened (the process's first mirrored run):
            # wait for it, so that no import runs while the interpreter shuts down
            self.flush()
        self._do("run_finishing", run, lambda: self.finish_mirror(run, status))

    def finish_mirror(self, run: Any, status: str) -> dict[str, Any]:
        """Write what ``finishing`` queued: everything of the ended ``run`` and its final state."""
        mirror = self.mirror_of(run)
        with self._lock:
            self._mirrors.pop(run.id, None)
        client = self._client(mirror.uri)
        final = MLFLOW_STATUS.get(status, "FAILED")
        try:
            with self._serialized(mirror.uri):
                summary = self._write_final(client, mirror, run)
                client.set_terminated(mirror.run_id, final, end_time=int(time.time() * 1000))
        except BaseException as exc:
            # leave no RUNNING mirror behind; the manager records the error in run.json
            try:
                with self._serialized(mirror.uri):
                    client.set_tag(mirror.run_id, "runlab.mirror_error", f"{type(exc).__name__}: {exc}"[:500])
                    client.set_terminated(mirror.run_id, "FAILED", end_time=int(time.time() * 1000))
            except Exception:
                pass
            raise
        run.record_plugin("mlflow", status=final, **summary)
        return {"run_id": mirror.run_id, "status": final, **summary}

    def _write_final(self, client: Any, mirror: _Mirror, run: Any) -> dict[str, Any]:
        from mlflow.entities import Metric, Param, RunTag

        from ...store import read_metrics

        summary: dict[str, Any] = {}
        params, cut = self.params_of(run)
        new = [Param(k, v) for k, v in params.items() if k not in mirror.params]
        changed = sorted(k for k, v in params.items() if k in mirror.params and mirror.params[k] != v)
        tags = [RunTag(k, v) for k, v in self.tags_of(run).items()]
        for i in range(0, max(len(new), len(tags)), _PARAMS_TAGS_PER_BATCH):
            part = slice(i, i + _PARAMS_TAGS_PER_BATCH)
            client.log_batch(mirror.run_id, params=new[part], tags=tags[part])
        if changed:  # MLflow params cannot change; keep the first value
            summary["params_changed"] = changed
        if cut:
            summary["params_truncated"] = cut

        series, _ = read_metrics(Path(run.path) / "metrics.jsonl")
        batch: list[Any] = []
        points = 0
        for name, points_of in series.items():
            key = mlflow_key(name)
            for step, value, when in zip(points_of.steps, points_of.values, points_of.times, strict=True):
                batch.append(Metric(key, float(value), int(when * 1000), int(step)))
                if len(batch) == _METRICS_PER_BATCH:
                    client.log_batch(mirror.run_id, metrics=batch)
                    points += len(batch)
                    batch = []
        if batch:
            client.log_batch(mirror.run_id, metrics=batch)
            points += len(batch)
        summary["metrics"] = points

        folder = Path(run.path) / "artifacts"
        files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
        if files and self.settings.get("artifacts", True):
            client.log_artifacts(mirror.run_id, str(folder))
            summary["artifacts"] = len(files)
        return summary


@contextmanager
def _no_lock() -> Iterator[None]:
    yield
