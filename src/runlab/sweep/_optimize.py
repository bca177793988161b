"""Run a study: Optuna proposes (ask), runlab runs each trial as a run request on any executor, Optuna learns (tell).

Every trial is one run (``--repeats K``: K runs, their mean is the trial's value) whose
``run.json`` names the study and the trial number. A failed or crashed run makes a FAIL
trial and the study goes on; a NaN or missing objective is a FAIL with the reason in the
trial's ``runlab.error`` user attribute; a run stopped by the pruner ends ``pruned`` and its
trial PRUNED. Trials left RUNNING by an optimize process that died are failed when the study
is continued, so no trial stays RUNNING.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import Any, Protocol

from .._valueclass import value_class
from ..errors import UsageError
from ..executors import Executor, RunResult
from ..request import Links, RunOptions, RunRequest
from ._runner import index_folder
from ._space import suggest
from ._study import Objective, StudyFile, StudySpec, process_alive

__all__ = ["StudyObserver", "TrialOutcome", "TrialPlanner", "recover_trials", "run_study", "tell"]

ERROR_ATTR = "runlab.error"
DRIVER_ATTR = "runlab.driver"


@value_class
class TrialOutcome:
    """What one trial gave: its number, final state (``complete``, ``pruned``, ``fail``), values, runs, error."""

    number: int
    state: str
    values: list[float] | None = None
    runs: list[str] = field(default_factory=list)
    error: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class StudyObserver(Protocol):
    """What a progress display gets told."""

    def study_start(self, study: Any, todo: int) -> None: ...
    def trial_done(self, study: Any, outcome: TrialOutcome, running: int) -> None: ...
    def study_end(self, study: Any) -> None: ...


class TrialPlanner:
    """Turns a trial's suggested values into the run request of its run(s).

    Args:
        base: the request of the experiment with the fixed overrides (from :func:`build_requests`).
        experiment: the :class:`~runlab.Experiment` (functional experiments; validates values and
            may declare ``@experiment.search_space``), or None for plain scripts.
        known: the parameter names values may set.
    """

    def __init__(self, base: RunRequest, experiment: Any, known: Sequence[str]) -> None:
        self.base = base
        self.experiment = experiment
        self.known = list(known)

    @property
    def space_fn(self) -> Callable[..., Any] | None:
        """The experiment's ``@search_space`` function, if any."""
        return getattr(self.experiment, "_search_space", None) if self.experiment is not None else None

    def check_names(self, names: Sequence[str]) -> None:
        """Every searched name must be a parameter of the experiment.

        Raises:
            UsageError: an unknown name (the message lists the parameters).
        """
        unknown = [n for n in names if n not in self.known]
        if unknown:
            raise UsageError(f"Cannot search {unknown[0]!r}: the experiment has no such parameter; its parameters "
                             f"are {', '.join(self.known) or 'none'}.")  # fmt: skip

    def values(self, trial: Any, space: Mapping[str, Any] | None) -> dict[str, Any]:
        """The trial's values: from the declared space, else the experiment's ``@search_space``."""
        if space is not None:
            return suggest(trial, space)
        fn = self.space_fn
        assert fn is not None
        values = fn(self.experiment, trial)
        if not isinstance(values, Mapping):
            raise UsageError(f"@search_space {getattr(fn, '__name__', fn)} returned {values!r}; it must return a "
                             "dict {PARAMETER: value}.")  # fmt: skip
        self.check_names(list(values))
        return dict(values)

    def request(self, values: Mapping[str, Any], study: str, number: int) -> RunRequest:
        """The request of one run of trial ``number`` (values validated, links set)."""
        params = {**self.base.params, **values}
        if self.experiment is not None:
            params = dict(self.experiment.request(params).params)
        links = replace(self.base.links if isinstance(self.base.links, Links) else Links(), study=study, trial=number)
        return replace(self.base, params=params, links=links)


def tell(study: Any, trial: Any, values: Any = None, *, state: Any) -> bool:
    """``study.tell``; True when the sampler asked the study to stop (a grid sampler whose grid is done).

    Optuna's samplers call ``study.stop()`` for that, which only works inside ``study.optimize``;
    the trial's state is stored either way.
    """
    try:
        study.tell(trial, values, state=state)
    except RuntimeError as exc:
        if "Study.stop" not in str(exc):
            raise
        return True
    return False


