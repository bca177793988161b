"""One run of an experiment through the hook points: the part every style shares.

:class:`RunDriver` is how the functional, context and script styles create, start and end
their run, so plugins see the same hooks in the same order whichever style a user chose::

    before_experiment_initialize   (experiment)
    -- the run is created --
    after_experiment_initialize    (experiment, run)
    -- the run starts (running) and becomes the current run --
    [before_testing                (experiment, run)     functional style, testing mode]
    before_run                     (experiment, run)
    -- the user's code --
    after_run                      (experiment, run, result)          when it returned
    before_experiment_error        (experiment, run, error)           when it raised
    -- the run finishes (completed, failed or cancelled) --
    after_experiment_finalize      (experiment, run)

A critical plugin failing in ``after_run`` fails the run; one failing before the run exists
stops the experiment with :class:`~runlab.PluginError` and leaves nothing behind.
"""

from __future__ import annotations

import sys
from contextvars import Token
from typing import Any

from ..errors import RunPruned
from ..hooks import HookRegistry, get_registry
from ..hooks._specs import (
    AFTER_EXPERIMENT_FINALIZE,
    AFTER_EXPERIMENT_INITIALIZE,
    AFTER_RUN,
    BEFORE_EXPERIMENT_ERROR,
    BEFORE_EXPERIMENT_INITIALIZE,
    BEFORE_RUN,
    BEFORE_TESTING,
)
from ..lifecycle import Run
from ..lifecycle._run import RunTerminated
from ..store import RunStatus
from ..store._store import Store
from ._current import mark_attachable, reset_current, set_current

__all__ = ["EndRun", "RunDriver", "status_of"]


class EndRun(BaseException):
    """Raised by ``runlab.completed()``, ``fail()`` and ``cancel()`` to end the run early.

    A ``BaseException`` like ``SystemExit``: an ``except Exception:`` in the user's code does
    not swallow it, so the run ends with the state asked for. :meth:`RunDriver.end` and the
    ``with runlab.run()`` block record that state.
    """

    def __init__(self, status: RunStatus, message: str | None) -> None:
        super().__init__(message or status.value)
        self.status = status
        self.message = message


def status_of(error: BaseException | None) -> RunStatus:
    """The final state for code that ended with ``error`` (None: it returned)."""
    if error is None:
        return RunStatus.COMPLETED
    if isinstance(error, (KeyboardInterrupt, RunTerminated)):
        return RunStatus.CANCELLED
    if isinstance(error, SystemExit) and error.code in (0, None):
        return RunStatus.COMPLETED
    if isinstance(error, RunPruned):
        return RunStatus.PRUNED
    return RunStatus.FAILED


