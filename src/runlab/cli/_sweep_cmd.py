"""``runlab sweep list|show`` and the sweeps ``runlab run`` starts (its options: :mod:`._sweep_options`)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ._main import cli, get_store, given_text, root_option
from ._render import FORMATS, STATUS_STYLE, emit
from ._sweep_options import sweep_options, wants_sweep

__all__ = ["executor_settings", "start_sweep", "sweep_options", "wants_sweep"]


def start_sweep(
    path: str,
    argv: Sequence[str],
    configs: Sequence[Path] = (),
    *,
    root: str | None = None,
    name: str | None = None,
    tags: Sequence[str] = (),
    description: str | None = None,
    namespace: str | None = None,
    entrypoint: str | None = None,
    sweeps: Sequence[str] = (),
    sweep_mode: str = "grid",
    samples: int | None = None,
    seed: int | None = None,
    executor: str | None = None,
    jobs: int | None = None,
    dask_scheduler: str | None = None,
    partition: str | None = None,
    time_min: float | None = None,
    cpus: int | None = None,
    gpus: int | None = None,
    mem: float | None = None,
    account: str | None = None,
    retry_failed: bool = False,
    max_retries: int = 0,
    fail_fast: bool = False,
    dry_run: bool = False,
) -> int:
    """Expand, validate and run a sweep from ``runlab run``'s options; returns the exit code.

    Prints ``run ID STATE FOLDER`` per config (in order) on stdout, progress and failures on
    stderr. 0 when every run completed, 1 when one failed or crashed, 130 when cancelled.

    Raises:
        UsageError: bad sweep text, value, executor or option (nothing is run).
    """
    from ..errors import UsageError
    from ..executors import get_executor
    from ..params import sweep_argv
    from ..request import RunOptions
    from ..store import get_store as _get
    from ..sweep import SweepProgress, build_requests, plan_sweep, preview_sweep, run_sweep
    from ..sweep._progress import skip_note

    if seed is not None and samples is None and sweep_mode != "random":
        raise UsageError(f"--seed {seed} applies to random sampling (--samples N); to set a parameter named "
                         f"'seed', write -p seed={seed}.")  # fmt: skip
    if sweep_mode == "random" and samples is None:
        raise UsageError("--sweep-mode random draws a number of runs: add --samples N (and --seed S to repeat it).")
    argvs = sweep_argv(list(argv), list(sweeps), sweep_mode, samples, seed)  # type: ignore[arg-type]
    options = RunOptions(name, tuple(tags), description, namespace, root)
    requests = build_requests(path, argvs, list(configs), options=options, entrypoint=entrypoint)
    sweep_id, planned = plan_sweep(requests)
    store = _get(planned[0].request.options.root if planned else root)
    if dry_run:  # what starting it would do: a resumed sweep skips what its real start skips
        record, todo = preview_sweep(planned, sweep_id, store.root, retry_failed=retry_failed)
        click.echo(f"sweep {sweep_id}: {len(todo)} run(s) of {path}{skip_note(record, len(todo))} (dry run: "
                   "nothing is run)")  # fmt: skip
        runs = {e.config for e in todo}
        entries = {e.config: e for e in record.entries}
        for i, config in enumerate(planned, 1):
            shown = {**config.request.params, **config.request.recorded}  # recorded: an entry point's arguments
            values = " ".join(f"{k}={v!r}" for k, v in shown.items())
            entry = entries[config.config]
            skipped = "" if config.config in runs else f"  (skipped: {entry.status} in run {entry.run_id})"
            click.echo(f"{i:>4}  {config.config}  {values}{skipped}")
        return 0
    kind, settings = executor_settings(store.root, executor, jobs, dask_scheduler, partition=partition,
                                       time_min=time_min, cpus=cpus, gpus=gpus, mem=mem, account=account)  # fmt: skip
    definition = {"path": path, "argv": list(argv), "configs": [str(c) for c in configs], "sweeps": list(sweeps),
                  "mode": "random" if samples else sweep_mode, "samples": samples, "seed": seed}  # fmt: skip
    with get_executor(kind, **settings) as ex:
        progress = SweepProgress()
        try:
            record = run_sweep(planned, sweep_id, store.root, ex, definition=definition, retry_failed=retry_failed,
                               max_retries=max_retries, fail_fast=fail_fast, observer=progress)  # fmt: skip
        except KeyboardInterrupt:
            interrupted = True
        else:
            interrupted = False
    if interrupted:  # the record says what each config's run did (cancelled ones too), as after any sweep
        from ..errors import RunlabError
        from ..sweep import load_sweep

        try:
            _run_lines(store, load_sweep(store.root, sweep_id))
        except RunlabError:  # interrupted before the record was written: no run exists
            pass
        click.echo("Interrupted: the sweep was cancelled; run the same command again to resume.", err=True)
        return 130
    _run_lines(store, record)
    if sys.stdout.isatty():
        _summary(store, record)
    return 0 if record.state == "completed" else 130 if record.state == "cancelled" else 1


def _run_lines(store: Any, record: Any) -> None:
    """``run ID STATE FOLDER`` for every config of the sweep, in order."""
    for entry in record.entries:
        folder = ""
        if entry.run_id:
            try:
                folder = str(store.load(entry.run_id).path)
            except Exception:
                folder = ""
        click.echo(f"run {entry.run_id or '-':<8} {entry.status:<9} {folder}".rstrip())


def executor_settings(
    root: Path,
    executor: str | None,
    jobs: int | None,
    dask_scheduler: str | None,
    **slurm_options: Any,
) -> tuple[str, dict[str, Any]]:
    """The executor name and settings for the command-line executor options (``runlab run``, ``runlab optimize``).

    Raises:
        UsageError: a SLURM option without ``-x slurm``, ``--dask-scheduler`` with another executor.
    """
    from ..errors import UsageError
    from ..executors._registry import executor_settings as configured_settings

    slurm = {k: slurm_options.get("time_min" if k == "time" else k)
             for k in ("partition", "time", "cpus", "gpus", "mem", "account")}  # fmt: skip
    kind = executor or ("dask" if dask_scheduler is not None else "local")  # an empty address is dask's to refuse
    settings: dict[str, Any] = {}
    if kind == "inline" and jobs is not None and jobs > 1:
        raise UsageError(f"-j {jobs} needs an executor that runs several at once: -x inline runs one at a time in "
                         f"this process. Use -x local -j {jobs}, or leave out -j.")  # fmt: skip
    if jobs is not None and kind != "inline":
        settings["workers"] = jobs
    if kind == "local":
        configured = configured_settings("local")
        if "quiet" not in configured:  # output to the terminal when runs do not interleave
            workers = jobs or configured.get("workers")
            settings["quiet"] = isinstance(workers, int) and workers > 1  # get_executor refuses a bad value
    if dask_scheduler is not None:
        if kind != "dask":
            raise UsageError(
                f"--dask-scheduler applies to the dask executor; -x {kind} runs elsewhere. Leave out -x {kind} "
                "(the scheduler's address picks -x dask) or the --dask-scheduler option."
            )
        settings["scheduler"] = dask_scheduler
    given = {k: v for k, v in slurm.items() if v is not None}
    if given and kind != "slurm":
        option = next(iter(given))
        value = given[option]
        text = f"{value:g}" if isinstance(value, float) else str(value)
        raise UsageError(f"--{option} applies to the slurm executor; add -x slurm or leave it out (to set a "
                         f"parameter named '{option}', write -p {option}={text}).")  # fmt: skip
    settings.update(given)
    if kind == "slurm" and "folder" not in configured_settings("slurm"):
        settings["folder"] = str(root / ".runlab" / "slurm")
    return kind, settings


def _summary(store: Any, record: Any) -> None:
    rows, cols = _rows(store, record, None, False)
    if rows and len(rows) <= 50:
        emit("table", cols, rows, title=f"sweep {record.id}")
    sys.stdout.flush()


def _rows(store: Any, record: Any, sort: str | None, descending: bool) -> tuple[list[list[Any]], list[str]]:
    """One row per config: run, status, the swept parameters and final metrics (``sort``: a field name)."""
    from ._fields import check_sort_metric, field_value, varying

    records = []
    for run_id in record.run_ids:
        try:
            records.append(store.load(run_id))
        except Exception:  # deleted since: the sweep record still names it
            continue
    cols = ["id", "status", *varying(records)] if len(records) > 1 else ["id", "status"]
    if len(records) == 1:
        cols += [f"params.{k}" for k in records[0].params] + [f"metrics.{k}" for k in records[0].summaries]
    if sort:
        check_sort_metric(sort, records)
        key = sort
        orders = [(_order(field_value(r, key)), r) for r in records]
        present = [(order, r) for order, r in orders if order is not None]
        nulls = [r for order, r in orders if order is None]  # no value or NaN: last either way
        records = [r for _, r in sorted(present, key=lambda pair: pair[0], reverse=descending)] + nulls
        if key not in cols:
            cols.append(key)
    return [[field_value(r, c) for c in cols] for r in records], cols


def _order(value: Any) -> tuple[int, Any] | None:
    """Numbers by value (``inf`` and ``-inf`` at the ends; NaN and the infinities also as the texts the
    run's files hold), then everything else by its text; None for no value or NaN, which sort last either
    way (as ``runlab list --sort`` and the UI's sweep page)."""
    from ..store._metrics_file import NON_FINITE

    if isinstance(value, str):
        value = NON_FINITE.get(value, value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


@cli.group("sweep")
def sweep_group() -> None:
    """Sweeps: many runs of one experiment (`runlab run FILE --sweep NAME=V1,V2 -j N`).

    \b
    Examples:
      runlab sweep list
      runlab sweep show 3f2a --sort -acc      # best accuracy first
      runlab list --where "sweep == '3f2a9c1d'"
    """


@sweep_group.command("list")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def sweep_list(ctx: click.Context, fmt: str) -> None:
    """List the store's sweeps, newest first: id, state, runs done of total, experiment."""
    from ..sweep import list_sweeps
    from ._main import existing_store

    store = existing_store(ctx)  # a --root that does not exist is an error, as for runlab list
    records = list(list_sweeps(store.root))
    if not records and fmt == "table":
        click.echo(f"No sweeps in {store.root} yet. Start one with: runlab run FILE --sweep NAME=V1,V2", err=True)
        return
    headers = ["id", "state", "completed", "failed", "total", "created", "experiment", "executor"]
    rows = []
    for r in records:
        counts = r.counts()
        bad = counts.get("failed", 0) + counts.get("crashed", 0)
        when = datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M")
        execu = f"{r.executor.get('name', '')} x{r.executor.get('workers', '')}" if r.executor else ""
        rows.append([r.id, r.effective_state, counts.get("completed", 0), bad, len(r.entries), when,
                     Path(str(r.definition.get("path", ""))).name, execu])  # fmt: skip
    styles = {1: [STATUS_STYLE.get(r.effective_state, "") for r in records]}
    emit(fmt, headers, rows, styles)


@sweep_group.command("show")
@click.argument("ref", metavar="ID")
@click.option("--sort", metavar="METRIC", callback=given_text,
              help="Sort by a metric or field; '-' for descending, e.g. -acc, params.lr.")  # fmt: skip
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@click.pass_context
def sweep_show(ctx: click.Context, ref: str, sort: str | None, fmt: str) -> None:
    """Show a sweep: its definition, then each config's run with its parameters against its final metrics."""
    from ..sweep import load_sweep

    store = get_store(ctx)
    record = load_sweep(store.root, ref)
    descending = False
    if sort:
        from ._fields import parse_sort

        sort, descending = parse_sort(sort)
    rows, cols = _rows(store, record, sort, descending)
    if fmt == "table":
        counts = ", ".join(f"{n} {s}" for s, n in sorted(record.counts().items()))
        d = record.definition
        click.echo(f"sweep {record.id}  {record.effective_state}  ({counts})")
        click.echo(f"  experiment: {d.get('path')}")
        for key in ("sweeps", "argv"):
            if d.get(key):
                click.echo(f"  {key}: {' '.join(map(str, d[key])) if isinstance(d[key], list) else d[key]}")
        mode = d.get("mode")
        if d.get("samples"):
            mode = f"random, {d['samples']} samples, seed {d.get('seed')}"
        click.echo(f"  mode: {mode}   executor: {record.executor.get('name')} x{record.executor.get('workers')}")
        pending = [e for e in record.entries if e.run_id is None]
        if pending:
            click.echo(f"  {len(pending)} config(s) without a run yet; run the same command again to resume.")
    styles = {1: [STATUS_STYLE.get(str(r[1]), "") for r in rows]} if rows else None
    emit(fmt, cols, rows, styles)
