"""SLURM: a job whose process died (the OOM killer, SIGKILL, a segfault) comes back within a poll or two.

submitit waits up to 15 s for the result file of a job that ended without one; runlab's single watcher
thread waited that long for each dead job, one after the other, and every other job's result behind them
(100 jobs out of memory: 25 minutes).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runlab.store import Store

from .conftest import make_executor, req

pytest.importorskip("submitit")

#: The most seconds between a run's last write and its result reaching the sweep (the old code: 15 s and
#: more; the bound leaves room for a loaded machine).
LATENCY = 10.0


@pytest.mark.parametrize(
    ("modes", "workers"),
    [
        (["die", "die", "die", "ok"], 4),  # three dead jobs at once: the old code took ~45 s
        (["ok", "die", "fail", "die"], 2),  # dead jobs among ones that end as usual, in batches of 2
    ],
)
def test_dead_jobs_come_back_within_a_poll_or_two(modes: list[str], workers: int, script: Path, root: Path) -> None:
    arrived: dict[int, float] = {}
    results = {}
    with make_executor("slurm", workers=workers) as ex:
        for i, mode in enumerate(modes):
            ex.submit(req(script, root, f"--X={i}", f"--MODE={mode}"))
        for ticket, result in ex.completed():
            arrived[ticket] = time.time()
            results[ticket] = result
    store = Store(root)
    expected = {"die": "crashed", "ok": "completed", "fail": "failed"}
    assert [str(results[i].status) for i in range(len(modes))] == [expected[m] for m in modes], results
    for i, mode in enumerate(modes):
        result = results[i]
        assert result.run_id is not None and store.load(result.run_id).status == expected[mode]
        assert result.value == (2 * i if mode == "ok" else None)
        if mode == "die":
            assert "the run's process died" in str(result.error), result.error
        # the run's record was last written as it started (died) or ended: its job ended just after
        late = arrived[i] - (Path(str(result.folder)) / "run.json").stat().st_mtime
        assert late < LATENCY, f"the result of run {i} ({mode}) came {late:.1f} s after its run's last write"
