"""``runlab study list|show|best|report``: the store's Optuna studies and their trials' runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ._main import cli, get_store, root_option
from ._render import FORMATS, emit

__all__ = ["study_group"]

_STATE_STYLE = {"COMPLETE": "green", "FAIL": "red", "PRUNED": "blue", "RUNNING": "cyan", "WAITING": "dim"}


def _load(ctx: click.Context, name: str) -> tuple[Any, Any, Any]:
    import optuna

    from ..sweep import load_study_file

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = get_store(ctx)
    record = load_study_file(store.root, name)
    return store, record, record.load_read_only()  # reading never creates a journal


def _best(study: Any) -> tuple[str, list[Any]]:
    """The best value text and the best trials (the Pareto front for several objectives)."""
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return "-", []
    if len(study.directions) > 1:
        front = study.best_trials
        return f"pareto front of {len(front)}", front
    best = study.best_trial
    return f"{best.value:.6g}", [best]


@cli.group("study")
def study_group() -> None:
    """Optuna studies made by `runlab optimize`: every trial is a run.

    \b
    Examples:
      runlab study list
      runlab study show train
      runlab study best train -f json
      runlab study report train -o report/
      runlab list --where "study == 'train'"
    """


@study_group.command("list")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def study_list(ctx: click.Context, fmt: str) -> None:
    """List the store's studies, newest first: trials by state, best value, experiment.

    A study whose study file or journal is damaged is listed as damaged, with the reason; what
    to do about it is printed on stderr.
    """
    import optuna

    from ..errors import DamagedFileError
    from ..sweep import list_studies

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = get_store(ctx)
    records = list(list_studies(store.root))
    if not records and fmt == "table":
        click.echo(f"No studies in {store.root} yet. Start one with: runlab optimize FILE -n N --search ...", err=True)
        return
    headers = ["name", "trials", "complete", "pruned", "failed", "best", "directions", "created", "experiment"]
    rows: list[list[Any]] = []
    for r in records:
        try:
            study = r.load_read_only()
        except DamagedFileError as exc:  # the study file or the journal: listed, the way out on stderr
            rows.append([r.name, "?", "", "", "", f"damaged: {getattr(exc, 'reason', exc)}", "", "", ""])
            click.echo(str(exc), err=True)
            continue
        except Exception as exc:  # a study whose storage is gone or unreachable still lists
            rows.append([r.name, "?", "", "", "", f"unreadable: {type(exc).__name__}", "", "", ""])
            continue
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        when = datetime.fromtimestamp(float(r.data.get("created") or 0)).strftime("%Y-%m-%d %H:%M")
        rows.append([r.name, len(states), states.count("COMPLETE"), states.count("PRUNED"), states.count("FAIL"),
                     _best(study)[0], ",".join(r.data.get("directions") or []), when,
                     Path(str(r.data.get("experiment", ""))).name])  # fmt: skip
    emit(fmt, headers, rows)


def _trial_rows(store: Any, study: Any, record: Any) -> tuple[list[str], list[list[Any]], list[str]]:
    names: list[str] = []
    for t in study.get_trials(deepcopy=False):
        names += [k for k in t.params if k not in names]
    n_values = len(study.directions)
    value_cols = ["value"] if n_values == 1 else [f"value{i}" for i in range(n_values)]
    headers = ["trial", "state", *value_cols, *names, "runs", "error"]
    rows, styles = [], []
    from ..sweep._study_api import trial_runs

    by_trial = trial_runs(store, record)
    for t in study.get_trials(deepcopy=False):
        values = list(t.values) if t.values is not None else [None] * n_values
        runs = by_trial.get(t.number) or []
        rows.append([t.number, t.state.name.lower(), *values, *(t.params.get(n) for n in names), " ".join(runs),
                     t.user_attrs.get("runlab.error") or ""])  # fmt: skip
        styles.append(_STATE_STYLE.get(t.state.name, ""))
    return headers, rows, styles


@study_group.command("show")
@click.argument("name")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def study_show(ctx: click.Context, name: str, fmt: str) -> None:
    """Show a study: its definition, best value and parameters, then one row per trial with its runs."""
    store, record, study = _load(ctx, name)
    headers, rows, styles = _trial_rows(store, study, record)
    if fmt == "table":
        d = record.data
        best_text, best = _best(study)
        click.echo(f"study {name}  {len(rows)} trial(s)  best {best_text}")
        click.echo(f"  experiment: {d.get('experiment')}")
        objectives = ", ".join(f"{o} ({dr})" for o, dr in zip(d.get("objectives") or [], d.get("directions") or [],
                                                              strict=False))  # fmt: skip
        click.echo(f"  objective: {objectives}")
        space = d.get("space")
        if isinstance(space, dict):
            click.echo("  search: " + ", ".join(f"{k}={v}" for k, v in space.items()))
        else:
            click.echo(f"  search: {space}")
        click.echo(f"  sampler: {d.get('sampler')}   pruner: {d.get('pruner')}   storage: "
                   f"{d.get('storage') or record.path.with_suffix('.log')}")  # fmt: skip
        for t in best[:5]:
            click.echo(f"  best trial {t.number}: " + " ".join(f"{k}={v!r}" for k, v in t.params.items()))
    emit(fmt, headers, rows, {1: styles} if rows else None)


@study_group.command("best")
@click.argument("name")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@root_option
@click.pass_context
def study_best(ctx: click.Context, name: str, fmt: str) -> None:
    """Print the best trial (each trial of the Pareto front for several objectives): value, parameters, runs.

    Exits 1 when the study has no completed trial yet.
    """
    import json

    from ..sweep._study_api import trial_runs

    store, record, study = _load(ctx, name)
    _, best = _best(study)
    if not best:
        click.echo(f"Study {name!r} has no completed trial yet.", err=True)
        raise SystemExit(1)
    items = [{"trial": t.number, "values": list(t.values), "params": dict(t.params),
              "runs": trial_runs(store, record).get(t.number) or []}
             for t in best]  # fmt: skip
    if fmt == "json":
        click.echo(json.dumps(items if len(study.directions) > 1 else items[0], indent=1))
        return
    for item in items:
        values = ", ".join(f"{v:.6g}" for v in item["values"])
        params = " ".join(f"{k}={v!r}" for k, v in item["params"].items())
        click.echo(f"trial {item['trial']}  value {values}  {params}  runs {' '.join(item['runs'])}")


@study_group.command("report")
@click.argument("name")
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              metavar="DIR", help="Folder for index.html (created).")  # fmt: skip
@root_option
@click.pass_context
def study_report(ctx: click.Context, name: str, out: Path) -> None:
    """Write an HTML report: optimisation history, parameter importances, parallel coordinates, slices,
    contour (Pareto front for several objectives) and the trials table. Works offline: plotly.js is
    embedded from the plotly package."""
    from ..sweep._report import write_report

    store, record, study = _load(ctx, name)
    headers, rows, _ = _trial_rows(store, study, record)
    path = write_report(study, record, headers, rows, out)
    click.echo(str(path))
