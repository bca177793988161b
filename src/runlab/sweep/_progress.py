"""Feedback for many runs: a live progress bar, failures as they happen, a summary table."""

from __future__ import annotations

import time
from typing import Any

from ..executors import RunResult
from ._record import SweepEntry, SweepRecord

__all__ = ["SweepProgress"]


class SweepProgress:
    """A rich progress bar on stderr (done, failed, running, elapsed, ETA); failed runs print at once.

    Without a terminal the bar is left out and only failures and the summary are printed.

    Example:
        >>> SweepProgress(enabled=False).failed
        0
    """

    def __init__(self, enabled: bool = True, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.done = self.failed = 0
        self._progress: Any = None
        self._task: Any = None
        self._start = time.monotonic()

    def sweep_start(self, record: SweepRecord, todo: int) -> None:
        skipped = len(record.entries) - todo
        note = ""
        if skipped:
            failed = sum(e.status in ("failed", "crashed") for e in record.entries)
            note = f" ({skipped} skipped: already completed"
            note += f", {failed} failed before; --retry-failed runs them again)" if failed else ")"
        self.console.print(f"sweep {record.id}: {todo} run(s){note}", highlight=False)
        self._start = time.monotonic()
        if not self.enabled or not todo:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]sweep[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/]  {task.fields[running]} running"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=True,
        )  # fmt: skip
        self._task = self._progress.add_task(record.id, total=todo, failed=0, running=0)
        self._progress.start()

    def run_done(self, record: SweepRecord, entry: SweepEntry, result: RunResult, running: int) -> None:
        if result.run_id is None and result.status == "cancelled":
            return
        self.done += 1
        if result.status != "completed":
            self.failed += 1
            where = f"run {result.run_id}" if result.run_id else "a run"
            args = " ".join(entry.argv)
            self.console.print(f"[red]{where} {result.status}[/] ({args}): {result.error or ''}", highlight=False)
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, failed=self.failed, running=running)

    def sweep_end(self, record: SweepRecord) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elapsed = time.monotonic() - self._start
        counts = ", ".join(f"{n} {state}" for state, n in sorted(record.counts().items()))
        self.console.print(f"sweep {record.id} {record.state} in {elapsed:.1f}s: {counts}", highlight=False)
