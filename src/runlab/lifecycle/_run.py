"""The live run: lifecycle, heartbeat, tracking, artifacts, data and output capture."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal

from .._settings import env_number
from ..errors import DataError, ForeignRunError, InvalidTransitionError, RunFinishedError, RunPruned, UsageError
from ..store._files import dumps, dumps_light, write_json_atomic, write_or_link
from ..store._metrics_file import summary_json
from ..store._status import TRANSITIONS, RunStatus
from ..store._store import Store
from ..store._text import check_text, tag_list
from ._artifacts import artifact_name, copy_artifact, safe_artifact_path
from ._background import RunWorker, sync_later, wait_synced
from ._data import RunData
from ._events import emit
from ._output import OutputCapture
from ._tracking import MAX_STEP, MetricBuffer, coerce_metric_value, coerce_step
from ._values import INT64_MIN, param_value, safe_repr, to_json_value

__all__ = ["Run", "RunTerminated"]

_HOST = os.uname().nodename
FLUSH_INTERVAL = env_number("RUNLAB_FLUSH_INTERVAL", 0.5, 0.01)
HEARTBEAT_INTERVAL = env_number("RUNLAB_HEARTBEAT_INTERVAL", 5.0, 0.01)
_time = time.time


class RunTerminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM during a run."""


_OPEN_RUNS: set[Run] = set()
_UNCAUGHT: list[BaseException] = []
_exit_hooks_installed = False


def open_runs() -> list[Run]:
    """The runs of this process that have started and not finished, oldest first."""
    return sorted(_OPEN_RUNS, key=lambda r: r._started_at)


def _install_exit_hooks() -> None:
    """Finish runs left open at interpreter exit, so no buffered metric is lost.

    Runs started without ``with`` and never finished end as ``completed`` on a normal
    exit, ``cancelled`` after an uncaught KeyboardInterrupt or SIGTERM, else ``failed``.
    """
    global _exit_hooks_installed
    if _exit_hooks_installed:
        return
    _exit_hooks_installed = True
    import atexit

    previous = sys.excepthook

    def excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        _UNCAUGHT.append(exc)
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook
    atexit.register(finish_open_runs)


def finish_open_runs() -> None:
    """Finish the runs of this process that are still open, as at interpreter exit.

    Registered with :mod:`atexit` when the first run starts. Integrations whose own exit
    hooks stop something the runs' finishing needs (a service process) call it first.
    """
    exc = _UNCAUGHT[-1] if _UNCAUGHT else None
    for run in list(_OPEN_RUNS):
        try:
            if exc is None:
                run.finish(RunStatus.COMPLETED)
            elif isinstance(exc, (KeyboardInterrupt, RunTerminated)):
                run.finish(RunStatus.CANCELLED, exc)
            else:
                run.finish(RunStatus.FAILED, exc)
        except Exception as error:  # never block interpreter exit
            print(f"runlab: could not finish run {run.id} at exit: {error}", file=sys.__stderr__)


_TERM_RUNS: set[Run] = set()  # open runs started in the main thread: SIGTERM cancels them
_term_prev: Any = None  # the SIGTERM handler runlab's replaced, put back when the last of those runs ends


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """runlab's SIGTERM handler: cancel the open runs (``RunTerminated``), else act as the handler it replaced."""
    global _term_prev
    runs = sorted(_TERM_RUNS, key=lambda r: getattr(r, "_started_at", 0.0))  # one may be starting
    if runs:
        raise RunTerminated(f"SIGTERM received by run {', '.join(r.id for r in runs)}")
    prev, _term_prev = _term_prev, None  # their last one ended outside the main thread: put it back now
    signal.signal(signal.SIGTERM, prev if prev is not None else signal.SIG_DFL)
    _deliver_sigterm(prev if prev is not None else signal.SIG_DFL, frame)