class RunDriver:
    """Creates, starts and ends one experiment's run, firing the experiment hooks.

    Args:
        experiment: the object plugins receive as ``experiment`` (an
            :class:`~runlab.Experiment`, a :class:`~runlab.Script` or a
            :class:`~runlab.experiment.RunContext`).
        store: where the run goes.

    Example:
        >>> import tempfile
        >>> from runlab.store import Store
        >>> driver = RunDriver("demo", Store(tempfile.mkdtemp()))
        >>> run = driver.initialize(namespace="demo", capture=False)
        >>> _ = driver.start()
        >>> driver.end(None, result=42).status
        'completed'
    """

    def __init__(self, experiment: Any, store: Store) -> None:
        self.experiment = experiment
        self.store = store
        self.hooks: HookRegistry = get_registry()
        from .._activation import activate_for_experiment

        self._join_late = activate_for_experiment()  # the system plugin samples experiment-style runs only
        self.run: Run | None = None
        self.error: BaseException | None = None
        """After :meth:`end`: the error the run ended with (a critical plugin's, if one failed in after_run)."""
        self._token: Token[Run | None] | None = None

    def apply(self, hook: str, **kwargs: Any) -> Any:
        """Fire a plugin hook with ``experiment`` (and ``run`` once it exists) added."""
        kwargs.setdefault("experiment", self.experiment)
        if self.run is not None:
            kwargs.setdefault("run", self.run)
        return self.hooks.apply(hook, **kwargs)

    def initialize(self, **create: Any) -> Run:
        """Fire ``before_experiment_initialize``, create the run (``Run.create`` arguments), fire
        ``after_experiment_initialize``. A failing critical plugin afterwards fails the new run.

        ``resume`` (an ID, name or ``"auto"``, see :func:`runlab.start_run`) reopens a crashed or
        cancelled run instead of creating one."""
        resume = create.pop("resume", None)
        self.apply(BEFORE_EXPERIMENT_INITIALIZE)
        resumed = None
        if resume is not None:  # continue a crashed or cancelled run (RunOptions.resume)
            from ..lifecycle._resume import reopen

            resumed = reopen(
                self.store, resume, name=create.get("name"), namespace=create.get("namespace"),
                params=create.get("params"), tags=create.get("tags"), capture=create.get("capture", True),
                capture_output=create.get("capture_output", True),
            )  # fmt: skip
        self.run = resumed if resumed is not None else Run.create(store=self.store, **create)
        try:
            self.apply(AFTER_EXPERIMENT_INITIALIZE)
        except BaseException as exc:
            self.run.start()
            self.run.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self.run

    def start(self, *, testing: bool = False, attachable: bool = False) -> Run:
        """Start the run, make it current, fire ``before_testing`` (when ``testing``) and ``before_run``.

        Args:
            testing: the experiment runs in testing mode.
            attachable: a ``with runlab.run()`` block inside the code joins this run.
        """
        assert self.run is not None, "initialize() first"
        self.run.start()
        try:  # from here on, whatever ends the start (SIGTERM arriving now too) ends the run through end()
            self._token = set_current(self.run)
            if self.run.metadata.get("study"):
                from ._trial import attach_trial

                try:
                    attach_trial(self.run)
                except Exception as exc:  # the run still runs, without pruning
                    print(f"runlab: run {self.run.id} cannot report to its study ({type(exc).__name__}: {exc}); "
                          "it runs without pruning.", file=sys.stderr)  # fmt: skip
            if attachable:
                mark_attachable(self.run)
            if testing:
                self.apply(BEFORE_TESTING)
            self.apply(BEFORE_RUN)
            if self._join_late:
                from .._activation import join_late

                join_late(self.run, self.experiment)
        except BaseException as exc:
            self.end(exc)
            raise
        return self.run

    def end(self, error: BaseException | None, result: Any = None) -> Run:
        """End the run after the user's code returned (``error`` None) or raised ``error``.

        Fires ``after_run`` or ``before_experiment_error``, finishes the run unless the code
        already ended it (``runlab.fail()`` ... raise :class:`EndRun`: the run ends with its
        state, and :attr:`error` stays None), resets the current run and fires
        ``after_experiment_finalize``. Returns the run; re-raising ``error`` is the caller's.
        """
        run = self.run
        assert run is not None, "initialize() first"
        try:
            if isinstance(error, EndRun):  # runlab.fail() / cancel() / completed() in the code
                if error.status is not RunStatus.COMPLETED and run.status == RunStatus.RUNNING.value:
                    run.finish(error.status, error.message)
                error = None
            if run.status == RunStatus.RUNNING.value:
                if status_of(error) is RunStatus.COMPLETED:
                    try:
                        self.apply(AFTER_RUN, result=result)
                    except Exception as exc:  # a critical plugin: the run fails with its error
                        error = exc
                else:
                    self.apply(BEFORE_EXPERIMENT_ERROR, error=error)
            # finishes the run with the state for ``error``; a run the code ended already is left as it is
            run.__exit__(type(error) if error else None, error, error.__traceback__ if error else None)
            self.error = error
        finally:
            if self._token is not None:
                reset_current(self._token)
                self._token = None
        self.apply(AFTER_EXPERIMENT_FINALIZE)
        return run
