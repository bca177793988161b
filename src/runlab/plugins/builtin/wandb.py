"""``wandb``: mirror every run into Weights & Biases, offline by default.

Each runlab run gets its own wandb ``Run`` object (``wandb.init(reinit="create_new")``),
never the module-global ``wandb.run``, so runs in several threads do not clash. ``wandb``
is imported inside the hooks: ``import runlab`` never imports it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

from ..._version import __version__
from ...errors import UsageError
from .._plugin import Plugin, hook
from ._background import BackgroundSender

__all__ = ["WANDB_EXIT_CODES", "WandbPlugin", "history_rows"]

WANDB_EXIT_CODES = {"completed": 0, "pruned": 0, "failed": 1, "cancelled": 130}
"""runlab's final states and the exit code handed to ``wandb.Run.finish``."""

# wandb settings the mirror uses unless [tool.runlab.plugins.wandb.settings] says otherwise:
# runlab already copies the output, records git, environment and host, and snapshots code
_DEFAULT_SETTINGS: dict[str, Any] = {
    "console": "off",
    "silent": True,
    "x_disable_stats": True,
    "x_disable_meta": True,
    "disable_git": True,
    "save_code": False,
    "disable_job_creation": True,
    "x_save_requirements": False,
}
_TAG_LENGTH = 64  # wandb's limit for one tag
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")  # what wandb.Image reads
_MODES = ("offline", "online", "disabled", "shared")
_exit_guard = threading.Lock()
_exit_guard_installed = False


def _finish_open_runs_first() -> None:
    """At exit, before wandb tears its service down: finish runlab runs still open.

    Registered after wandb's own exit hook (``atexit`` runs the last one registered
    first), so runs left open at exit are mirrored while wandb still listens. runlab's
    own exit hook then finds nothing left to finish.
    """
    from ...lifecycle import finish_open_runs

    finish_open_runs()


def _after_first_init(previous_excepthook: Any) -> None:
    """Undo what starting wandb's service did to the interpreter that runlab already does.

    The service's start replaces ``sys.excepthook`` with one that prints the traceback and
    then calls the previous hook, so an uncaught exception would be printed twice (runlab's
    hook passes it on too); and its exit hook would tear the service down before runlab
    finishes runs left open. Both are fixed once per process.
    """
    global _exit_guard_installed
    with _exit_guard:
        if _exit_guard_installed:
            return
        _exit_guard_installed = True
        hook = sys.excepthook
        if hook is not previous_excepthook and getattr(hook, "__qualname__", "") == "ExitHooks.exc_handler":
            sys.excepthook = previous_excepthook
        atexit.register(_finish_open_runs_first)


def history_rows(series: Mapping[str, Any]) -> tuple[dict[int, dict[str, Any]], int]:
    """Group metric points by step into wandb history rows.

    wandb keeps one history row per step and its steps only grow, so points of every
    metric at the same step share a row (the last point wins), rows are logged in step
    order, and ``_timestamp`` is the time of the row's first point. Negative steps have
    no place in wandb's history and are left out.

    Args:
        series: metric name -> :class:`runlab.store.MetricSeries` (``steps``, ``values``, ``times``).

    Returns:
        ``{step: row}`` and the number of points left out.

    Example:
        >>> from runlab.store import MetricSeries
        >>> loss = MetricSeries("loss")
        >>> loss.steps, loss.values, loss.times = [0, 1], [0.9, 0.5], [10.0, 11.0]
        >>> history_rows({"loss": loss})
        ({0: {'_timestamp': 10.0, 'loss': 0.9}, 1: {'_timestamp': 11.0, 'loss': 0.5}}, 0)
    """
    rows: dict[int, dict[str, Any]] = {}
    skipped = 0
    for name, points in series.items():
        for step, value, when in zip(points.steps, points.values, points.times, strict=True):
            if step < 0:
                skipped += 1
                continue
            row = rows.get(step)
            if row is None:
                row = rows[step] = {"_timestamp": when}
            elif when < row["_timestamp"]:
                row["_timestamp"] = when
            row[name] = value
    return rows, skipped