def recover_trials(study: Any, record: StudyFile | None = None) -> list[int]:
    """Fail the RUNNING trials whose optimize process (on this host) is gone; returns their numbers.

    A trial names its optimize process (``runlab.driver``). One that does not (the process died
    between asking for it and naming itself) is failed when no other optimize process that
    ``record`` knows of may still be alive.
    """
    from optuna.trial import TrialState

    host, me = socket.gethostname(), os.getpid()
    others = [d for d in (record.drivers if record is not None else [None])
              if d is None or (d.get("host"), d.get("pid")) != (host, me)]  # fmt: skip
    maybe_live = any(d is None or d.get("host") != host or process_alive(int(d.get("pid") or 0)) for d in others)
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        driver = trial.user_attrs.get(DRIVER_ATTR)
        if driver is None:
            if maybe_live:
                continue
        else:
            pid = driver.get("pid")
            if driver.get("host") != host or not isinstance(pid, int) or (pid != me and process_alive(pid)):
                continue
        study._storage.set_trial_user_attr(trial._trial_id, ERROR_ATTR,
                                           "interrupted: the optimize process running it stopped")  # fmt: skip
        tell(study, trial.number, state=TrialState.FAIL)
        failed.append(trial.number)
    return failed


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def objective_values(
    result: RunResult, objectives: Sequence[Objective], store: Any
) -> tuple[list[float] | None, str | None]:
    """The objective values of a completed run, or None and the reason (missing, NaN, not a number)."""
    values: list[float] = []
    returned = result.value
    from_value = [o for o in objectives if o.metric is None]
    if len(from_value) > 1 and (not isinstance(returned, (list, tuple)) or len(returned) != len(objectives)):
        return None, (f"the experiment returned {returned!r:.60}; with {len(objectives)} objectives it must "
                      f"return {len(objectives)} numbers")  # fmt: skip
    record = None
    for i, objective in enumerate(objectives):
        if objective.metric is None:
            raw = returned[i] if len(from_value) > 1 else returned
            if raw is None:
                return None, ("the experiment returned None: return the objective value, or optimise a metric "
                              "with --objective metrics.NAME")  # fmt: skip
            number = _number(raw)
            if number is None:
                return None, f"the objective (the return value) is {raw!r:.60}, not a number"
        else:
            if record is None:
                record = store.load(result.run_id)
            summary = record.summaries.get(objective.metric)
            if summary is None:
                logged = ", ".join(record.summaries) or "none"
                return None, f"run {result.run_id} logged no metric {objective.metric!r} (it logged: {logged})"
            number = _number(getattr(summary, objective.stat))
            if number is None:
                return None, f"metric {objective.metric!r} has no {objective.stat} value"
        if math.isnan(number):
            return None, f"the objective {objective} is NaN"
        values.append(number)
    return values, None


@value_class
class _Open:
    trial: Any
    params: dict[str, Any]
    left: int
    results: list[RunResult] = field(default_factory=list)


