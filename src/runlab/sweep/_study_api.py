"""``runlab.study(NAME)``: a study's Optuna study and the runs of its trials."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

__all__ = ["StudyResult", "study", "study_runs", "trial_runs"]


class StudyResult(NamedTuple):
    """What :func:`study` returns: unpack it as ``optuna_study, runs = runlab.study(NAME)``.

    Attributes:
        study: the ``optuna.Study`` (``best_trial``, ``trials_dataframe()``, ``optuna.visualization``).
        runs: the :class:`~runlab.RunSet` of its trials' runs (oldest first); each run's
            ``metadata["trial"]`` is its trial number.
    """

    study: Any
    runs: Any


def study(name: str, root: str | os.PathLike[str] | None = None) -> StudyResult:
    """The Optuna study ``name`` of a store and the runs of its trials.

    Raises:
        UsageError: no such study (the message lists the store's studies).

    Example:
        >>> # optuna_study, runs = runlab.study("train")
        >>> # optuna_study.best_params, len(runs), runs[0].metadata["trial"]
    """
    from ..store import get_store
    from ._study import load_study_file

    store = get_store(root)
    record = load_study_file(store.root, name)
    return StudyResult(record.load_read_only(), study_runs(store, name))


def study_runs(store: Any, name: str) -> Any:
    """The :class:`~runlab.RunSet` of the runs that name study ``name`` (oldest first)."""
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return store.runs(where=f"study == '{escaped}'", order_by="created")


def trial_runs(store: Any, record: Any) -> dict[int, list[str]]:
    """Trial number -> its runs: the study file's record, plus the runs that name the study in the store.

    ``record`` is the :class:`~runlab.sweep.StudyFile`; ``runlab study show`` and the UI's study
    page both read a study's runs through this.
    """
    out: dict[int, list[str]] = {int(k): list(v) for k, v in record.runs.items()}
    known = {r for ids in out.values() for r in ids}
    for run in study_runs(store, record.name):
        if run.id in known:  # already in the study file: no need to read its run.json
            continue
        number = run.metadata.get("trial")
        if isinstance(number, int) and run.id not in out.setdefault(number, []):
            out[number].append(run.id)
    return out
