"""Helpers shared by the benchmark scripts: a bytecode-caching environment, process timing, stats."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "PYTHON",
    "REPO",
    "STORES_DIR",
    "clean_env",
    "ensure_bytecode_caching",
    "fmt_ms",
    "median",
    "time_process",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
STORES_DIR = BENCH_DIR / ".stores"
PYTHON = sys.executable


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without ``PYTHONDONTWRITEBYTECODE`` (users' machines cache bytecode)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def ensure_bytecode_caching() -> None:
    """Re-execute this script without ``PYTHONDONTWRITEBYTECODE`` if it is set.

    In-process measurements (imports, queries) must see cached ``.pyc`` files, as on a
    user's machine, and child processes inherit the cleaned environment.
    """
    if os.environ.get("PYTHONDONTWRITEBYTECODE") or sys.dont_write_bytecode:
        os.execve(sys.executable, [sys.executable, *sys.argv], clean_env())


def time_process(
    argv: Sequence[str], repeat: int, warmup: int = 1, cwd: str | Path | None = None, env: dict[str, str] | None = None
) -> list[float]:
    """Wall times in seconds of running ``argv`` ``repeat`` times (stdout and stderr to pipes).

    ``warmup`` untimed runs come first so ``.pyc`` files and the page cache are warm.
    Raises ``RuntimeError`` when a run fails.
    """
    env = env or clean_env()
    times = []
    for i in range(warmup + repeat):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{argv!r} failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
        if i >= warmup:
            times.append(elapsed)
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench_main(
    doc: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    measure: Callable[[argparse.Namespace], dict[str, Any]],
    report: Callable[[dict[str, Any]], None],
    argv: list[str] | None = None,
) -> None:
    """The shared command line of a benchmark: its own options plus ``--json PATH``.

    Parses ``argv``, runs ``measure(args)``, prints ``report(results)`` and, with
    ``--json``, writes the results there.
    """
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    results = measure(args)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