def run_study(
    study: Any,
    record: StudyFile,
    spec: StudySpec,
    planner: TrialPlanner,
    executor: Executor,
    *,
    n_trials: int,
    timeout: float | None = None,
    observer: StudyObserver | None = None,
) -> list[TrialOutcome]:
    """Ask for ``n_trials`` trials (fewer when ``timeout`` seconds passed), run each on ``executor``, tell the results.

    At most ``executor.workers`` runs execute at a time. Returns the outcomes in the order
    trials finished.

    Raises:
        KeyboardInterrupt: after Ctrl-C cancelled the runs; their trials are FAIL, none is left RUNNING.
        UsageError: the objective names a metric that no run of the study logs (the trial is FAIL).
    """
    from optuna.trial import TrialState

    from ..store import get_store

    store = get_store(spec.root)
    deadline = time.monotonic() + timeout if timeout else None
    tickets: dict[cf.Future[RunResult], int] = {}
    open_trials: dict[int, _Open] = {}
    outcomes: list[TrialOutcome] = []
    asked = 0
    exhausted = False  # the sampler has nothing left to propose (a finished grid)
    saved = time.monotonic()
    driver = {"host": socket.gethostname(), "pid": os.getpid()}
    if observer:
        observer.study_start(study, n_trials)

    def ask() -> None:
        nonlocal asked
        trial = study.ask()
        asked += 1
        trial.set_user_attr(DRIVER_ATTR, driver)
        try:
            values = planner.values(trial, spec.space)
            request = planner.request(values, spec.name, trial.number)
        except BaseException as exc:
            trial.set_user_attr(ERROR_ATTR, f"{type(exc).__name__}: {exc}")
            tell(study, trial, state=TrialState.FAIL)
            raise
        open_trials[trial.number] = _Open(trial, values, spec.repeats)
        for _ in range(spec.repeats):
            executor.submit_to(tickets, trial.number, request)

    def finish(entry: _Open) -> TrialOutcome:
        trial = entry.trial
        runs = [r.run_id for r in entry.results if r.run_id]
        outcome = TrialOutcome(trial.number, "fail", runs=runs, params=entry.params)
        bad = [r for r in entry.results if str(r.status) not in ("completed", "pruned")]
        if bad:
            outcome.error = f"run {bad[0].run_id or '-'} {bad[0].status}: {bad[0].error or ''}".rstrip(": ")
        elif any(str(r.status) == "pruned" for r in entry.results):
            outcome.state = "pruned"
        else:
            rows = []
            for result in entry.results:
                values, reason = objective_values(result, spec.objectives, store)
                if values is None:
                    outcome.error = reason
                    break
                rows.append(values)
            if outcome.error is None:
                outcome.values = [sum(col) / len(col) for col in zip(*rows, strict=True)]
                outcome.state = "complete"
        if outcome.error:
            trial.set_user_attr(ERROR_ATTR, outcome.error)
        state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "fail": TrialState.FAIL}[outcome.state]
        nonlocal exhausted
        exhausted |= tell(study, trial, outcome.values if outcome.state == "complete" else None, state=state)
        record.add_runs(trial.number, runs)
        nonlocal saved
        if time.monotonic() - saved >= 1.0:  # at most once a second (and at the end): runs also carry their links
            record.save()
            saved = time.monotonic()
        return outcome

    def can_ask() -> bool:
        return (asked < n_trials and not exhausted and not executor.cancelled
                and (deadline is None or time.monotonic() < deadline))  # fmt: skip

    try:
        while True:
            while can_ask() and len(tickets) < executor.workers:
                ask()
            if not tickets:
                break
            wait = None if deadline is None else max(0.05, deadline - time.monotonic())
            done, _ = cf.wait(list(tickets), timeout=wait if can_ask() else None, return_when=cf.FIRST_COMPLETED)
            for future in done:
                entry = open_trials[tickets.pop(future)]
                result = future.result()
                if not executor.index_writes:  # a run on another host wrote its folder only
                    index_folder(spec.root, result.folder)
                entry.results.append(result)
                entry.left -= 1
                if entry.left:
                    continue
                del open_trials[entry.trial.number]
                outcome = finish(entry)
                outcomes.append(outcome)
                if observer:
                    observer.trial_done(study, outcome, executor.running)
                _check_metric_exists(study, spec, outcome)
    except BaseException:
        executor.cancel()
        for future, number in list(tickets.items()):
            pending = open_trials.get(number)
            if pending is None:
                continue
            pending.results.append(future.result())
            pending.left -= 1
            if pending.left == 0:
                del open_trials[number]
                outcomes.append(finish(pending))
                if observer:  # the summary counts these trials too
                    observer.trial_done(study, outcomes[-1], 0)
        for entry in open_trials.values():  # a trial whose runs never came back
            entry.trial.set_user_attr(ERROR_ATTR, "cancelled")
            tell(study, entry.trial, state=TrialState.FAIL)
        raise
    finally:
        record.save()
        if observer:
            observer.study_end(study)
    return outcomes


def _check_metric_exists(study: Any, spec: StudySpec, outcome: TrialOutcome) -> None:
    """Stop with a usage error when the objective's metric was never logged by any run of the study."""
    if outcome.state != "fail" or not outcome.error or "logged no metric" not in outcome.error:
        return
    from optuna.trial import TrialState

    if study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
        return
    metric = next(o for o in spec.objectives if o.metric is not None and repr(o.metric) in outcome.error)
    raise UsageError(f"--objective {metric}: {outcome.error}; name a metric the experiment logs.")


def trial_options(root: Path, options: RunOptions | None) -> RunOptions:
    """Run options of a study's runs: the store root always set."""
    options = options or RunOptions()
    return options if options.root is not None else replace(options, root=os.fspath(root))
