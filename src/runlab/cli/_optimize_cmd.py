"""``runlab optimize``: an Optuna study where every trial is a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ._complete import complete_path
from ._main import cli, given_text, root_option

_SETTINGS = {"ignore_unknown_options": True}


class _Seconds(click.FloatRange):
    """``--timeout``: seconds > 0 that a wait can take (``nan``, which passes a plain ``FloatRange``,
    and ``inf`` or more than ``threading.TIMEOUT_MAX`` are refused with exit 2).

    Example:
        >>> _Seconds().convert("90", None, None)
        90.0
    """

    def __init__(self) -> None:
        import threading

        super().__init__(min=0, min_open=True, max=threading.TIMEOUT_MAX)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if seconds != seconds:
            self.fail(f"{value!r} is not a number of seconds > 0; leave out --timeout for no limit.", param, ctx)
        return seconds


# the names sweep._study knows (importing it here would slow every command's start; a test compares them)
_SAMPLERS = ("tpe", "random", "cmaes", "gp", "grid", "qmc", "nsgaii")
_PRUNERS = ("none", "median", "percentile", "hyperband", "successive-halving")


@cli.command("optimize", context_settings=_SETTINGS)
@click.argument("path", metavar="PATH", shell_complete=complete_path)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--n-trials",
    "-n",
    type=click.IntRange(min=1),
    required=True,
    metavar="N",
    help="Trials to run now (a continued study gets N more).",
)
@click.option(
    "--timeout",
    type=_Seconds(),
    metavar="S",
    help="Start no new trial after S seconds (running trials finish).",
)
@click.option(
    "--search",
    "-s",
    "search",
    multiple=True,
    metavar="NAME=KIND(...)",
    help="A searched parameter: 'LR=float(1e-5,1e-1,log)', 'LAYERS=int(1,4)', 'OPT=choice(adam,sgd)'; "
    "repeatable; merged over a config's search: section.",
)
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    metavar="value|metrics.NAME",
    help="What to optimise: the return value (default) or a metric's last value (metrics.NAME, "
    "metrics.NAME.min, metrics.NAME.max); repeat for a multi-objective study.",
)
@click.option(
    "--direction",
    "directions",
    multiple=True,
    type=click.Choice(["maximize", "minimize"]),
    help="One per objective, or one for all (default minimize).",
)
@click.option(
    "-c",
    "--config",
    "configs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Config file (its search: section is the search space); repeatable.",
)
@click.option(
    "--study",
    "study_name",
    metavar="NAME",
    callback=given_text,
    help="Study name (default: the file's name); an existing study is continued.",
)
@click.option(
    "--sampler", type=click.Choice(_SAMPLERS), help="Optuna sampler (default tpe; nsgaii for several objectives)."
)
@click.option(
    "--pruner",
    type=click.Choice(_PRUNERS),
    default="none",
    show_default=True,
    help="Stop unpromising trials early from the metrics they log with a step.",
)
@click.option(
    "--prune-metric",
    metavar="NAME",
    help="The metric reported to the pruner (default: the objective's metric, else the first metric a "
    "run logs with a step).",
)
@click.option("--seed", type=int, metavar="S", help="Seed of the sampler.")
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="K",
    help="Runs per trial; the trial's value is their mean.",
)
@click.option(
    "--storage",
    metavar="URL",
    help="Any Optuna storage URL (e.g. an RDB for a cluster); default: a journal file in <root>/.runlab/studies.",
)
@click.option("-x", "--executor", metavar="NAME", help="Where runs execute: inline, local (default), dask, slurm.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N", help="Trials at a time (default 1).")
@click.option("--dask-scheduler", metavar="ADDRESS", help="Dask scheduler tcp://host:port (implies -x dask).")
@click.option("--name", metavar="NAME", help="Name of the runs.")
@click.option("--tag", "-t", "tags", multiple=True, metavar="TAG", help="Tag the runs; repeatable.")
@click.option("--namespace", metavar="NS", help="Namespace of the runs (default: the file's name).")
@root_option
@click.pass_context
def optimize_command(
    ctx: click.Context,
    /,
    path: str,
    overrides: tuple[str, ...],
    n_trials: int,
    timeout: float | None,
    search: tuple[str, ...],
    objectives: tuple[str, ...],
    directions: tuple[str, ...],
    configs: tuple[Path, ...],
    study_name: str | None,
    sampler: str | None,
    pruner: str,
    prune_metric: str | None,
    seed: int | None,
    repeats: int,
    storage: str | None,
    executor: str | None,
    jobs: int | None,
    dask_scheduler: str | None,
    name: str | None,
    tags: tuple[str, ...],
    namespace: str | None,
) -> None:
    """Optimise an experiment's parameters with Optuna: every trial is a run in the store.

    Fixed parameter overrides follow the path (--EPOCHS=5). The search space comes from
    --search, a config file's search: section, or the experiment's @experiment.search_space.
    Each trial's run records its study and trial number (runlab list --where "study == 'NAME'").
    The study lives in <root>/.runlab/studies/NAME.log (Optuna JournalStorage; optuna-dashboard
    opens it); the same command again continues it. Exits 0 when some trial completed, 1 when
    none did, 130 on Ctrl-C, 2 for bad input (the study on disk unchanged).

    \b
    Examples:
      runlab optimize train.py -n 50 --search "LR=float(1e-5,1e-1,log)" --search "LAYERS=int(1,4)"
      runlab optimize train.py -n 20 --objective metrics.val_acc --direction maximize -j 4
      runlab optimize train.py -n 30 --pruner median --objective metrics.val_loss
      runlab optimize configs/search.yml -n 100 -x dask --dask-scheduler tcp://head:8786
      runlab study show train
    """
    import optuna

    from ..errors import UsageError
    from ..executors import get_executor
    from ..request import RunOptions
    from ..store import get_store
    from ..sweep import StudyProgress, open_study, plan_study, recover_trials, run_study
    from ._sweep_cmd import executor_settings

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    root = (ctx.find_root().obj or {}).get("root")
    store = get_store(root)
    options = RunOptions(name, tuple(tags), None, namespace, str(store.root))
    spec, planner = plan_study(
        path, overrides, configs, root=store.root, search=search, objectives=objectives, directions=directions,
        name=study_name, sampler=sampler, pruner=pruner, seed=seed, repeats=repeats, storage=storage,
        prune_metric=prune_metric, options=options,
    )  # fmt: skip
    _refuse_fixed_searched(overrides, spec.space or {})
    kind, settings = executor_settings(store.root, executor, jobs, dask_scheduler)
    study, record = open_study(spec, path)
    recovered = recover_trials(study, record)
    if recovered:
        click.echo(f"study {spec.name}: trial(s) {', '.join(map(str, recovered))} were left running by an optimize "
                   "process that stopped; marked failed.", err=True)  # fmt: skip
    progress = StudyProgress()
    code = 0
    with get_executor(kind, **settings) as ex:
        try:
            outcomes = run_study(study, record, spec, planner, ex, n_trials=n_trials, timeout=timeout,
                                 observer=progress)  # fmt: skip
        except UsageError:
            if record.new:  # bad input shown by the first trial: leave no study behind
                record.discard()
            raise
        except KeyboardInterrupt:
            click.echo(f"Interrupted: the running trials were failed; run the same command to continue study "
                       f"{spec.name}.", err=True)  # fmt: skip
            sys.exit(130)
    for outcome in outcomes:
        values = ", ".join(f"{v:.6g}" for v in outcome.values or [])
        click.echo(f"trial {outcome.number:<4} {outcome.state:<8} {values:<12} runs {' '.join(outcome.runs) or '-'}")
    if outcomes and not any(o.state == "complete" for o in outcomes):
        code = 1
    _print_best(study)
    sys.stdout.flush()
    if code:
        sys.exit(code)


def _refuse_fixed_searched(overrides: tuple[str, ...], space: Any) -> None:
    """An override that fixes a searched parameter would be replaced by every trial's value: refuse it."""
    from ..errors import UsageError
    from ..params._overrides import _tokens

    for name, text in _tokens([a for a in overrides if a != "--allow-new"]):  # parsed once already: no errors
        head = name.split(".")[0]
        if head in space:
            raise UsageError(f"Parameter {head!r} is both fixed ({name}={text}) and searched: every trial would "
                             f"replace the fixed value. Give it once: drop the override, or drop {head!r} from "
                             "the search space.")  # fmt: skip


def _print_best(study: Any) -> None:
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        click.echo("no completed trial yet")
        return
    if len(study.directions) > 1:
        click.echo(f"pareto front: trials {', '.join(str(t.number) for t in study.best_trials)}")
        return
    best = study.best_trial
    params = " ".join(f"{k}={v!r}" for k, v in best.params.items())
    click.echo(f"best trial {best.number}: value {best.value:.6g}  {params}")
