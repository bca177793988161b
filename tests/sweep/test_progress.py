"""The live progress bar and the messages a sweep prints, in a (forced) terminal and without one."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from runlab.executors import get_executor
from runlab.params import sweep_argv
from runlab.request import RunOptions
from runlab.sweep import SweepProgress, build_requests, plan_sweep, run_sweep


def _sweep(script: Path, root: Path, progress: SweepProgress) -> None:
    configs = build_requests(script, sweep_argv([], ["X=1,2,3", "MODE=ok,fail"]),
                             options=RunOptions(root=str(root), capture=False))  # fmt: skip
    sweep_id, planned = plan_sweep(configs)
    with get_executor("inline", settings=False) as ex:
        run_sweep(planned, sweep_id, root, ex, observer=progress, on_hook=lambda *a, **k: None)


def test_a_terminal_gets_a_bar_failures_and_a_summary(script: Path, root: Path) -> None:
    out = io.StringIO()
    progress = SweepProgress(console=Console(file=out, force_terminal=True, width=120))
    assert progress.enabled
    _sweep(script, root, progress)
    raw = out.getvalue()
    assert "\x1b[" in raw and "━" in raw  # colours and the bar
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)
    assert "6 run(s)" in text
    assert text.count("failed (-p X=") == 3 and "ValueError: boom" in text
    assert "failed in" in text and "3 completed, 3 failed" in text
    assert progress.done == 6 and progress.failed == 3


def test_without_a_terminal_only_lines(script: Path, root: Path) -> None:
    out = io.StringIO()
    progress = SweepProgress(console=Console(file=out, force_terminal=False))
    assert not progress.enabled
    _sweep(script, root, progress)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 3 + 1  # start, one per failure, the summary
    assert "\x1b[" not in out.getvalue()
