"""``runlab watch``: a live table of running runs, refreshed until they end."""

from __future__ import annotations

import fnmatch
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import field
from typing import Any

import click

from .._valueclass import value_class
from ..errors import RunNotFoundError, UsageError
from ._complete import complete_run_id
from ._inspect import Interval
from ._main import cli, existing_store, given_text, root_option
from ._render import (
    STATUS_STYLE,
    format_duration,
    is_terminal,
    one_line,
    print_table,
    sparkline,
    text_width,
    use_color,
)

__all__ = ["WatchedRun", "Watcher", "watch"]

_HISTORY = 40  # points kept per metric for the sparkline
_DEFAULT_METRICS = 3
_FIXED = 6  # id, name, status, step, elapsed, eta


@value_class
class WatchedRun:
    """What the watcher knows about one run (refreshed by :meth:`Watcher.refresh`)."""

    id: str
    name: str | None
    path: Any
    status: str = "running"
    started: float | None = None
    duration: float | None = None
    total: int | None = None
    step: int | None = None
    last: dict[str, float] = field(default_factory=dict)
    history: dict[str, deque[float]] = field(default_factory=dict)
    tail: Any = None

    @property
    def running(self) -> bool:
        return self.status in ("created", "running")

    def elapsed(self, now: float) -> float | None:
        if self.duration is not None and not self.running:
            return self.duration
        return now - self.started if self.started is not None else None

    def eta(self, now: float) -> float | None:
        """Seconds left at the pace so far, when the run said its total (``run.set_total``)."""
        elapsed = self.elapsed(now)
        if not self.running or self.total is None or self.step is None or not elapsed:
            return None
        done = self.step + 1
        return max(self.total - done, 0) * elapsed / done


class Watcher:
    """The runs being watched: given IDs, or the running runs matching a filter as they appear.

    Args:
        store: the store.
        refs: run IDs, prefixes or names (a fixed set); empty: follow the running runs.
        where: with no refs, only running runs matching this filter.
        metrics: metric names or globs to show (default: the first few logged, not ``sys/``).
    """

    def __init__(self, store: Any, refs: Sequence[str], where: str | None, metrics: Sequence[str]) -> None:
        self.store = store
        self.where = where
        self.patterns = list(metrics)
        self.runs: dict[str, WatchedRun] = {}
        self.follow_new = not refs
        self.order: list[str] = []  # metric names in order of first appearance
        from ._refs import find_named

        for ref in refs:  # as 'runlab show' takes them (NAME~N too); the archive's runs have ended
            owner, record = find_named(store, ref)
            if owner is not store:
                raise UsageError(f"Run {record.id} ({ref!r}) is archived; it has ended. See it with "
                                 f"'runlab show {record.id}'.")  # fmt: skip
            self._add(record)
        if self.follow_new:
            self._discover()

    def _add(self, record: Any) -> None:
        if record.id in self.runs:
            return
        from ..store._follow import MetricsTail

        tail = MetricsTail(record.path / "metrics.jsonl")
        self.runs[record.id] = WatchedRun(record.id, record.name, record.path, tail=tail)

    def _discover(self) -> None:
        for record in self.store.runs(where=self.where, status="running", order_by="created"):
            self._add(record)

    @property
    def active(self) -> bool:
        """Whether any watched run is still running."""
        return any(run.running for run in self.runs.values())

    def refresh(self) -> list[tuple[str, str, str]]:
        """Read the runs' state and new metric points; returns ``(id, old, new)`` state changes."""
        if self.follow_new:
            self._discover()
        changes = []
        for run in self.runs.values():
            if not run.running and run.tail is None:
                continue  # ended and fully read
            try:
                record = self.store.load(run.id)
            except RunNotFoundError:  # deleted while watched
                changes.append((run.id, run.status, "deleted"))
                run.status, run.tail = "deleted", None
                continue
            if record.status != run.status:
                changes.append((run.id, run.status, record.status))
                run.status = record.status
            run.started = record.started.timestamp() if record.started else None
            run.duration = record.duration
            if run.total is None:
                try:
                    total = record.metadata.get("total")
                except (OSError, ValueError):
                    total = None
                run.total = total if isinstance(total, int) else None
            self._read_points(run)
            if not run.running:
                run.tail = None
        return changes

    def _read_points(self, run: WatchedRun) -> None:
        if run.tail is None:
            return
        for name, series in run.tail.poll().items():
            if not series.values:
                continue
            if name not in self.order:
                self.order.append(name)
            run.last[name] = series.values[-1]
            run.history.setdefault(name, deque(maxlen=_HISTORY)).extend(series.values)
            if not name.startswith("sys/"):
                run.step = max(run.step if run.step is not None else -1, series.steps[-1])

    def metric_names(self) -> list[str]:
        """The metrics shown: those matching the patterns, else the first few not under ``sys/``."""
        if self.patterns:
            return [n for n in self.order if any(fnmatch.fnmatchcase(n, p) for p in self.patterns)]
        return [n for n in self.order if not n.startswith("sys/")][:_DEFAULT_METRICS]

    def rows(self, now: float | None = None) -> tuple[list[str], list[list[str]], list[str]]:
        """Headers, rows and each row's status (for colouring)."""
        now = time.time() if now is None else now
        names = self.metric_names()
        headers = ["id", "name", "status", "step", "elapsed", "eta", *names]
        rows, statuses = [], []
        for run in self.runs.values():
            step = "-" if run.step is None else str(run.step)
            if run.total is not None:
                step = f"{step}/{run.total}"
            eta = run.eta(now)
            cells = [run.id, one_line(run.name or "-"), run.status, step, format_duration(run.elapsed(now)),
                     format_duration(eta) if eta is not None else "-"]  # fmt: skip
            for name in names:
                if name in run.last:
                    cells.append(f"{_short(run.last[name])} {sparkline(list(run.history[name]), 12)}")
                else:
                    cells.append("-")
            rows.append(cells)
            statuses.append(run.status)
        return headers, rows, statuses