class WandbPlugin(Plugin):
    """Mirror every run into Weights & Biases, in offline mode unless told otherwise.

    When a run starts, a wandb run is created (``wandb.init``) with the run's params as
    config, its tags, name and description; its id and folder are recorded in
    ``run.json`` (``plugins.wandb``). While the run finishes (hook ``run_finishing``) every
    metric point is logged with its step (one history row per step, with the point's
    time), the summary is set to each metric's last value, figures the run saved as
    artifacts (``run.log_figure``, ``e.commit_fig``, ``e.track`` of a figure: PNG, JPEG, GIF
    or BMP files) are logged as ``wandb.Image`` under ``figures/NAME`` in one history row
    after the last step, and the run ends with ``finish(exit_code=...)``: 0 for completed and
    for pruned (a study stopped the trial; runlab's state is recorded as ``state`` and in the
    W&B summary as ``runlab/state``), 1 for failed, 130 for cancelled.

    Offline runs land in ``<store root>/.runlab/wandb/offline-run-*``; upload them later
    with ``wandb sync <store root>/.runlab/wandb/offline-run-*`` (``--sync-all`` works too).

    Off unless enabled: ``[tool.runlab.plugins] enabled = ["wandb"]``.

    Settings ([tool.runlab.plugins.wandb]):
        mode: ``"offline"`` (default, unless ``WANDB_MODE`` says otherwise), ``"online"``
            or ``"disabled"`` (no mirror).
        project: the wandb project (default: the run's namespace).
        entity: the wandb entity (team or user) for online runs.
        dir: the folder wandb writes its ``wandb/`` folder into (default:
            ``<store root>/.runlab``).
        group: the run group (default: the run's sweep or study id, if any).
        settings: a table of ``wandb.Settings`` fields; by default console capture,
            system metrics, git, code and requirements capture are off (runlab has them).

    Example:
        >>> from runlab.plugins.builtin.wandb import WandbPlugin
        >>> WandbPlugin().project_name("vision"), WandbPlugin({"project": "p"}).project_name("vision")
        ('vision', 'p')
    """

    name = "wandb"
    version = __version__
    author = "runlab developers"
    tags = ("tracking", "mirror", "builtin")
    dependencies = ("wandb",)
    requires = ("wandb",)
    install_hint = "pip install 'runlab[wandb]'"
    # opt-in: a wandb run costs a service process (~0.5 s to start) and a folder per run
    enabled_by_default = False

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._runs: dict[str, Any] = {}
        self._manager: Any = None
        self._sender = BackgroundSender(self.name, self._failed)
        self._ready = False  # wandb imported and its service started in this process
        self._figures: dict[str, dict[str, Path]] = {}

    def initialize(self, context: Any) -> None:
        self._manager = getattr(context, "manager", None)
        if not isinstance(self.settings.get("background", True), bool):
            raise UsageError(
                f"Invalid value for 'background' of the wandb plugin: {self.settings['background']!r} is not true "
                "or false. Set for example background = false in [tool.runlab.plugins.wandb]."
            )

    def _failed(self, hook: str, exc: BaseException, run: Any) -> None:
        if self._manager is not None:
            self._manager.report_failure(self.name, hook, exc, run)
        else:
            print(f"runlab: plugin 'wandb' failed in {hook!r}: {type(exc).__name__}: {exc}", file=sys.__stderr__)

    def _do(self, hook: str, run: Any, job: Any) -> None:
        """Run ``job`` in the background sender (the default), or now with ``background = false``."""
        if self.settings.get("background", True):
            self._sender.submit(hook, run, job)
        else:
            job()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued mirror write was sent; False when ``timeout`` passed first."""
        return self._sender.flush(timeout)

    def cleanup(self) -> None:
        self._sender.close()
        with self._lock:
            runs, self._runs = list(self._runs.values()), {}
        for wrun in runs:  # unloaded while runs were open: close their mirrors
            try:
                wrun.finish(exit_code=1)
            except Exception:
                pass

    # -- where and how ----------------------------------------------------------------
    def mode(self) -> Literal["offline", "online", "disabled", "shared"]:
        """The setting ``mode``, else ``WANDB_MODE``, else ``"offline"``.

        Raises:
            ValueError: not a wandb mode.
        """
        mode = str(self.settings.get("mode") or os.environ.get("WANDB_MODE") or "offline")
        if mode == "dryrun":  # wandb's old name for offline
            mode = "offline"
        if mode not in _MODES:
            raise ValueError(
                f"Invalid value for 'mode' of the wandb plugin: {mode!r} is not one of {', '.join(_MODES)}. "
                'Set mode = "offline" in [tool.runlab.plugins.wandb] (or WANDB_MODE).'
            )
        return cast(Literal["offline", "online", "disabled", "shared"], mode)

    def project_name(self, namespace: str) -> str:
        """The wandb project of runs in ``namespace`` (the setting ``project`` wins)."""
        return str(self.settings.get("project") or namespace)

    def directory(self, run: Any) -> Path:
        """The folder wandb writes its ``wandb/`` folder into."""
        configured = self.settings.get("dir")
        return Path(str(configured)).expanduser() if configured else Path(run.store.root) / ".runlab"

    def config_of(self, run: Any) -> dict[str, Any]:
        """The wandb config of ``run``: its params, plus ``runlab`` (id, namespace, folder)."""
        meta = run.metadata
        config: dict[str, Any] = dict(run.params)
        config.setdefault(
            "runlab",
            {"id": run.id, "namespace": run.namespace, "folder": str(run.path), "experiment": meta.get("experiment")},
        )
        return config

    def _settings(self, wandb: Any) -> Any:
        known = getattr(wandb.Settings, "model_fields", None)
        fields = {k: v for k, v in _DEFAULT_SETTINGS.items() if known is None or k in known}
        fields.update(dict(self.settings.get("settings") or {}))
        return wandb.Settings(**fields)

    # -- hooks ------------------------------------------------------------------------
    @hook("run_state_changed")
    def started(self, run: Any, new: str) -> None:
        """When a run starts: create its wandb run and record its id and folder."""
        if new == "running":
            self.mode()  # a bad mode is reported now, in the hook
            self._do("run_state_changed", run, lambda: self.wandb_run_of(run))

    def wandb_run_of(self, run: Any) -> Any:
        """The wandb run mirroring ``run``, created on first use (None in mode ``disabled``)."""
        with self._lock:
            existing = self._runs.get(run.id)
        if existing is not None:
            return existing
        mode = self.mode()
        if mode == "disabled":
            return None
        import wandb

        folder = self.directory(run)
        folder.mkdir(parents=True, exist_ok=True)
        meta = run.metadata
        previous_excepthook = sys.excepthook
        wrun = wandb.init(
            project=self.project_name(run.namespace),
            entity=self.settings.get("entity") or None,
            dir=str(folder),
            mode=mode,
            reinit="create_new",
            name=run.name or run.id,
            notes=meta.get("description") or None,
            tags=[tag[:_TAG_LENGTH] for tag in run.tags],
            config=self.config_of(run),
            group=self.settings.get("group") or meta.get("sweep") or meta.get("study") or None,
            settings=self._settings(wandb),
        )
        _after_first_init(previous_excepthook)
        if not self._ready:
            self._ready = True
            self._sender.exit_last()  # drain before wandb's own exit hook tears its service down
        with self._lock:
            self._runs[run.id] = wrun
        sync_dir = getattr(wrun.settings, "sync_dir", None) or Path(wrun.dir).parent
        record: dict[str, Any] = {"run_id": wrun.id, "project": wrun.project, "mode": mode, "folder": str(sync_dir)}
        if mode == "offline":
            record["sync"] = f"wandb sync {sync_dir}"
        url = getattr(wrun, "url", None) if mode != "offline" else None  # offline: wandb warns "URL not available"
        if url:
            record["url"] = str(url)
        run.record_plugin("wandb", **record)
        return wrun

    @hook("artifact_saved")
    def artifact_saved(self, run: Any, name: str, path: Any) -> None:
        """Note a figure the run saved; it is mirrored when the run finishes."""
        file = Path(path)
        if file.suffix.lower() in _IMAGE_SUFFIXES and self.mode() != "disabled":
            key = Path(str(name)).with_suffix("").as_posix()
            with self._lock:
                self._figures.setdefault(run.id, {})[key] = file

    @hook("run_finishing", priority=-50)
    def finishing(self, run: Any, status: str) -> None:
        """While a run finishes: queue its metrics with steps, summary, final config and tags, exit code."""
        if self.settings.get("background", True) and not self._ready:
            self.flush()  # the process's first mirrored run: wandb's import and service start finish first
        self._do("run_finishing", run, lambda: self.finish_mirror(run, status))

    def finish_mirror(self, run: Any, status: str) -> dict[str, Any] | None:
        """Write what ``finishing`` queued: the ended ``run``'s history, summary and exit code."""
        wrun = self.wandb_run_of(run)
        with self._lock:
            self._runs.pop(run.id, None)
            figures = self._figures.pop(run.id, {})
        if wrun is None:
            return None
        code = WANDB_EXIT_CODES.get(status, 1)
        try:
            summary = self._write_final(wrun, run, figures, status)
        except BaseException:
            try:
                wrun.finish(exit_code=1)
            except Exception:
                pass
            raise
        wrun.finish(exit_code=code)
        run.record_plugin("wandb", exit_code=code, state=status, **summary)
        return {"run_id": wrun.id, "exit_code": code, "state": status, **summary}

    def _write_final(
        self, wrun: Any, run: Any, figures: Mapping[str, Path] | None = None, status: str | None = None
    ) -> dict[str, Any]:
        from ...store import read_metrics

        series, _ = read_metrics(Path(run.path) / "metrics.jsonl")
        rows, skipped = history_rows(series)
        for step in sorted(rows):
            wrun.log(rows[step], step=step, commit=True)
        present = {key: file for key, file in (figures or {}).items() if file.is_file()}
        if present:  # after the last step: wandb's steps only grow
            import wandb

            images = {f"figures/{key}": wandb.Image(str(file), caption=key) for key, file in present.items()}
            wrun.log(images, step=max(rows) + 1 if rows else 0, commit=True)
        last: dict[str, Any] = {name: points.values[-1] for name, points in series.items() if points.values}
        if status is not None:
            last["runlab/state"] = status
        if last:
            wrun.summary.update(last)
        wrun.config.update(self.config_of(run), allow_val_change=True)
        wrun.tags = tuple(tag[:_TAG_LENGTH] for tag in run.tags)
        summary: dict[str, Any] = {"steps": len(rows), "metrics": sum(len(p.steps) for p in series.values())}
        if present:
            summary["figures"] = len(present)
        if skipped:
            summary["negative_steps_skipped"] = skipped
        return summary
