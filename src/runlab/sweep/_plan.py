"""Plan a study from what the user gave: the experiment, fixed overrides, the search space, the objectives.

Everything is parsed and checked here, before the study exists or changes: the search space
(``--search``, a config's ``search:`` key, ``@experiment.search_space``), its names against the
experiment's parameters, objectives, directions, sampler and pruner.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..request import RunOptions
from ._optimize import TrialPlanner, trial_options
from ._space import parse_search, parse_search_mapping
from ._study import StudySpec, check_study_name, parse_objectives

__all__ = ["plan_study"]


def _config_search(path: Path, configs: Sequence[Path]) -> Any:
    from ..params import CONFIG_SUFFIXES, load_spec

    files = [path] if path.suffix in CONFIG_SUFFIXES else []
    files += list(configs)
    if not files:
        return None
    merged = load_spec(*files) if path.suffix in CONFIG_SUFFIXES else load_spec(*configs)
    return merged.search


def plan_study(
    path: str,
    argv: Sequence[str] = (),
    configs: Sequence[str | os.PathLike[str]] = (),
    *,
    root: Path,
    search: Sequence[str] = (),
    objectives: Sequence[str] = (),
    directions: Sequence[str] = (),
    name: str | None = None,
    sampler: str | None = None,
    pruner: str = "none",
    seed: int | None = None,
    repeats: int = 1,
    storage: str | None = None,
    prune_metric: str | None = None,
    options: RunOptions | None = None,
) -> tuple[StudySpec, TrialPlanner]:
    """Check everything and return the study's :class:`StudySpec` and the :class:`TrialPlanner` of its runs.

    The study's name defaults to the experiment file's stem, so the same command continues it.
    The search space is ``--search`` texts merged over a config file's ``search:`` key; without
    either, the experiment's ``@search_space``.

    Raises:
        UsageError: a bad path, override, search entry, objective, direction, or a space naming
            an unknown parameter (nothing is written).
    """
    from ..experiment._dispatch import file_kind
    from ..experiment._loader import split_target
    from ..params import load_spec
    from ._requests import build_requests, load_experiment

    text, _ = split_target(path)
    file = Path(text).resolve()
    if not file.is_file():
        raise UsageError(f"No such experiment file: {text!r}.")
    space = None
    config_search = _config_search(file, [Path(c) for c in configs])
    if config_search is not None:
        space = parse_search_mapping(config_search)
    if search:
        space = {**(space or {}), **parse_search(search)}
    requests = build_requests(path, [list(argv)], list(configs), options=trial_options(root, options),
                              via="runlab optimize")  # fmt: skip
    if len(requests) != 1:
        raise UsageError(f"A study searches from one config, but {path} with {len(configs)} config file(s) "
                         f"makes {len(requests)} (a sweep: section?): remove the sweep, or use runlab run for "
                         "sweeps.")  # fmt: skip
    base = requests[0][1]
    experiment_file = file
    if file_kind(file) == "config":
        extend = load_spec(file, *map(Path, configs)).extend
        experiment_file = Path(extend) if extend else file
    experiment = None
    if file_kind(experiment_file) == "functional":
        experiment = load_experiment(experiment_file)
        known: list[str] = list(experiment.parameter_info)
    else:
        from ..experiment._script import script_params

        known = list(script_params(experiment_file))
    planner = TrialPlanner(base, experiment, known)
    if space is not None:
        planner.check_names(list(space))
    elif planner.space_fn is None:
        raise UsageError(f"{path} declares no search space: add --search 'NAME=float(low,high)', a search: section "
                         "in a config file, or @experiment.search_space to the experiment.")  # fmt: skip
    spec = StudySpec(
        name=check_study_name(name or file.stem), root=root, experiment=str(file),
        objectives=parse_objectives(objectives), directions=list(directions) or ["minimize"], space=space,
        sampler=sampler, pruner=pruner, seed=seed, repeats=repeats, storage=storage, prune_metric=prune_metric,
        argv=list(argv),
    )  # fmt: skip
    return spec, planner
