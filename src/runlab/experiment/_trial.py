"""A study trial's run reports its metrics to Optuna and stops when the pruner says so.

A run made by ``runlab optimize`` carries the links ``study`` and ``trial`` (its trial
number). Where the run executes (this process, a forked worker, a Dask worker, a SLURM job),
:func:`attach_trial` reads the study file ``<root>/.runlab/studies/<study>.json`` (written by
the study driver): when the study prunes, every metric the run logs with an explicit step is
reported to the trial as an intermediate value, and when the pruner says stop, the logging
call raises :class:`~runlab.errors.RunPruned`: the run ends ``pruned`` and the driver tells
Optuna the trial was PRUNED.

This module sits below ``runlab.sweep`` (which writes the study file) so that every
experiment style's run driver can attach the reporter; it imports optuna only when a study
prunes.
"""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any

from ..errors import RunPruned, UsageError
from ..store._files import read_json

__all__ = ["STUDY_NAME", "attach_trial", "make_pruner", "open_storage", "study_dir", "study_file"]

STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_cache: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def study_dir(root: Path) -> Path:
    """Where a store keeps its studies: ``<root>/.runlab/studies`` (journal and study files)."""
    return Path(root) / ".runlab" / "studies"


def study_file(root: Path, name: str) -> Path:
    """The study file of study ``name``: what runlab knows about it (experiment, objectives, runs)."""
    return study_dir(root) / f"{name}.json"


def open_storage(root: Path, name: str, url: str | None) -> Any:
    """The Optuna storage of a study: ``url`` when given, else a journal file under ``.runlab/studies``.

    Raises:
        UsageError: ``url`` cannot be opened (an unknown scheme, a driver that is not installed, a
            database file in a missing folder, a server that does not answer): one line saying why.

    Example:
        >>> import tempfile
        >>> type(open_storage(Path(tempfile.mkdtemp()), "s", None)).__name__
        'JournalStorage'
    """
    if url:
        import optuna

        try:
            return optuna.storages.get_storage(url)
        except Exception as exc:  # sqlalchemy's and the drivers' errors: the URL is what the user can change
            reason = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
            raise UsageError(f"Cannot open the Optuna storage {url!r}: {reason}. Give a storage URL Optuna can "
                             "open (sqlite:///path/study.db, postgresql://user@host/db, ...), or leave out "
                             "--storage for a journal file in the store.") from None  # fmt: skip
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    folder = study_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(folder / f"{name}.log")))


def make_pruner(name: str, seed: int | None = None) -> Any:
    """The Optuna pruner for ``--pruner NAME`` (none, median, percentile, hyperband, successive-halving)."""
    import optuna

    p = optuna.pruners
    makers: dict[str, Any] = {
        "none": p.NopPruner,
        "median": lambda: p.MedianPruner(n_startup_trials=5, n_warmup_steps=0),
        "percentile": lambda: p.PercentilePruner(25.0, n_startup_trials=5),
        "hyperband": p.HyperbandPruner,
        "successive-halving": p.SuccessiveHalvingPruner,
    }
    return makers[name]()


class _Reporter:
    """Reports a run's stepped metric to its trial; raises :class:`RunPruned` when told to stop."""

    def __init__(self, trial: Any, metric: str | None) -> None:
        self.trial = trial
        self.metric = metric
        self.pruned_at: int | None = None

    def __call__(self, name: str, value: float, step: int) -> None:
        if self.metric is None:
            self.metric = name  # the first metric the run logs with a step
        if name != self.metric or self.pruned_at is not None:
            return
        if isinstance(value, float) and not math.isfinite(value):
            return
        self.trial.report(float(value), step)
        if self.trial.should_prune():
            self.pruned_at = step
            raise RunPruned(f"pruned at step {step}: {name} = {value:g} (trial {self.trial.number})")


def attach_trial(run: Any) -> None:
    """Make ``run`` report to its study trial when it belongs to a study that prunes.

    Called by the run driver once the run is running; a run without a ``study`` link, or of
    a study without a pruner, is left alone. A study file that cannot be read (a study made
    elsewhere) is ignored: the run still runs, without pruning.
    """
    meta = run.metadata
    name, number = meta.get("study"), meta.get("trial")
    if not name or not isinstance(number, int):
        return
    try:
        info = read_json(study_file(run.store.root, name))
    except Exception:
        return
    pruner = info.get("pruner") or "none"
    if pruner == "none" or len(info.get("directions") or []) != 1:
        return
    import optuna

    key = (str(run.store.root), name)
    with _lock:
        study = _cache.get(key)
        if study is None:
            storage = open_storage(run.store.root, name, info.get("storage"))
            study = optuna.load_study(study_name=name, storage=storage, pruner=make_pruner(pruner))
            _cache[key] = study
    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    trial = optuna.trial.Trial(study, trial_id)
    run.add_step_listener(_Reporter(trial, info.get("prune_metric")))
