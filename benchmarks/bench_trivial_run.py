"""Wall time of a whole process that records one trivial run (3 params, one metric, finish).

Each measurement is the median of ``--repeat`` fresh processes (one untimed warm-up
first, bytecode caching on) running::

    import runlab

    with runlab.start_run(params={"a": 1, "b": 2.0, "c": "x"}, root=ROOT, capture=CAPTURE) as run:
        run.log_metric("m", 1.0)

into a fresh (not yet existing) store each time, and into a warm existing store of 1,000
runs, with capture on (the default: git, environment, code snapshot, output copy) and off.
The working directory is a temporary folder outside any git repository; one more line
shows the default in a small clean git repository, where capture also runs ``git``.

Usage::

    python benchmarks/bench_trivial_run.py [--repeat 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import PYTHON, bench_main, clean_env, ensure_bytecode_caching, fmt_ms

SCRIPT = """\
import runlab

with runlab.start_run(params={{"a": 1, "b": 2.0, "c": "x"}}, root={root!r}, capture={capture!r}) as run:
    run.log_metric("m", 1.0)
"""
WARM_RUNS = 1000


def _time_once(code: str, cwd: Path) -> float:
    env = clean_env()
    start = time.perf_counter()
    proc = subprocess.run([PYTHON, "-c", code], cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace"))
    return elapsed


def time_trivial_run(work: Path, cwd: Path, capture: bool, warm_root: Path | None, repeat: int) -> list[float]:
    """Wall times of ``repeat`` processes (after a warm-up); ``warm_root=None`` means a fresh store each time."""
    times = []
    for i in range(repeat + 1):
        root = warm_root or work / f"fresh-{capture}-{i}"
        elapsed = _time_once(SCRIPT.format(root=str(root), capture=capture), cwd)
        if i:
            times.append(elapsed)
        if warm_root is None:
            shutil.rmtree(root)
    return times


def make_git_repo(path: Path) -> None:
    """A small clean repository with one commit."""
    path.mkdir()
    (path / "train.py").write_text("print('hello')\n")
    env = clean_env(GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *cmd], cwd=path, env=env, check=True, capture_output=True)


def run(repeat: int = 15) -> dict[str, Any]:
    """Measure every variant; return ``{variant: median seconds}`` plus the spreads."""
    from build_store import build_store

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="runlab-bench-trivial-") as tmp:
        work = Path(tmp)
        cwd = work / "cwd"
        cwd.mkdir()
        warm = work / "warm-store"
        build_store(warm, WARM_RUNS)
        repo = work / "repo"
        make_git_repo(repo)
        variants = {
            "fresh_store_capture": (cwd, True, None),
            "warm_store_capture": (cwd, True, warm),
            "fresh_store_no_capture": (cwd, False, None),
            "warm_store_no_capture": (cwd, False, warm),
            "warm_store_capture_in_git_repo": (repo, True, warm),
        }
        for name, (where, capture, root) in variants.items():
            times = time_trivial_run(work, where, capture, root, repeat)
            results[name] = statistics.median(times)
            results[name + "_min"] = min(times)
            results[name + "_max"] = max(times)
    return results


def report(r: dict[str, Any]) -> None:
    print("trivial run as a whole process (median, [min - max])")
    for name in (
        "fresh_store_capture",
        "warm_store_capture",
        "fresh_store_no_capture",
        "warm_store_no_capture",
        "warm_store_capture_in_git_repo",
    ):
        label = name.replace("_", " ")
        print(f"  {label:<34} {fmt_ms(r[name]):>9}  [{fmt_ms(r[name + '_min'])} - {fmt_ms(r[name + '_max'])}]")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=int, default=15, help="timed processes per variant")


def main(argv: list[str] | None = None) -> None:
    bench_main(__doc__, _arguments, lambda args: run(args.repeat), report, argv)


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