def _deliver_sigterm(handler: Any, frame: FrameType | None, group: bool = False) -> None:
    """What SIGTERM does without runlab: the default (the process ends by SIGTERM) or the user's handler.

    ``group`` (a process that leads its process group): the default ends the whole group with it, by one
    signal, so a process forked meanwhile (a pool replacing a worker that ended) is never left behind.
    """
    if handler is signal.SIG_DFL:
        sys.stdout.flush()
        sys.stderr.flush()
        wait_synced()  # the process ends without its exit hooks: the cancelled run's record goes to disk first
        if group:
            os.killpg(os.getpgrp(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
    elif callable(handler):
        handler(signal.SIGTERM, frame)


def _hold_sigterm(run: Run) -> None:
    """Let SIGTERM cancel ``run`` (a run of the main thread; only that thread can set handlers).

    One handler serves every open run; the one it replaced (the default, or the user's) comes
    back when the last of them ends, however they end (``with``, ``finish()``, in any order).
    """
    global _term_prev
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGTERM)
    if current is not _on_sigterm:
        if current in (signal.SIG_IGN, None):
            return
        _term_prev = current
        signal.signal(signal.SIGTERM, _on_sigterm)
    _TERM_RUNS.add(run)


def _release_sigterm(run: Run) -> Any:
    """``run`` ended: when it was the last, put back the handler runlab replaced and return it (else None).

    A handler installed meanwhile by the user (not runlab's) is left in place.
    """
    global _term_prev
    if run not in _TERM_RUNS:
        return None
    _TERM_RUNS.discard(run)
    if _TERM_RUNS or threading.current_thread() is not threading.main_thread():
        return None  # elsewhere: _on_sigterm acts as the previous handler until the next run
    prev, _term_prev = _term_prev, None
    if signal.getsignal(signal.SIGTERM) is not _on_sigterm:
        return None
    signal.signal(signal.SIGTERM, prev)
    return prev


def _after_fork_in_child() -> None:
    """In a forked child: the parent's open runs are not this process's to change.

    Each becomes read-only here (changing it raises :class:`~runlab.ForeignRunError` instead
    of writing into the parent's files or losing the values silently), exit hooks leave it
    alone, the parent's SIGTERM handler is removed and locks that another thread of the
    parent may have held are replaced.
    """
    runs = sorted(_OPEN_RUNS, key=lambda r: r._started_at)
    _OPEN_RUNS.clear()
    for run in runs:
        run._foreign = os.getpid()
        run._closed = True
        run._worker = None
        run._meta_lock = threading.RLock()
        run.data.refuse(run._foreign_error())
        if run._output is not None:
            run._output.after_fork()
    global _term_prev
    _TERM_RUNS.clear()
    if _term_prev is not None and signal.getsignal(signal.SIGTERM) is _on_sigterm:
        try:
            signal.signal(signal.SIGTERM, _term_prev)
            _term_prev = None
        except ValueError:  # forked from a thread other than the main thread: _on_sigterm acts as _term_prev
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _now() -> str:
    return datetime.now().astimezone().isoformat()


def _param_record(name: str, value: Any, info: Mapping[str, Any] | None) -> dict[str, Any]:
    """A parameter's ``run.json`` record; a value that is not storable JSON is recorded as its ``repr``.

    Storable means :func:`~runlab.lifecycle._values.to_json_value` accepts it; what it does
    not (an object, an integer beyond 64 bits) becomes text with ``usable: false``, so the
    run starts and its record shows the value, but a rerun cannot give it back.
    """
    info = info or {}
    kind = type(value).__name__
    try:
        value, usable = to_json_value(value, name), True
    except DataError:
        value, usable = safe_repr(value), False
    return {
        "value": value,
        "type": info.get("type") or kind,
        "description": info.get("description"),
        "usable": info.get("usable", usable),
    }


def _check_info(name: Any, description: Any) -> None:
    """Refuse a run name or description that ``run.json`` could not hold (as one line / as text).

    Raises:
        UsageError: naming the value and what is expected.
    """
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise UsageError(f"Invalid run name {name!r}: expected a non-empty string.")
    if description is not None and not isinstance(description, str):
        raise UsageError(f"Invalid description {description!r}: expected text (a str) or None.")
    check_text("run name", name)
    check_text("description", description)
    if name is not None and not name.isprintable():
        bad = next(c for c in name if not c.isprintable())
        raise UsageError(f"Invalid run name {name!r}: it contains the control character {bad!r}; a name is "
                         "one line of text. Remove it.")  # fmt: skip


class Run:
    """One execution of an experiment: its folder, state, metrics, data and artifacts.

    Create runs with :func:`runlab.start_run` (or the experiment styles built on it).
    States move ``created -> running -> completed | failed | cancelled``; a finished run
    accepts no more changes (:class:`~runlab.RunFinishedError`). Logging methods may be
    called from any thread. Metric points are buffered and appended to ``metrics.jsonl``
    at least every second; a heartbeat records pid, host and time every few seconds.

    Example:
        >>> import runlab, tempfile
        >>> with runlab.start_run(params={"lr": 0.1}, root=tempfile.mkdtemp(), capture=False) as run:
        ...     for step in range(3):
        ...         run.log_metric("loss", 1.0 / (step + 1))
        ...     run.data["best/epoch"] = 2
        ...     _ = run.save_text("notes.txt", "converged")
        >>> run.status
        'completed'
    """

    def __init__(self, store: Store, meta: dict[str, Any], folder: Path) -> None:
        self.store = store
        self.path = folder
        self._meta = meta
        self._meta_lock = threading.RLock()
        self.data = RunData()
        self._metrics = MetricBuffer(folder / "metrics.jsonl", on_batch=self._metrics_written)
        self._push_metric = self._metrics.push  # the hot path of log_metric, bound once
        self._metric_names = self._metrics.names
        self._flush_due = float("inf")  # when log_metric flushes itself: FLUSH_INTERVAL after the last flush
        self._closed = False
        self._final_written = False  # closed runs: whether finish() wrote the final record yet
        self._worker: RunWorker | None = None
        self._output: OutputCapture | None = None
        self._prev_sigterm: Any = None  # after finish(): the SIGTERM handler put back, for __exit__
        self._source: Path | None = None
        self._capture = True
        self._capture_output = True
        self._foreign: int | None = None  # the pid of a forked child holding a copy of this run
        self._step_listeners: list[Callable[[str, float, int], None]] = []
        self._prior_duration = 0.0  # a resumed run: the seconds its earlier attempts ran
        self._reproducible = False

    # -- construction -----------------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        store: Store,
        namespace: str | None = None,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        param_info: Mapping[str, Mapping[str, Any]] | None = None,
        tags: Iterable[str] | str | None = None,
        description: str | None = None,
        experiment: str | None = None,
        source: str | os.PathLike[str] | None = None,
        links: Mapping[str, str | int | None] | None = None,
        origin: Mapping[str, Any] | None = None,
        hooks: Mapping[str, Any] | None = None,
        folder_name: str | None = None,
        capture: bool = True,
        capture_output: bool = True,
        reproducible: bool = False,
        staged: bool = False,
    ) -> Run:
        """Create a run in state ``created`` (its folder, ``run.json`` and index row).

        The record names this process as the run's creator (``heartbeat``: pid, host, time, written
        once): a created run whose creator died on this host before starting it reads ``crashed``
        (it can be resumed, and ``runlab gc`` collects it). ``staged=True`` records no creator, for a
        run that another process may start later (``ExperimentManager.create_experiment``): it stays
        ``created`` when this process ends.

        ``reproducible`` saves, when the run finishes, what ``runlab reproduce`` needs:
        dependencies with their origins, sources of editable packages and imported local
        modules (see :mod:`runlab.lifecycle._reproducible`).

        ``hooks`` describes the experiment's own hooks (name -> implementations) for the record.
        ``origin`` records how the run was started, so ``runlab rerun`` can start it again:
        ``{"style": "functional" | "script" | "context", "path": ..., ...}`` (JSON values).
        ``folder_name`` fixes the folder's name (replacing a previous folder of that name,
        as debug runs do).
        """
        _check_info(name, description)
        if params is not None and not isinstance(params, Mapping):
            raise UsageError(f"Invalid params {safe_repr(params)}: expected a mapping of parameter names to values.")
        if params is not None and any(str(k) == "" for k in params):
            raise UsageError("Invalid parameter name '': a parameter needs a name (the index and --where address it).")
        info = param_info or {}
        meta: dict[str, Any] = {
            "id": None,
            "name": name,
            "namespace": namespace or "default",
            "experiment": experiment,
            "status": RunStatus.CREATED.value,
            "created": _now(),
            "started": None,
            "ended": None,
            "duration": None,
            "error": None,
            "params": {str(k): _param_record(str(k), v, info.get(str(k))) for k, v in (params or {}).items()},
            "tags": tag_list(tags),
            "description": description,
            "rerun_of": None,
            "sweep": None,
            "study": None,
            "trial": None,
            "workflow": None,
            "parent": None,
            **dict(links or {}),
            "origin": dict(origin) if origin else None,
            "source": None,
            "heartbeat": None if staged else {"pid": os.getpid(), "host": _HOST, "time": _time()},
            "git": None,
            "env": None,
            "hooks": dict(hooks or {}),
            "plugins": {},
        }
        meta, folder = store.create(meta, folder_name=folder_name, replace=folder_name is not None)
        run = cls(store, meta, folder)
        run._capture = capture
        run._capture_output = capture_output
        run._reproducible = reproducible
        if reproducible:
            meta["reproducible"] = {"pending": True}
        if source is not None:
            run._source = Path(source).resolve()
            meta["source"] = str(run._source)
        emit("run_state_changed", run, old=None, new=RunStatus.CREATED.value)
        return run

    # -- read-only view ---------------------------------------------------------------
    @property
    def id(self) -> str:
        """The run's 8-hex-character ID."""
        return self._meta["id"]  # type: ignore[no-any-return]

    @property
    def name(self) -> str | None:
        return self._meta["name"]  # type: ignore[no-any-return]

    @property
    def namespace(self) -> str:
        return self._meta["namespace"]  # type: ignore[no-any-return]

    @property
    def status(self) -> str:
        """The current state: created, running, completed, failed or cancelled."""
        return self._meta["status"]  # type: ignore[no-any-return]

    @property
    def params(self) -> dict[str, Any]:
        """The parameter values (a copy)."""
        return {k: param_value(v) for k, v in self._meta["params"].items()}

    @property
    def tags(self) -> list[str]:
        return list(self._meta["tags"])

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of what ``run.json`` holds."""
        with self._meta_lock:
            return dict(self._meta)

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.namespace}/{self.name or ''} {self.status}>"

    # -- lifecycle --------------------------------------------------------------------
    def _transition(self, target: RunStatus) -> None:
        current = RunStatus(self._meta["status"])
        if target not in TRANSITIONS[current]:
            if current.finished:
                raise RunFinishedError(
                    f"Run {self.id} already finished with status {current.value!r}; a finished run does not change. "
                    "Start a new run instead."
                )
            raise InvalidTransitionError(
                f"Run {self.id} cannot go from {current.value!r} to {target.value!r}; allowed: "
                f"{', '.join(s.value for s in TRANSITIONS[current]) or 'none'}."
            )
        self._meta["status"] = target.value

    def _write_meta(self, summaries: Mapping[str, Any] | None = None, fsync: bool = True) -> None:
        with self._meta_lock:
            self.store.save(self.path, self._meta, summaries, fsync=fsync)

    def start(self) -> Run:
        """Move to ``running``: start the heartbeat, the flusher, capture and output copying.

        Whatever ends the start once the run is ``running`` (SIGTERM or Ctrl-C arriving now, a full
        disk) ends the run as it would end a ``with`` block (``cancelled``, ``failed``) before it
        propagates: no run stays ``running`` for a process that has moved on.
        """
        # SIGTERM cancels the run from before 'running' can be seen: one sent on seeing it (a sweep's
        # cancel) used to meet the previous handler (the default: the run read 'crashed')
        _hold_sigterm(self)
        moved = False
        try:
            with self._meta_lock:
                self._transition(RunStatus.RUNNING)
                moved = True
                now = _now()
                if self._meta["started"] is None:  # a resumed run keeps its first start
                    self._meta["started"] = now
                self._started_at = time.monotonic()
                beat = {"pid": os.getpid(), "host": _HOST, "time": _time(), "every": HEARTBEAT_INTERVAL}
                self._meta["heartbeat"] = beat
                self._meta.setdefault("attempts", []).append(
                    {"start": now, "end": None, "status": RunStatus.RUNNING.value, "host": _HOST, "pid": os.getpid()}
                )
                self._write_meta(fsync=False)  # heartbeats and the final record supersede it; that one is synced
            if self._capture_output:
                self._output = OutputCapture(self.path / "out.log")
            self._flush_due = _time() + FLUSH_INTERVAL
            self._worker = RunWorker(self, self._capture, FLUSH_INTERVAL, HEARTBEAT_INTERVAL).start()
            _OPEN_RUNS.add(self)
            _install_exit_hooks()
            emit("run_state_changed", self, old=RunStatus.CREATED.value, new=RunStatus.RUNNING.value)
        except BaseException as exc:
            if not moved:
                _release_sigterm(self)
            elif not self._closed:  # the start was cut short once 'running': end the run as a block would
                try:
                    self.__exit__(type(exc), exc, exc.__traceback__)
                except Exception as error:  # the start's own exception is the one to see
                    print(f"runlab: run {self.id} could not be ended after its start failed: {error}",
                          file=sys.__stderr__)  # fmt: skip
            raise
        return self

    def _call_later(self, delay: float, job: Callable[[], None]) -> bool:
        """Call ``job`` on the background thread in ``delay`` s if the run is still open then.

        Returns False (and schedules nothing) when the run is not running in this process.
        """
        worker = self._worker
        if worker is None or self._closed:
            return False
        worker.later(delay, job)
        return True

    def _run_capture(self) -> None:
        source = self._source or _main_source()
        code_dir = self.path / "code"
        try:
            from ._capture import capture_environment, capture_git, list_distributions, snapshot_code

            git, patch = capture_git(source.parent if source else Path.cwd())
            if patch:
                code_dir.mkdir(exist_ok=True)
                (code_dir / "git.patch").write_text(patch, encoding="utf-8")
            if source is not None:
                snapshot_code(source, code_dir)
            env = capture_environment()
            dists = list_distributions()
            env_dir = self.path / "env"
            env_dir.mkdir(exist_ok=True)
            # the same for every run of the process: one shared copy (hard links where possible)
            requirements = "".join(f"{n}=={v}\n" for n, v in dists).encode()
            write_or_link(
                env_dir / "requirements.txt", ("requirements", requirements), lambda p: p.write_bytes(requirements)
            )
            dependencies = dumps_light(dict(dists))
            write_or_link(
                env_dir / "dependencies.json", ("dependencies", dependencies), lambda p: p.write_bytes(dependencies)
            )
            with self._meta_lock:
                self._meta["git"] = git
                self._meta["env"] = env
                if source is not None and self._meta.get("source") is None:
                    self._meta["source"] = str(source)
        except Exception as exc:  # capture must never break the run
            with self._meta_lock:
                self._meta["capture_error"] = f"{type(exc).__name__}: {exc}"

    def _save_reproducible(self) -> None:
        from ._reproducible import capture_reproducible

        try:
            origin = self._meta.get("origin") or {}
            extra = [Path(origin["config"])] if isinstance(origin.get("config"), str) else []
            record = capture_reproducible(self.path, self._source or _main_source(), extra)
        except Exception as exc:  # reproducible capture must never break the run
            record = {"problems": [f"{type(exc).__name__}: {exc}"]}
        with self._meta_lock:
            self._meta["reproducible"] = record

    def _flush(self, notify: bool = True) -> None:
        self._flush_due = _time() + FLUSH_INTERVAL
        self._metrics.flush(notify)
        snapshot = self.data.snapshot()
        if snapshot is not None:
            write_json_atomic(self.path / "data.json", snapshot, fsync=False)

    def _flush_now(self) -> None:
        """Flush from the logging thread: the worker has not flushed for ``FLUSH_INTERVAL``.

        This keeps the crash-loss bound (a SIGKILL loses at most about the last second) when a
        tight logging loop leaves the worker thread no CPU time. Failures are reported like
        the worker's, never raised into the caller's loop; ``metrics_logged`` for these points
        still fires from the worker (or at finish), so listeners never slow the loop.
        """
        self._flush_due = _time() + FLUSH_INTERVAL
        try:
            self._flush(notify=False)
        except Exception as exc:
            worker = self._worker
            if worker is not None:
                worker.report(exc)

    def _beat(self) -> None:
        with self._meta_lock:
            if self._closed:
                return
            beat = {"pid": os.getpid(), "host": _HOST, "time": _time(), "every": HEARTBEAT_INTERVAL}
            self._meta["heartbeat"] = beat
            write_json_atomic(self.path / "run.json", self._meta, fsync=False)  # the next beat replaces it
        self.store.heartbeat(self.id, beat, dict(self._metrics.summaries))

    def finish(self, status: RunStatus | str = RunStatus.COMPLETED, error: BaseException | str | None = None) -> None:
        """End the run with ``status``, recording ``error`` (an exception or a message).

        Raises:
            RunFinishedError: the run had already finished.
        """
        target = RunStatus(status)
        if self._foreign:  # a forked child leaving the parent's block: the parent ends its run
            return
        with self._meta_lock:
            if self._closed:
                raise RunFinishedError(
                    f"Run {self.id} already finished with status {self._meta['status']!r}; "
                    "a finished run does not change."
                )
            old = self._meta["status"]
            self._transition(target)
            self._closed = True
        _OPEN_RUNS.discard(self)
        try:
            if self._worker is not None:
                self._worker.stop()
            self._metrics.close()
            snapshot = self.data.snapshot()
            if snapshot is not None:
                write_json_atomic(self.path / "data.json", snapshot, fsync=False)  # synced with run.json below
            if self._reproducible:
                self._save_reproducible()
            # metrics, data and capture are complete; what listeners add (plugin records,
            # plots) becomes part of the final record written below
            emit("run_finishing", self, status=target.value)
        finally:
            if self._output is not None:
                self._output.stop()
                self._output = None
            with self._meta_lock:
                ended = datetime.now().astimezone()
                self._meta["ended"] = ended.isoformat()
                if self._meta["started"] and hasattr(self, "_started_at"):
                    self._meta["duration"] = round(self._prior_duration + time.monotonic() - self._started_at, 6)
                attempts = self._meta.get("attempts")
                if attempts and attempts[-1].get("end") is None:
                    attempts[-1].update(end=self._meta["ended"], status=target.value)
                self._meta["error"] = _error_record(error, target) if error is not None else None
                if self._worker is not None and self._worker.errors:
                    self._meta["writer_errors"] = self._worker.errors
                self._meta["metrics"] = {k: summary_json(v) for k, v in self._metrics.summaries.items()}
                self._write_meta(self._meta["metrics"], fsync=False)
                self._final_written = True
            # forced to disk on the background thread, off the run's time (exit waits for it)
            sync_later([self.path / "data.json", self.path / "run.json"])
            self._prev_sigterm = _release_sigterm(self)
        emit("run_state_changed", self, old=old, new=target.value)

    def complete(self) -> None:
        """Finish as ``completed``."""
        self.finish(RunStatus.COMPLETED)

    def fail(self, error: BaseException | str) -> None:
        """Finish as ``failed`` with an exception or a message."""
        self.finish(RunStatus.FAILED, error)

    def cancel(self, reason: str = "cancelled") -> None:
        """Finish as ``cancelled`` with a reason."""
        self.finish(RunStatus.CANCELLED, reason)

    def __enter__(self) -> Run:
        if self.status == RunStatus.CREATED.value:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if self._closed:
            return False
        if exc is None:
            self.finish(RunStatus.COMPLETED)
        elif isinstance(exc, (KeyboardInterrupt, RunTerminated)):
            self.finish(RunStatus.CANCELLED, exc)
        elif isinstance(exc, RunPruned):
            self.finish(RunStatus.PRUNED, exc)
        elif isinstance(exc, SystemExit) and exc.code in (0, None):
            self.finish(RunStatus.COMPLETED)
        else:
            self.finish(RunStatus.FAILED, exc)
        prev, self._prev_sigterm = self._prev_sigterm, None
        if isinstance(exc, RunTerminated) and prev is not None:  # the last run SIGTERM cancelled
            _deliver_sigterm(prev, None)
        return False

    def update_origin(self, **fields: Any) -> None:
        """Change how ``runlab rerun`` starts this run again (``style``, ``path``, ...) while it is open.

        Raises:
            RunFinishedError: the run has finished.
        """
        with self._meta_lock:
            self._check_open()
            self._meta["origin"] = {**(self._meta.get("origin") or {}), **fields}

    def record_plugin(
        self, plugin: str, *, error: Mapping[str, Any] | None = None, save: bool = True, **fields: Any
    ) -> None:
        """Merge ``fields`` into ``run.json``'s ``plugins.PLUGIN`` section (and append ``error`` to its errors).

        For plugins: an integration's own record (an MLflow run id, a URL) or a failure. While
        the run is open the record is written now; while it finishes (``run_finishing``) it
        goes into the final record; after that, ``run.json`` is rewritten with it (plugin
        records are the one part of a finished run's record that hooks may still add to).
        ``save=False`` leaves the write to the run's next save.

        Example:
            >>> import runlab, tempfile
            >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
            ...     run.record_plugin("mirror", url="file:///tmp/mlruns", remote_id="abc")
            >>> runlab.load(run.id, root=run.store).metadata["plugins"]["mirror"]["remote_id"]
            'abc'
        """
        if not isinstance(plugin, str) or not plugin:
            raise UsageError(f"Invalid plugin name {plugin!r}: expected a non-empty string.")
        with self._meta_lock:
            record = self._meta.setdefault("plugins", {}).setdefault(plugin, {})
            record.update(fields)
            if error is not None:
                entry = {"time": _now(), **dict(error)}
                record.setdefault("errors", []).append(entry)
            if not save or (self._closed and not self._final_written):
                return  # written with the run's next save (finishing: the final record)
            if self._closed:
                self.store.save(self.path, self._meta)
            else:
                self._write_meta()

    # -- tracking ---------------------------------------------------------------------
    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record one metric point; ``step`` defaults to the previous step of ``name`` plus one.

        Example:
            >>> # run.log_metric("loss", 0.25)            # step 0, then 1, 2, ...
            >>> # run.log_metric("val/acc", 0.9, step=10)
        """
        if self._closed:
            if self._foreign:
                raise self._foreign_error()
            raise RunFinishedError(f"Run {self.id} has finished; metrics can no longer be logged.")
        if value.__class__ is not float:
            value = coerce_metric_value(name, value)
        if step is not None and (step.__class__ is not int or step > MAX_STEP or step < INT64_MIN):
            step = coerce_step(step)
        if name not in self._metric_names:
            self._metrics.add_name(name)
        now = _time()
        self._push_metric((name, step, value, now))
        if now >= self._flush_due:  # the flusher is late (a busy loop starves it): write from here
            self._flush_now()
        if self._step_listeners and step is not None:
            for listener in self._step_listeners:
                listener(name, value, step)

    def add_step_listener(self, listener: Callable[[str, float, int], None]) -> None:
        """Call ``listener(name, value, step)`` in the logging thread for every metric logged with a step.

        What the listener raises reaches the code that logged the point: a study trial's run
        uses it to report intermediate values and to stop (:class:`~runlab.errors.RunPruned`).
        """
        self._step_listeners.append(listener)

    def next_step(self, name: str) -> int:
        """The step the next point of metric ``name`` gets by default: its last step + 1, else 0.

        A resumed run counts the steps of its earlier attempts, so a training loop can
        continue where the last attempt stopped.

        Example:
            >>> import runlab, tempfile
            >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
            ...     run.log_metric("loss", 0.5, step=9)
            ...     run.next_step("loss"), run.next_step("acc")
            (10, 0)
        """
        self._metrics.flush()
        return self._metrics.next_step.get(name, 0)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record several metrics at once (each with ``step``, or its own next step)."""
        if not isinstance(metrics, Mapping):
            raise UsageError(f"Invalid metrics {safe_repr(metrics)}: expected a mapping such as {{'loss': 0.1}}.")
        for name, value in metrics.items():
            self.log_metric(name, value, step)

    def log_params(self, params: Mapping[str, Any], info: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Add or update parameters of a run that has not finished."""
        self._check_open()
        if not isinstance(params, Mapping):
            raise UsageError(f"Invalid params {safe_repr(params)}: expected a mapping of parameter names to values.")
        with self._meta_lock:
            for key, value in params.items():
                self._meta["params"][str(key)] = _param_record(str(key), value, (info or {}).get(str(key)))
            self._write_meta()

    def add_tags(self, *tags: str) -> None:
        """Add tags to a run that has not finished."""
        self._check_open()
        with self._meta_lock:
            self._meta["tags"] = list(dict.fromkeys([*self._meta["tags"], *tag_list(list(tags))]))
            self._write_meta()

    def set_info(self, *, name: str | None = None, description: str | None = None) -> None:
        """Give a run that has not finished a name and/or a description (None leaves one as it is).

        Raises:
            UsageError: an empty name.
            RunFinishedError: the run has finished.
        """
        _check_info(name, description)
        self._check_open()
        with self._meta_lock:
            if name is not None:
                self._meta["name"] = name
            if description is not None:
                self._meta["description"] = description
            self._write_meta()

    def _foreign_error(self) -> ForeignRunError:
        owner = (self._meta.get("heartbeat") or {}).get("pid", "?")
        return ForeignRunError(
            f"Run {self.id} belongs to process {owner}; this is process {os.getpid()}, a worker forked from it, "
            "which cannot record into it. Return the values from the worker (a Pool's map, a Queue) and log "
            "them in the run's process."
        )

    def set_total(self, total: int) -> None:
        """Say how many steps the run will take (its last step + 1), for progress and an ETA.

        ``runlab watch`` shows ``step/total`` and the estimated time left; the value is kept in
        ``run.json`` as ``total``.

        Example:
            >>> import runlab, tempfile
            >>> with runlab.start_run(root=tempfile.mkdtemp(), capture=False) as run:
            ...     run.set_total(100)
            >>> runlab.load(run.id, root=run.store).metadata["total"]
            100
        """
        self._check_open()
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise UsageError(f"Invalid total {total!r}: expected the number of steps, a whole number >= 1.")
        with self._meta_lock:
            self._meta["total"] = total
            self._write_meta()

    def _check_open(self) -> None:
        if self._foreign:
            raise self._foreign_error()
        if self._closed:
            raise RunFinishedError(f"Run {self.id} has finished; its record no longer changes.")

    # -- artifacts --------------------------------------------------------------------
    def artifact_path(self, name: str | os.PathLike[str]) -> Path:
        """The path where artifact ``name`` lives (folders created); refuses names leaving ``artifacts/``."""
        base = self.path / "artifacts"
        base.mkdir(exist_ok=True)
        target = safe_artifact_path(base, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def _saved(self, target: Path) -> Path:
        emit("artifact_saved", self, name=target.relative_to(self.path / "artifacts").as_posix(), path=target)
        return target

    def _metrics_written(self, counts: dict[str, int]) -> None:
        emit("metrics_logged", self, counts=counts)

    def log_artifact(self, source: str | os.PathLike[str], name: str | None = None) -> Path:
        """Copy a file or folder into the run's artifacts (as ``name``, default its own name)."""
        self._check_open()
        src = Path(source)
        return self._saved(
            copy_artifact(
                src, self.artifact_path(src.name if name is None or (isinstance(name, str) and not name) else name)
            )
        )

    def save_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` as artifact ``name``."""
        self._check_open()
        target = self.artifact_path(name)
        target.write_bytes(data)
        return self._saved(target)

    def save_text(self, name: str, text: str) -> Path:
        """Write ``text`` (UTF-8) as artifact ``name``; text that is not valid Unicode raises
        :class:`~runlab.UsageError` and writes nothing."""
        self._check_open()
        shown = repr(artifact_name(name))
        safe_artifact_path(self.path / "artifacts", name)  # a bad name first, as for every artifact call
        if not isinstance(text, str):
            raise UsageError(f"Invalid text for artifact {shown}: expected a str, not {type(text).__name__}; "
                             "save bytes with run.save_bytes.")  # fmt: skip
        check_text(f"text for artifact {shown}", text,
                   "Remove them, or save text.encode('utf-8', 'replace') with run.save_bytes.")  # fmt: skip
        target = self.artifact_path(name)
        target.write_text(text, encoding="utf-8")
        return self._saved(target)

    def save_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as indented JSON as artifact ``name``, converted as ``run.data`` values are (NaN as
        ``"NaN"``); a value that is not storable raises :class:`~runlab.DataError` and writes nothing."""
        self._check_open()
        target = self.artifact_path(name)
        data = dumps(to_json_value(obj, os.fspath(name))) + b"\n"
        target.write_bytes(data)
        return self._saved(target)

    def log_figure(self, figure: Any, name: str = "figure.png", **savefig_kwargs: Any) -> Path:
        """Save a matplotlib figure under ``artifacts/`` (PNG or SVG by the name's suffix; PNG if none).

        Example:
            >>> # fig, ax = plt.subplots(); ax.plot([1, 2]); run.log_figure(fig, "plots/curve.svg")
        """
        self._check_open()
        if not callable(getattr(figure, "savefig", None)):
            raise UsageError(f"Invalid figure {figure!r}: expected a matplotlib Figure (with a savefig method).")
        suffix = Path(artifact_name(name)).suffix.lower().lstrip(".")
        if not suffix:
            name, suffix = f"{name}.png", "png"
        target = self.artifact_path(name)
        figure.savefig(target, format=suffix, **savefig_kwargs)
        return self._saved(target)


def _error_record(error: BaseException | str, status: RunStatus) -> dict[str, Any]:
    """``run.json``'s ``error``; a message alone (``runlab.fail("diverged")``) gets the state as its type."""
    if isinstance(error, BaseException):
        import traceback

        return {
            "type": type(error).__name__,
            "message": str(error),
            "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        }
    return {"type": status.value.capitalize(), "message": str(error), "traceback": None}


def _main_source() -> Path | None:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path and str(path).endswith(".py"):
        return Path(path).resolve()
    return None
