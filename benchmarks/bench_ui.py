"""The web UI against its targets (issue 17), through a real ``runlab ui`` server.

Figures:
  * ``first_rows_100k``: ``GET /api/runs`` (the first page the runs page shows, default
    columns) on a store of N runs (default 100,000; ``bench_queries.py``'s store is reused).
    Cold (first request of a fresh server) and warm (median of 5). Target: <= 1 s.
  * ``first_rows_10k_metric_names``: the same on a store of 50 runs with 10,000 metric names
    each. Target: <= 1 s (columns are chosen, not all preloaded).
  * ``deep_page_100k``: the page of 50 rows in the middle of the N runs (SQL ``OFFSET``).
  * ``compare_100x10k``: ``GET /api/compare`` of 100 runs with 10,000 steps each, the first
    request of a fresh server (series read from disk) and later ones (series cached); with
    chromium, also the compare page until its 100 curves are drawn, on a fresh server: a first
    visit (nothing cached) and a second one. Target: <= 2 s.
  * ``metric_1m``: ``GET /api/runs/ID/metrics`` of a 1,000,000-point metric downsampled to
    2,000 points, first and cached; with chromium, also the run page until the chart is drawn,
    first and second visit. Target: <= 1 s.
  * with chromium, both pages also opened from the runs page of a fresh browser, as a user reaches
    them: the runs page loads plotly.js in idle time, so the chart page does not compile it.

In chromium each page gives two figures, both against the target's limit, both from the start of
the navigation until a frame showing the chart has been painted (timed in the page): **first paint**,
the chart's data on screen, as the static SVG sketch ``app.js`` draws while plotly.js is still loading
or as the plotly chart, whichever comes first; and **interactive**, the plotly chart (zoom, hover).
They differ when plotly.js is not compiled yet: a fresh browser's very first page compiles its 4.8 MB,
which the sketch does not wait for.

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


def _watch(expressions: list[str]) -> str:
    """An init script stamping, in ``window.benchPainted``, the milliseconds from navigation start until
    each of ``expressions`` holds in a painted frame: checked before each frame (``requestAnimationFrame``),
    stamped just after it (``setTimeout``), so a main thread busy running plotly.js delays the stamp as it
    delays the paint. Injected by Playwright (the page's CSP forbids ``eval``, not this)."""
    checks = ", ".join(f"() => ({e})" for e in expressions)
    return f"""(() => {{
  const checks = [{checks}];
  const stamps = window.benchPainted = checks.map(() => null);
  const seen = checks.map(() => false);
  const tick = () => {{
    checks.forEach((check, i) => {{
      if (!seen[i] && check()) {{ seen[i] = true; setTimeout(() => {{ stamps[i] = performance.now(); }}); }}
    }});
    if (seen.includes(false)) requestAnimationFrame(tick);
  }};
  requestAnimationFrame(tick);
}})();"""


def _until(page: Any) -> list[float]:
    """The seconds ``_watch`` stamps on the page, once all are there."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.perf_counter() + 300
    while time.perf_counter() < deadline:
        try:
            stamps = page.evaluate("window.benchPainted || null")
        except PlaywrightError:  # the new document's context is not there yet
            stamps = None
        if stamps and None not in stamps:
            return [ms / 1000 for ms in stamps]
        page.wait_for_timeout(50)
    raise RuntimeError(f"not drawn within 300 s: {page.url}")


def _browser_time(url: str, expressions: list[str]) -> list[tuple[float, float]] | None:
    """Seconds from navigation until each of ``expressions`` holds: a first visit (nothing cached in the
    browser) and a second one (plotly.js in the browser's cache, the series in the server's)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"]  # fmt: skip
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.add_init_script(_watch(expressions))
        for _ in range(2):
            page.goto(url, wait_until="commit")  # "load" would wait for plotly.js
            times.append(_until(page))
            page.wait_for_load_state("load")
        browser.close()
    return [(first, second) for first, second in zip(*times, strict=True)]


def _browser_time_after(first_url: str, url: str, expressions: list[str]) -> list[float] | None:
    """Seconds until each of ``expressions`` holds on ``url`` opened from ``first_url`` in a fresh browser,
    once that page has loaded plotly.js in idle time: a user's first chart, reached from the runs page."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(first_url)
        deadline = time.perf_counter() + 60
        while not page.evaluate("typeof Plotly !== 'undefined'") and time.perf_counter() < deadline:
            page.wait_for_timeout(50)
        page.add_init_script(_watch(expressions))
        page.goto(url, wait_until="commit")
        elapsed = _until(page)
        browser.close()
    return elapsed


def _api_cold_warm(server: Server, path: str, repeat: int = 3) -> dict[str, float]:
    """The first request (nothing read yet) and the median of the next ``repeat`` (series cached)."""
    cold, _ = server.get(path)
    return {"api_cold": cold, "api_warm": median([server.get(path)[0] for _ in range(repeat)])}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from bench_queries import ensure_store

    results: dict[str, Any] = {"runs": args.runs}
    big_root = ensure_store(args.runs)
    results["first_rows_100k"] = _cold_warm(big_root, "/api/runs")
    results["deep_page_100k"] = _cold_warm(big_root, f"/api/runs?offset={args.runs // 2}&limit=50")
    with tempfile.TemporaryDirectory() as tmp:
        names_root = many_names_store(Path(tmp) / "names")
        results["first_rows_10k_metric_names"] = _cold_warm(names_root, "/api/runs")
        root, ids, big_id = long_series_store(Path(tmp) / "series", steps=args.steps, big=args.big)
        compare_url = f"/compare?ids={','.join(ids)}"
        server = Server(root)
        try:
            server.get("/api/runs")
            points = max(100, min(1000, 20_000 // len(ids)))  # what the compare page asks for
            results["compare_100x10k"] = _api_cold_warm(server, f"/api/compare?points={points}&ids={','.join(ids)}")
            results["metric_1m"] = _api_cold_warm(server, f"/api/runs/{big_id}/metrics?name=loss&points=2000")
        finally:
            server.stop()
        if not args.no_browser:  # a fresh server: the first visit reads the series from disk
            drawn = "document.getElementById('{0}') && (document.getElementById('{0}').data || []).length >= {1}"
            sketched = "document.querySelectorAll('#{0} .chart-sketch path').length >= {1}"
            for key, path, chart, n in (("compare_100x10k", compare_url, "curves", len(ids)),
                                        ("metric_1m", f"/runs/{big_id}", "chart", 1)):  # fmt: skip
                check = [f"({sketched.format(chart, n)}) || ({drawn.format(chart, n)})", drawn.format(chart, n)]
                server = Server(root)
                try:
                    results[key]["browser"] = _browser_time(server.base + path, check)
                finally:
                    server.stop()
                server = Server(root)  # again fresh, reached from the runs page as a user would
                try:
                    results[key]["from_runs_page"] = _browser_time_after(server.base + "/", server.base + path, check)
                finally:
                    server.stop()
    return results


def _line(label: str, figure: str, limit: str) -> None:
    print(f"  {label:<58} {figure:<44} (target <= {limit})")


def report(results: dict[str, Any]) -> None:
    n = f"{results['runs']:,}"
    print(f"runlab UI (store of {n} runs); each line: figure, then the target's limit")
    first = results["first_rows_100k"]
    _line(f"runs page, first rows, {n} runs: GET /api/runs",
          f"cold {fmt_ms(first['cold'])}, warm {fmt_ms(first['warm'])}", "1 s")  # fmt: skip
    deep = results["deep_page_100k"]
    _line(f"runs page, a page in the middle of {n} runs (offset)",
          f"cold {fmt_ms(deep['cold'])}, warm {fmt_ms(deep['warm'])}", "1 s")  # fmt: skip
    names = results["first_rows_10k_metric_names"]
    _line("runs page, first rows, 10,000 metric names per run",
          f"cold {fmt_ms(names['cold'])}, warm {fmt_ms(names['warm'])}", "1 s")  # fmt: skip
    for key, label, limit in (("compare_100x10k", "compare 100 runs x 10,000 steps", "2 s"),
                              ("metric_1m", "1,000,000-point metric, downsampled", "1 s")):  # fmt: skip
        r = results[key]
        _line(f"{label}: API", f"first {fmt_ms(r['api_cold'])}, cached {fmt_ms(r['api_warm'])}", limit)
        browser = r.get("browser")
        if browser is not None:
            for what, (first, second) in zip(("first paint", "interactive"), browser, strict=True):
                _line(f"{label}: {what} in chromium",
                      f"first visit {fmt_ms(first)}, second {fmt_ms(second)}", limit)  # fmt: skip
        after = r.get("from_runs_page")
        if after is not None:
            _line(f"{label}: opened from the runs page",
                  f"first paint {fmt_ms(after[0])}, interactive {fmt_ms(after[1])}", limit)  # fmt: skip


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
