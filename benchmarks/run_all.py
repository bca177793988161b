"""Run every benchmark and print the figures against the targets (PASS / MISS).

Each benchmark runs in its own process with bytecode caching on; its own report is shown
as it goes, then a Markdown table of the targets (the one in ``benchmarks/README.md``).

The benchmarks that create runs one by one (start-up, sweeps, studies) run before the ones that
build and delete stores of 10,000 and more runs (queries, rebuild): on a file system that scans
recently freed inodes when it allocates one (ext4 without a journal, as on the 2-core VM the
figures come from), creating files is slower for minutes after a mass deletion, and that would be
the deletion's cost, not the measured code's (see the README's notes on inline sweeps).

Usage::

    python benchmarks/run_all.py            # full: stores of 10,000 and 100,000 runs
    python benchmarks/run_all.py --quick    # the 10,000-run store only
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, PYTHON, clean_env, ensure_bytecode_caching

#: (label, limit as shown, path of the figure in the results, limit, kind). Kinds: ``time``
#: (seconds, at most the limit), ``rate`` (at least the limit), ``size`` (at most the limit),
#: ``modules`` (a list that must be empty).
Check = tuple[str, str, tuple[str, ...], float, str]

LOG_CASES = (
    ("random_1name", "random floats"),
    ("harmonic_1name", "1/(i+1)"),
    ("random_4names", "random floats, 4 names"),
    ("harmonic_4names", "1/(i+1), 4 names"),
    ("random_10names", "random floats, 10 names"),
    ("harmonic_10names", "1/(i+1), 10 names"),
)
QUERY_LIMITS = {10_000: (0.020, 0.300), 100_000: (0.100, 1.0)}  # runs(where=...), runlab list


def _ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def _limit(seconds: float) -> str:
    return f"≤ {seconds:g} s" if seconds >= 1 else f"≤ {seconds * 1000:.0f} ms"


def run_script(name: str, args: list[str], out: Path) -> dict[str, Any]:
    """Run ``benchmarks/<name>`` with ``--json out``; return its results."""
    print(f"\n=== {name} {' '.join(args)}", flush=True)
    start = time.perf_counter()
    subprocess.run([PYTHON, str(BENCH_DIR / name), *args, "--json", str(out)], env=clean_env(), check=True)
    print(f"=== {name}: {time.perf_counter() - start:.0f} s wall", flush=True)
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def checks(sizes: list[int]) -> list[Check]:
    """The targets, for stores of ``sizes`` runs."""
    rows: list[Check] = [
        ("`python -c 'import runlab'` (whole process)", "≤ 100 ms", ("import", "import_process_s"), 0.1, "time"),
        ("`import runlab` in process", "≤ 100 ms", ("import", "import_in_process_s"), 0.1, "time"),
        ("optional extras or pandas loaded by `import runlab`", "none", ("import", "forbidden_loaded"), 0, "modules"),
    ]
    for key, label in (
        ("fresh_store_capture", "fresh store"),
        ("warm_store_capture", "warm store"),
        ("fresh_store_no_capture", "fresh store, capture=False"),
        ("warm_store_no_capture", "warm store, capture=False"),
    ):
        rows.append((f"trivial run as a process, {label}", "≤ 100 ms", ("trivial", key), 0.1, "time"))
    for key, label in (("runlab_run_script_ratio", "plain script"), ("runlab_run_functional_ratio", "functional")):
        rows.append((f"`runlab run` of a trivial {label}, as a process / the `start_run` process", "≤ 1.5x",
                      ("startup", key), 1.5, "ratio"))  # fmt: skip
    rows.append(("MLflow mirror: time added to a trivial run (in process, MLflow imported)", "≤ 500 ms",
                 ("mirror", "added_s"), 0.5, "time"))  # fmt: skip
    for case, label in LOG_CASES:
        rows.append((f"`log_metric` calls/s incl. final flush, {label}", "≥ 1,000,000",
                     ("log_metric", case, "calls_per_s"), 1e6, "rate"))  # fmt: skip
    for case, label in LOG_CASES:
        rows.append((f"metrics.jsonl bytes per point, {label}", "≤ 30",
                     ("log_metric", case, "bytes_per_point"), 30, "size"))  # fmt: skip
    for size in sizes:
        if size not in QUERY_LIMITS:
            continue
        query, cli = QUERY_LIMITS[size]
        rows.append((f'{size:,} runs: `runlab.runs(where="params.a == 3")`', _limit(query),
                     ("queries", str(size), "runs_where_s"), query, "time"))  # fmt: skip
        rows.append((f"{size:,} runs: `runlab list --limit 50` as a process", _limit(cli),
                     ("queries", str(size), "cli_list_s"), cli, "time"))  # fmt: skip
    if 100_000 in sizes:
        rows.append(("100,000 runs: `list(runlab.runs())` (100,000 records)", "≤ 1 s",
                     ("queries", "100000", "all_records_s"), 1.0, "time"))  # fmt: skip
        rows.append(("100,000 runs: `rebuild_index()` peak RSS (MB)", "≤ 200",
                     ("rebuild", "100000", "peak_rss_mb"), 200, "size"))  # fmt: skip
    for case in ("record", "sync_single"):
        rows.append((f"branches/s recorded into the store, {case}", "≥ 5,000",
                     ("branch", case, "per_s"), 5000, "rate"))  # fmt: skip
    rows += [
        ("100 trivial runs, each in its own process, `local -j 2` (runs/s)", "≥ 30",
         ("sweep", "local_j2", "runs_per_s"), 30, "rate"),
        ("100 trivial runs, `inline` (runs/s)", "≥ 200", ("sweep", "inline", "runs_per_s"), 200, "rate"),
        ("200 runs of 50 ms CPU on 2 workers, `local`: parallel efficiency (%)", "≥ 85",
         ("sweep", "efficiency_local", "efficiency_pct"), 85, "rate"),
        ("200 runs of 50 ms CPU on 2 workers, `dask`: parallel efficiency (%)", "≥ 85",
         ("sweep", "efficiency_dask", "efficiency_pct"), 85, "rate"),
        ("study overhead per trial over raw `study.optimize`, inline (ms)", "≤ 15",
         ("optimize", "overhead_ms_per_trial"), 15, "size"),
    ]  # fmt: skip
    return rows


def _get(results: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        results = results[key]
    return results


def summary_table(results: dict[str, Any], sizes: list[int]) -> str:
    """The Markdown table of targets, measured figures and PASS / MISS."""
    lines = ["| target | limit | measured | result |", "|---|---|---|---|"]
    for label, limit_text, path, limit, kind in checks(sizes):
        value = _get(results, path)
        if kind == "rate":
            ok, shown = value >= limit, f"{value:,.0f}"
        elif kind == "time":
            ok, shown = value <= limit, _ms(value)
        elif kind == "ratio":
            ok, shown = value <= limit, f"{value:.2f}x"
        elif kind == "modules":
            ok, shown = not value, ", ".join(value) or "none"
        else:
            ok, shown = value <= limit, f"{value:.1f}"
        lines.append(f"| {label} | {limit_text} | {shown} | {'PASS' if ok else 'MISS'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="queries on the 10,000-run store only")
    parser.add_argument("--json", type=Path, help="also write all results to this JSON file")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    results: dict[str, Any] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="runlab-bench-") as tmp:
        out = Path(tmp) / "out.json"
        results["import"] = run_script("bench_import.py", [], out)
        results["trivial"] = run_script("bench_trivial_run.py", [], out)
        results["startup"] = run_script("bench_run_startup.py", [], out)
        results["log_metric"] = run_script("bench_log_metric.py", [], out)
        results["mirror"] = run_script("bench_mirror.py", [], out)
        results["sweep"] = run_script("bench_sweep.py", [], out)  # before the mass deletions (module docstring)
        results["optimize"] = run_script("bench_optimize.py", [], out)
        results["branch"] = run_script("bench_branch.py", [], out)
        results["queries"] = run_script("bench_queries.py", ["--sizes", *map(str, sizes)], out)
        results["rebuild"] = run_script("bench_rebuild.py", ["--sizes", *map(str, sizes), "--no-tracemalloc"], out)
        for figures in results["rebuild"].values():
            figures["peak_rss_mb"] = figures["peak_rss_kb"] / 1024
    print(f"\nAll benchmarks: {time.perf_counter() - start:.0f} s wall")
    print(f"\n{datetime.date.today()}, Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print(summary_table(results, sizes))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    ensure_bytecode_caching()
    main()
