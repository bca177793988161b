"""``runlab compare``, ``logs``, ``metrics``, ``artifacts`` and ``open``: look inside runs."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ._complete import complete_run_id
from ._main import cli, get_store, root_option
from ._render import FORMATS, emit, format_time, format_value, json_text

_FORMAT = click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)


class Interval(click.FloatRange):
    """Seconds between two polls of a following command: 0.05 to 3600 (``nan``, which passes a
    plain ``FloatRange``, and values ``time.sleep`` cannot wait are refused with exit 2).

    Example:
        >>> Interval().convert("0.5", None, None)
        0.5
    """

    def __init__(self) -> None:
        super().__init__(min=0.05, max=3600)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if seconds != seconds:
            self.fail(f"{value!r} is not in the range 0.05<=x<=3600.", param, ctx)
        return seconds


def _owned(ctx: click.Context, ref: str) -> tuple[Any, Any]:
    """``(owning store, record)`` for a run reference as ``runlab show`` takes it (``NAME~N`` too)."""
    from ._refs import find_named

    return find_named(get_store(ctx), ref)


def _record(ctx: click.Context, ref: str) -> Any:
    return _owned(ctx, ref)[1]


@cli.command("compare")
@click.argument("run_refs", metavar="[ID]...", nargs=-1, shell_complete=complete_run_id)
@click.option("-w", "--where", metavar="EXPR", help="Compare the runs matching this filter (instead of IDs).")
@click.option("-l", "--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="With --where: at most N runs.")  # fmt: skip
@click.option("-d", "--diff", is_flag=True, help="Only the fields whose values differ.")
@click.option("--all-aggregates", is_flag=True, help="Also metrics.X.min, .max, .count and .step.")
@_FORMAT
@root_option
@click.pass_context
def compare(ctx: click.Context, run_refs: tuple[str, ...], where: str | None, limit: int, diff: bool,
            all_aggregates: bool, fmt: str) -> None:  # fmt: skip
    """Show parameters and metrics of runs side by side (one column per run).

    \b
    Examples:
      runlab compare 3f2a 9b1c
      runlab compare --where "namespace == 'mnist'" --diff
      runlab compare lr-0 lr-1 --format json
    """
    from ._fields import flat

    if bool(run_refs) == bool(where):
        raise UsageError("Give run IDs or --where EXPR (not both), e.g. 'runlab compare 3f2a 9b1c'.")
    if where:
        records = list(get_store(ctx).runs(where=where, order_by="created", limit=limit))
        if not records:
            raise UsageError(f"No run matches --where {where!r}; nothing to compare.")
    else:
        records = list({r.id: r for r in (_record(ctx, ref) for ref in run_refs)}.values())  # each run once
    flats = [flat(r, aggregates=all_aggregates) for r in records]
    keys = ["name", "status", "created", "duration", "tags"]
    keys += sorted({k for f in flats for k in f if k.startswith("params.")})
    keys += sorted({k for f in flats for k in f if k.startswith("metrics.")})
    if diff:
        keys = [k for k in keys if len({repr(f.get(k)) for f in flats}) > 1]
    if fmt == "json":
        click.echo(
            json_text([{"id": r.id, **{k: f.get(k) for k in keys}} for r, f in zip(records, flats, strict=True)])
        )
        return

    def show(key: str, value: Any) -> Any:
        if key == "created":
            return format_time(value)
        if key == "duration" and value is not None:
            return round(value, 3)
        return value

    rows = [[k, *(show(k, f.get(k)) for f in flats)] for k in keys]
    emit(fmt, ["field", *(r.id for r in records)], rows)
    if diff and not keys:
        click.echo("The runs do not differ in parameters or metrics.", err=True)


@cli.command("logs")
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.option("-n", "--tail", type=click.IntRange(min=0), default=None, help="Only the last N lines.")
@click.option("-F", "--follow", is_flag=True, help="Keep printing new output until the run ends.")
@click.option("--interval", type=Interval(), default=0.5, hidden=True)
@root_option
@click.pass_context
def logs(ctx: click.Context, run_ref: str, tail: int | None, follow: bool, interval: float) -> None:
    """Print a run's captured stdout and stderr (out.log).

    \b
    Examples:
      runlab logs 3f2a --tail 20
      runlab logs 3f2a --follow      # like tail -f, stops when the run ends
    """
    owner, record = _owned(ctx, run_ref)
    path = record.path / "out.log"
    if not path.exists() and not (follow and record.status == "running"):
        click.echo(f"Run {record.id} has no output log ({path}); it ran without output capture.", err=True)
        return
    position = 0
    if path.exists():
        data = path.read_bytes()
        if tail is not None:
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[-tail:]) if tail else b""
        click.echo(data.decode(errors="replace"), nl=False)
        position = path.stat().st_size
    if not follow:
        return
    try:
        while True:
            running = owner.load(record.id).status == "running"
            if path.exists() and path.stat().st_size > position:
                with open(path, "rb") as handle:
                    handle.seek(position)
                    chunk = handle.read()
                position += len(chunk)
                click.echo(chunk.decode(errors="replace"), nl=False)
            if not running:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        return


@cli.command("metrics")
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.argument("name", required=False)
@_FORMAT
@click.option("-F", "--follow", is_flag=True, help="With NAME: keep printing new points until the run ends.")
@click.option("--interval", type=Interval(), default=0.5, hidden=True)
@root_option
@click.pass_context
def metrics(ctx: click.Context, run_ref: str, name: str | None, fmt: str, follow: bool, interval: float) -> None:
    """A run's metric summaries, or with NAME the full history of one metric.

    With --follow, the points of NAME are printed as the run logs them (table or csv), until
    the run ends or Ctrl-C (exit 0).

    \b
    Examples:
      runlab metrics 3f2a
      runlab metrics 3f2a loss --format csv > loss.csv
      runlab metrics 3f2a loss -F        # like tail -f, stops when the run ends
    """
    if follow:
        if name is None:
            raise UsageError("--follow needs a metric NAME, e.g. 'runlab metrics 3f2a loss -F'.")
        if fmt not in ("table", "csv"):
            raise UsageError(f"--follow prints rows as they come: use --format table or csv, not {fmt!r}.")
        _follow_metric(ctx, run_ref, name, fmt, interval)
        return
    record = _record(ctx, run_ref)
    if name is None:
        rows = [[k, s.last, s.min, s.max, s.count, s.step] for k, s in record.summaries.items()]
        emit(fmt, ["name", "last", "min", "max", "count", "step"], rows)
        if not rows and fmt == "table":
            if record.status == "running":
                from ._show import _next_update

                click.echo(f"Run {record.id} is running; {_next_update(record.metadata, False)}.", err=True)
            else:
                click.echo(f"Run {record.id} logged no metrics.", err=True)
        return
    series = record.metrics(name)

    def when(t: float) -> Any:
        moment = datetime.fromtimestamp(t).astimezone()
        return moment.isoformat() if fmt in ("json", "csv") else format_time(moment)

    rows = [[s, v, when(t)] for s, v, t in zip(series.steps, series.values, series.times, strict=False)]
    emit(fmt, ["step", "value", "time"], rows)


def _follow_metric(ctx: click.Context, run_ref: str, name: str, fmt: str, interval: float) -> None:
    """Print metric ``name`` of a run as it grows (``runlab metrics ID NAME --follow``)."""
    from ..errors import MetricNotFoundError
    from ..store._follow import MetricsTail

    owner, record = _owned(ctx, run_ref)
    tail = MetricsTail(record.path / "metrics.jsonl", [name])
    if fmt == "csv":
        click.echo("step,value,time")
    else:
        click.echo(f"{'step':>8}  {'value':>14}  time")
    seen = waiting = False
    try:
        while True:
            running = owner.load(record.id).status in ("created", "running")
            series = tail.poll().get(name)
            if series is not None:
                seen = True
                for step, value, t in zip(series.steps, series.values, series.times, strict=False):
                    moment = datetime.fromtimestamp(t).astimezone()
                    if fmt == "csv":
                        click.echo(f"{step},{value!r},{moment.isoformat()}")
                    else:
                        click.echo(f"{step:>8}  {format_value(value, 14):>14}  {format_time(moment)}")
            if not running:
                if not seen:
                    raise MetricNotFoundError(
                        f"Run {record.id} ended without logging metric {name!r}; it has: "
                        f"{', '.join(owner.load(record.id).summaries) or 'none'}."
                    )
                return
            if not seen and not waiting:
                click.echo(f"Waiting for run {record.id} to log {name!r} (Ctrl-C to stop)...", err=True)
                waiting = True
            time.sleep(interval)
    except KeyboardInterrupt:
        return


@cli.command("artifacts")
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.option("-p", "--paths", is_flag=True, help="Print absolute paths only, one a line (for xargs).")
@_FORMAT
@root_option
@click.pass_context
def artifacts(ctx: click.Context, run_ref: str, paths: bool, fmt: str) -> None:
    """List a run's artifacts with their sizes.

    \b
    Examples:
      runlab artifacts 3f2a
      runlab artifacts 3f2a --paths | xargs ls -l
    """
    record = _record(ctx, run_ref)
    base: Path = record.path / "artifacts"
    names = record.artifacts
    if paths:
        for name in names:
            click.echo(str(base / name))
        return
    rows = [[name, (base / name).stat().st_size, str(base / name)] for name in names]
    emit(fmt, ["name", "bytes", "path"], rows)
    if not rows and fmt == "table":
        click.echo(f"Run {record.id} has no artifacts.", err=True)


@cli.command("open")
@click.argument("run_ref", metavar="ID", shell_complete=complete_run_id)
@click.option("--launch", is_flag=True, help="Open the folder in the file manager instead of printing it.")
@root_option
@click.pass_context
def open_run(ctx: click.Context, run_ref: str, launch: bool) -> None:
    """Print a run's folder (or open it with --launch).

    \b
    Examples:
      cd "$(runlab open 3f2a)"
      runlab open 3f2a --launch
    """
    record = _record(ctx, run_ref)
    if launch:
        code = click.launch(str(record.path))
        if code != 0:
            raise click.ClickException(f"Could not open {record.path} (the opener exited with {code}).")
        return
    click.echo(str(record.path))
