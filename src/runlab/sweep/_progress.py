"""Feedback for many runs: a live progress bar, failures as they happen, a summary table."""

from __future__ import annotations

import time
from typing import Any

from ..executors import RunResult
from ._record import SweepEntry, SweepRecord

__all__ = ["StudyProgress", "SweepProgress", "skip_note"]


def skip_note(record: SweepRecord, todo: int) -> str:
    """`` (5 skipped: 4 already completed, 1 failed before; ...)`` when a resumed sweep runs ``todo`` of its
    entries, else ``""``.

    Example:
        >>> from pathlib import Path
        >>> entries = [SweepEntry("a", [], status="completed"), SweepEntry("b", [])]
        >>> skip_note(SweepRecord("s", Path("."), {}, entries), 1)
        ' (1 skipped: 1 already completed)'
    """
    skipped = len(record.entries) - todo
    if not skipped:
        return ""
    completed = sum(e.status == "completed" for e in record.entries)  # and without --retry-failed, failed ones
    parts = [f"{completed} already completed"] if completed else []
    if skipped > completed:
        parts.append(f"{skipped - completed} failed before; --retry-failed runs them again")
    return f" ({skipped} skipped: {', '.join(parts)})"


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
        self.console.print(f"sweep {record.id}: {todo} run(s){skip_note(record, todo)}", highlight=False,
                           soft_wrap=True)  # fmt: skip
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


class StudyProgress:
    """A rich progress bar for a study on stderr: trials done of total, best value so far, failed and pruned.

    Failed trials print at once with their reason. Without a terminal only those lines and the
    summary are printed.

    Example:
        >>> StudyProgress(enabled=False).counts
        {'complete': 0, 'pruned': 0, 'fail': 0}
    """

    def __init__(self, enabled: bool = True, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.counts = {"complete": 0, "pruned": 0, "fail": 0}
        self._progress: Any = None
        self._task: Any = None
        self._start = time.monotonic()

    @staticmethod
    def best_text(study: Any) -> str:
        """``best 0.973 (trial 12)``, the Pareto front's size, or ``-`` before any complete trial."""
        try:
            if len(study.directions) > 1:
                return f"pareto front: {len(study.best_trials)} trial(s)"
            best = study.best_trial
        except ValueError:
            return "best -"
        return f"best {best.value:.6g} (trial {best.number})"

    def study_start(self, study: Any, todo: int) -> None:
        self.console.print(f"study {study.study_name}: {todo} trial(s)", highlight=False)
        self._start = time.monotonic()
        if not self.enabled or not todo:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]study[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[best]}  [blue]{task.fields[pruned]} pruned[/]  "
                       "[red]{task.fields[fail]} failed[/]"),
            TimeElapsedColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self._task = self._progress.add_task(study.study_name, total=todo, best="best -", pruned=0, fail=0)
        self._progress.start()

    def trial_done(self, study: Any, outcome: Any, running: int) -> None:
        self.counts[outcome.state] = self.counts.get(outcome.state, 0) + 1
        if outcome.state == "fail":
            self.console.print(f"[red]trial {outcome.number} failed[/]: {outcome.error or ''}", highlight=False)
        if self._progress is not None:
            self._progress.update(self._task, advance=1, best=self.best_text(study), pruned=self.counts["pruned"],
                                  fail=self.counts["fail"])  # fmt: skip

    def study_end(self, study: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elapsed = time.monotonic() - self._start
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n) or "no trials"
        self.console.print(f"study {study.study_name} in {elapsed:.1f}s: {counts}; {self.best_text(study)}",
                           highlight=False)  # fmt: skip
