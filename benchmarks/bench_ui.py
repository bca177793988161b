"""The web UI against its targets (issue 17), through a real ``runlab ui`` server.

Figures:
  * ``first_rows_100k``: ``GET /api/runs`` (the first page the runs page shows, default
    columns) on a store of N runs (default 100,000; ``bench_queries.py``'s store is reused).
    Cold (first request of a fresh server) and warm (median of 5). Target: <= 1 s.
  * ``first_rows_10k_metric_names``: the same on a store of 50 runs with 10,000 metric names
    each. Target: <= 1 s (columns are chosen, not all preloaded).
  * ``compare_100x10k``: ``GET /api/compare`` of 100 runs with 10,000 steps each (server
    time); with chromium, also the compare page until its 100 curves are drawn. Target: <= 2 s.
  * ``metric_1m``: ``GET /api/runs/ID/metrics`` of a 1,000,000-point metric downsampled to
    2,000 points; with chromium, also the run page until the chart is drawn. Target: <= 1 s.

Usage::

    python benchmarks/bench_ui.py            # --runs 100000
    python benchmarks/bench_ui.py --runs 10000 --no-browser
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import PYTHON, bench_main, clean_env, ensure_bytecode_caching, fmt_ms, median

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


class Server:
    """``runlab ui --port 0`` in a subprocess."""

    def __init__(self, root: Path) -> None:
        argv = [PYTHON, "-m", "runlab", "--root", str(root), "ui", "--port", "0"]
        out, quiet = subprocess.PIPE, subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=out, stderr=quiet, text=True, env=clean_env())
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if " at http://" not in line:
            raise RuntimeError(f"runlab ui did not start: {line!r}")
        self.base = line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")

    def get(self, path: str) -> tuple[float, Any]:
        start = time.perf_counter()
        with urllib.request.urlopen(self.base + path, timeout=600) as resp:
            body = resp.read()
        return time.perf_counter() - start, json.loads(body)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)


def _cold_warm(root: Path, path: str, repeat: int = 5) -> dict[str, float]:
    server = Server(root)
    try:
        cold, _ = server.get(path)
        warm = median([server.get(path)[0] for _ in range(repeat)])
    finally:
        server.stop()
    return {"cold": cold, "warm": warm}


def many_names_store(root: Path, runs: int = 50, names: int = 10_000) -> Path:
    """Runs with ``names`` metric names each (summaries only, as the index holds them)."""
    import runlab

    if (root / ".runlab" / "index.sqlite").exists():
        return root
    for i in range(runs):
        with runlab.start_run(params={"i": i}, root=root, capture=False) as run:
            run.log_metrics({f"layer{k // 100}/unit{k % 100}": float(i + k) for k in range(names)}, step=0)
    return root


def long_series_store(
    root: Path, runs: int = 100, steps: int = 10_000, big: int = 1_000_000
) -> tuple[Path, list[str], str]:
    """``runs`` runs with ``steps`` points of ``loss`` each, and one run with ``big`` points."""
    import runlab

    ids = []
    for i in range(runs):
        with runlab.start_run(params={"lr": 10 ** -(i % 4), "seed": i}, root=root, capture=False) as run:
            for s in range(steps):
                run.log_metric("loss", 1.0 / (1 + s * (i + 1) / 1000), step=s)
        ids.append(run.id)
    with runlab.start_run(name="big", root=root, capture=False) as run:
        for s in range(big):
            run.log_metric("loss", (s % 1000) / 1000, step=s)
    return root, ids, run.id


def _browser_time(url: str, expression: str) -> float | None:
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)  # warm-up: plotly.js in the browser's cache, as on a second visit
        while not page.evaluate(expression):
            page.wait_for_timeout(20)
        start = time.perf_counter()
        page.goto(url)
        while not page.evaluate(expression):
            page.wait_for_timeout(20)
        elapsed = time.perf_counter() - start
        browser.close()
    return elapsed


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from bench_queries import ensure_store

    results: dict[str, Any] = {"runs": args.runs}
    big_root = ensure_store(args.runs)
    results["first_rows_100k"] = _cold_warm(big_root, "/api/runs")
    with tempfile.TemporaryDirectory() as tmp:
        names_root = many_names_store(Path(tmp) / "names")
        results["first_rows_10k_metric_names"] = _cold_warm(names_root, "/api/runs")
        root, ids, big_id = long_series_store(Path(tmp) / "series", steps=args.steps, big=args.big)
        server = Server(root)
        try:
            server.get("/api/runs")
            results["compare_100x10k"] = {"api": server.get("/api/compare?points=400&ids=" + ",".join(ids))[0]}
            results["metric_1m"] = {"api": server.get(f"/api/runs/{big_id}/metrics?name=loss&points=2000")[0]}
            if not args.no_browser:
                drawn = "document.getElementById('{0}').data && document.getElementById('{0}').data.length >= {1}"
                results["compare_100x10k"]["browser"] = _browser_time(
                    f"{server.base}/compare?ids={','.join(ids)}", drawn.format("curves", len(ids)))
                run_url = f"{server.base}/runs/{big_id}"
                results["metric_1m"]["browser"] = _browser_time(run_url, drawn.format("chart", 1))
        finally:
            server.stop()
    return results


def report(results: dict[str, Any]) -> None:
    print(f"runlab UI (store of {results['runs']} runs)")
    first = results["first_rows_100k"]
    print(f"  first rows, {results['runs']} runs:        cold {fmt_ms(first['cold'])}, warm {fmt_ms(first['warm'])}"
          "  (target <= 1 s)")  # fmt: skip
    names = results["first_rows_10k_metric_names"]
    print(f"  first rows, 10,000 metric names: cold {fmt_ms(names['cold'])}, warm {fmt_ms(names['warm'])}"
          "  (target <= 1 s)")  # fmt: skip
    for key, label, target in (("compare_100x10k", "compare 100 runs x 10,000 steps", "2 s"),
                               ("metric_1m", "1,000,000-point metric", "1 s")):  # fmt: skip
        r = results[key]
        browser = r.get("browser")
        drawn = f", drawn in chromium {fmt_ms(browser)}" if browser is not None else ""
        print(f"  {label}: API {fmt_ms(r['api'])}{drawn}  (target <= {target})")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the big store (default 100000)")
    parser.add_argument("--steps", type=int, default=10_000, help="steps per compared run (default 10000)")
    parser.add_argument("--big", type=int, default=1_000_000, help="points of the long metric (default 1000000)")
    parser.add_argument("--no-browser", action="store_true", help="API times only (no chromium)")


def main(argv: list[str] | None = None) -> None:
    ensure_bytecode_caching()
    bench_main(__doc__, _arguments, measure, report, argv)


if __name__ == "__main__":
    main()