def _short(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _rich_table(watcher: Watcher, width: int) -> Any:
    """The table for a terminal ``width`` columns wide: the run columns never wrap or shrink;
    metric columns that do not fit are left out (the title says how many)."""
    from rich.markup import escape
    from rich.table import Table

    headers, rows, statuses = watcher.rows()
    widths = [max([text_width(headers[c]), *(text_width(r[c]) for r in rows)]) for c in range(len(headers))]
    room = width - sum(widths[:_FIXED]) - 2 * (_FIXED - 1)
    shown = _FIXED
    for c in range(_FIXED, len(headers)):
        need = 2 + min(widths[c], 20)
        if need > room:
            break
        room -= need
        shown += 1
    running = sum(1 for s in statuses if s in ("created", "running"))
    hidden = len(headers) - shown
    more = f", +{hidden} metric(s) (-m NAME)" if hidden else ""
    table = Table(
        title=f"{running} of {len(rows)} run(s) running{more}; Ctrl-C leaves",
        title_justify="left",
        header_style="bold",
        box=None,
        pad_edge=False,
    )
    for c in range(shown):
        fixed = c < _FIXED
        table.add_column(headers[c], no_wrap=True, min_width=widths[c] if fixed else None, overflow="ellipsis")
    color = use_color()
    for cells, status in zip(rows, statuses, strict=True):
        styled = [escape(cell) for cell in cells[:shown]]
        if color and STATUS_STYLE.get(status):
            styled[2] = f"[{STATUS_STYLE[status]}]{styled[2]}[/]"
        table.add_row(*styled)
    return table


def _print_plain(watcher: Watcher) -> None:
    headers, rows, _ = watcher.rows()
    print_table(None, headers, rows)


@cli.command("watch")
@click.argument("run_refs", metavar="[ID]...", nargs=-1, shell_complete=complete_run_id)
@click.option("-w", "--where", metavar="EXPR", help="Watch the running runs matching this filter (instead of IDs).")
@click.option("-m", "--metric", "metrics", metavar="NAME", multiple=True, callback=given_text,
              help="A metric to show (repeatable; globs such as 'sys/*'). Default: the first 3 logged.")  # fmt: skip
@click.option("-i", "--interval", type=Interval(), default=1.0, show_default=True,
              help="Seconds between refreshes (0.05 to 3600).")  # fmt: skip
@click.option("--once", is_flag=True, help="Print the table once and exit.")
@root_option
@click.pass_context
def watch(
    ctx: click.Context, run_refs: tuple[str, ...], where: str | None, metrics: tuple[str, ...], interval: float,
    once: bool,
) -> None:  # fmt: skip
    """Watch running runs live: status, step, metrics with sparklines, elapsed time and ETA.

    Without IDs, watches every running run (or those matching --where), adding runs that
    start meanwhile. The table refreshes until every watched run has ended; ended runs stay
    with their final state. The ETA needs the run's total steps (run.set_total(n)). Ctrl-C
    leaves (exit 0); the runs go on. In a pipe, prints the table, one line per state
    change, and the final table.

    \b
    Examples:
      runlab watch                       # every running run
      runlab watch 3f2a 9b1c -m loss -m 'val/*'
      runlab watch --where "namespace == 'mnist'" -m 'sys/gpu0/*'
    """
    if run_refs and where:
        raise UsageError("Give run IDs or --where EXPR, not both, e.g. 'runlab watch 3f2a' or 'runlab watch -w ...'.")
    watcher = Watcher(existing_store(ctx), list(dict.fromkeys(run_refs)), where, metrics)
    if not watcher.runs and not once:
        which = f" matching --where {where!r}" if where else ""
        click.echo(f"No run{which} is running; nothing to watch. Give run IDs to see ended runs.", err=True)
        return
    watcher.refresh()
    if once:
        if is_terminal():
            console = _console()
            console.print(_rich_table(watcher, console.width))
        else:
            _print_plain(watcher)
        return
    try:
        if is_terminal():
            _watch_live(watcher, interval)
        else:
            _watch_plain(watcher, interval)
    except KeyboardInterrupt:
        click.echo("Stopped watching; the runs go on.", err=True)


def _console() -> Any:
    from rich.console import Console

    return Console()


def _watch_live(watcher: Watcher, interval: float) -> None:
    from rich.live import Live

    console = _console()
    with Live(_rich_table(watcher, console.width), console=console, auto_refresh=False) as live:
        while watcher.active:
            time.sleep(interval)
            watcher.refresh()
            live.update(_rich_table(watcher, console.width), refresh=True)


def _watch_plain(watcher: Watcher, interval: float) -> None:
    _print_plain(watcher)
    if not watcher.active:
        return  # every watched run had ended: that table is the final one
    while watcher.active:
        time.sleep(interval)
        for run_id, old, new in watcher.refresh():
            click.echo(f"{time.strftime('%H:%M:%S')}  {run_id}  {old} -> {new}")
    click.echo("")
    _print_plain(watcher)
