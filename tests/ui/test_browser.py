"""The UI in a real browser: Debian's chromium driven by Playwright against a real ``runlab ui``.

Screenshots go to ``tmp_path`` (test artifacts); with ``RUNLAB_UI_SCREENSHOTS=DIR`` they are
also copied there (``docs/update_screenshots.py`` uses that to refresh ``docs/img/``).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest

from .conftest import UIServer

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install 'runlab[test]')")

TIMEOUT_MS = 60_000  # generous: a loaded 2-core machine


class Session:
    """A browser page on the UI server that records every request it makes."""

    def __init__(self, browser: Any, server: UIServer, shots: Path) -> None:
        self.server = server
        self.shots = shots
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def goto(self, path: str, wait_until: Literal["commit", "domcontentloaded", "load"] = "load") -> None:
        self.page.goto(self.server.base + path, wait_until=wait_until)

    def shot(self, name: str) -> Path:
        path = self.shots / name
        self.page.screenshot(path=str(path), full_page=True)
        extra = os.environ.get("RUNLAB_UI_SCREENSHOTS")
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / name)
        return path

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def wait(self, expression: str, timeout: float = TIMEOUT_MS / 1000) -> None:
        """Poll a JavaScript expression until it is truthy (``wait_for_function`` would need the
        page's Content-Security-Policy to allow eval, which the UI forbids)."""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for: {expression}")
            self.page.wait_for_timeout(100)

    def open_listed(self, kind: str, item: str) -> None:
        """From the runs page, open the list of ``kind`` (sweeps, studies) and then ``item``'s page."""
        self.goto("/")
        self.page.click(f"#nav-{kind}")
        self.page.click(f"#list tr[data-id='{item}'] a")
        self.page.wait_for_url(f"**/{kind}/{item}")

    def zoom(self, chart: str, change: dict[str, Any]) -> None:
        """Change a chart's axes as a user's drag would, once plotly has finished drawing it."""
        self.page.evaluate(
            "([id, change]) => runlabDrawn(id).then((div) => Plotly.relayout(div, change)).then(() => true)",
            [chart, change],
        )

    def close(self) -> None:
        self.context.close()
        outside = [u for u in self.requests if not u.startswith(self.server.base + "/") and not u.startswith("data:")]
        assert outside == [], f"requests left 127.0.0.1: {outside}"
        assert all(u.startswith("http://127.0.0.1:") for u in self.requests if not u.startswith("data:"))
        assert self.errors == [], self.errors


@pytest.fixture
def session(browser: Any, ui_server: UIServer, tmp_path: Path) -> Iterator[Session]:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    s = Session(browser, ui_server, shots)
    yield s
    s.close()


def test_runs_page_filters_sorts_and_shows_errors_with_the_caret(session: Session) -> None:
    page = session.page
    session.goto("/")
    page.wait_for_selector("#runs tbody tr >> nth=4")
    assert page.locator("#runs tbody tr").count() == 5
    assert page.locator("#runs tbody .status-failed").count() == 1
    assert page.locator("#runs tbody .status-completed").count() == 4
    session.shot("runs.png")

    page.fill("#where", "params.lr == 0.1 and metrics.loss < 0.04")
    page.click("#filter button")
    session.wait("document.querySelectorAll('#runs tbody tr').length === 1")
    assert page.locator("#runs tbody tr").get_attribute("data-id") is not None
    assert "where=" in page.url  # the filter is in the address, to share or reload

    page.fill("#where", "params.lr < < 1")
    page.press("#where", "Enter")
    error = page.locator("#where-error")
    error.wait_for(state="visible")
    assert error.inner_text().splitlines()[-1].strip() == "^" and "position 12" in error.inner_text()
    session.shot("runs-filter-error.png")

    page.fill("#where", "")
    page.press("#where", "Enter")
    session.wait("document.querySelectorAll('#runs tbody tr').length === 5")
    assert not error.is_visible()
    page.click("th[data-col='params.seed']")  # sort by a column
    session.wait("document.querySelector(\"th[data-col='params.seed']\").textContent.includes('▼')")
    page.fill("#col-input", "metrics.loss.min")
    page.click("#col-add")
    page.wait_for_selector("th[data-col='metrics.loss.min']")
    page.select_option("#archived", "only")  # nothing archived in this store
    page.wait_for_selector("#runs tbody td.muted")
    assert "archived=only" in page.url


def test_run_page_plots_a_metric_with_log_scale_artifacts_and_data(session: Session, ui_store: dict[str, str]) -> None:
    page = session.page
    session.goto(f"/runs/{ui_store['lr0.1-s1']}")
    page.wait_for_selector("#chart .scatterlayer .trace")
    assert session.js("document.getElementById('chart').data[0].y.length") == 200
    assert session.js("document.getElementById('chart').data[0].name") == "loss"
    page.check("#metric-choice input[value='acc']")  # two metrics in one chart
    session.wait("document.getElementById('chart').data.length === 2")
    page.check("#logy")
    assert session.js("document.getElementById('chart').layout.yaxis.type") == "log"
    page.wait_for_selector("#sys-chart .scatterlayer .trace")
    session.wait("[...document.querySelectorAll('#artifacts img')].every(i => i.naturalWidth > 0)")
    page.click("#artifacts .item:has-text('summary.json') button")
    session.wait("document.getElementById('artifact-view').textContent.includes('\"seed\": 1')")
    assert '"epoch": 7' in page.inner_text("#data")
    session.shot("run.png")


def test_the_runs_page_warms_the_chart_library_after_its_rows(session: Session) -> None:
    page = session.page
    session.goto("/")
    page.wait_for_selector("#runs tbody tr >> nth=4")  # the rows come first, without plotly.js
    session.wait("document.body.dataset.plotly === 'loaded'")  # then, in idle time, the chart library loads
    assert session.js("typeof Plotly") == "object"
    assert page.locator('script[src="/static/plotly.min.js"]').count() == 1
    assert any(u.endswith("/static/plotly.min.js") for u in session.requests)


@pytest.mark.parametrize("page_path", ["/runs/{id}", "/compare?ids={id}&metric=loss"])
def test_a_chart_page_keeps_its_one_copy_of_the_chart_library(
    session: Session, ui_store: dict[str, str], page_path: str
) -> None:
    """One loader: a second plotly.js replacing the first broke every later change (a zoom, a live
    update) to the charts the first copy drew."""
    page = session.page
    session.goto(page_path.format(id=ui_store["lr0.1-s1"]))
    page.wait_for_selector(".js-plotly-plot .main-svg")
    page.wait_for_load_state("load")
    page.wait_for_timeout(600)  # past the idle warm-up a page without charts would start
    assert session.js("document.body.dataset.plotly") == "loaded"
    assert page.locator('script[src="/static/plotly.min.js"]').count() == 1
    assert sum(u.endswith("/static/plotly.min.js") for u in session.requests) == 1


SKETCH_PATH = "#chart .chart-sketch path.line"


def sketch_shape(d: str) -> tuple[int, int, int]:
    """A sketch line's ``d``: (its segments, its points, its lone points drawn as dots)."""
    return d.count("M"), len(re.findall("[ML]", d)), d.count("h0")


def sketch_texts(session: Session, chart: str) -> list[str]:
    """The labels of a chart's sketch (SVG text has no ``innerText``)."""
    return list(session.js(f"[...document.querySelectorAll('{chart} .chart-sketch text')].map(t => t.textContent)"))


@pytest.mark.parametrize(
    ("page_path", "paths"), [("/runs/{a}", 1), ("/compare?ids={a},{b}&metric=loss", 2)], ids=["run", "compare"]
)
def test_a_chart_is_sketched_before_plotly_js_has_loaded_then_replaced(
    session: Session, ui_store: dict[str, str], page_path: str, paths: int
) -> None:
    """A fresh browser compiles plotly.js (4.8 MB) for about a second: the chart's data draws first as
    a static sketch, which the interactive chart replaces once plotly.js has loaded."""
    page = session.page
    held: list[Any] = []  # the plotly.js request, answered only once the sketch has been checked
    page.route("**/static/plotly.min.js", lambda route: held.append(route))
    session.goto(page_path.format(a=ui_store["lr0.1-s1"], b=ui_store["lr0.01-s1"]), "domcontentloaded")
    chart = "#curves" if "compare" in page_path else "#chart"
    page.wait_for_selector(f"{chart}[data-sketch='1'] .chart-sketch path.line >> nth={paths - 1}")
    assert held and session.js("typeof Plotly") == "undefined"
    lines = page.locator(f"{chart} .chart-sketch path.line")
    assert lines.count() == paths
    assert all(sketch_shape(d) == (1, 200, 0) for d in lines.evaluate_all("ps => ps.map(p => p.getAttribute('d'))"))
    assert lines.evaluate_all("ps => ps.map(p => p.getAttribute('stroke'))") == ["#1f77b4", "#ff7f0e"][:paths]
    labels = sketch_texts(session, chart)
    assert "step" in labels and "0" in labels  # the x axis's title and ticks
    assert page.inner_text(f"{chart} .chart-note") == "loading interactive chart…"

    held[0].continue_()
    page.wait_for_selector(f"{chart} .main-svg")
    gone = f"!document.querySelector('{chart} .chart-sketch') && !document.querySelector('{chart}').dataset.sketch"
    session.wait(gone)
    assert page.locator(f"{chart} .chart-note").count() == 0
    data = f"document.querySelector('{chart}').data"
    assert session.js(f"{data}.length") == paths and session.js(f"{data}[0].y.length") == 200
    if chart == "#chart":  # later draws are plotly's: a zoom fetches the window in full detail
        session.wait("document.getElementById('chart').dataset.ready")
        session.zoom("chart", {"xaxis.range": [10, 20]})
        session.wait("document.getElementById('chart').data[0].x.length === 11")
        assert page.locator(".chart-sketch").count() == 0


def test_a_fresh_browser_runs_plotly_js_only_once_the_first_sketch_is_there(
    session: Session, ui_store: dict[str, str]
) -> None:
    """Fetched over the network (nothing compiled yet), plotly.js holds the page for about a second while
    it compiles and runs: the run page fetches it at once but runs it after the chart's sketch."""
    page = session.page
    page.add_init_script("""new MutationObserver(() => {
      if (window.sketchedFirst === undefined && document.querySelector('script[src="/static/plotly.min.js"]'))
        window.sketchedFirst = !!document.querySelector('#chart[data-sketch="1"] path');
    }).observe(document, { childList: true, subtree: true });""")
    session.goto(f"/runs/{ui_store['lr0.1-s1']}")
    page.wait_for_selector("#chart .main-svg")
    assert session.js("window.sketchedFirst") is True
    assert session.js("document.querySelector('#chart .chart-sketch')") is None


def test_without_plotly_js_the_sketch_stays_and_says_why(session: Session, ui_store: dict[str, str]) -> None:
    """plotly.js failing to load leaves the sketches, captioned with the error, and the rest of the page."""
    page = session.page
    page.route("**/static/plotly.min.js", lambda route: route.abort())
    session.goto(f"/runs/{ui_store['lr0.1-s1']}")
    page.wait_for_selector("#chart .chart-note.error")
    assert "could not load /static/plotly.min.js" in page.inner_text("#chart .chart-note")
    assert page.get_attribute("#chart", "data-sketch") == "1"
    assert sketch_shape(page.get_attribute(SKETCH_PATH, "d") or "") == (1, 200, 0)
    # the rest of the page does not wait for the charts: system metrics (one point: a dot), the log
    page.wait_for_selector("#sys-chart .chart-note.error")
    assert sketch_shape(page.get_attribute("#sys-chart .chart-sketch path.line", "d") or "") == (1, 1, 1)
    session.wait("document.getElementById('log').textContent.length > 0")
    page.check("#metric-choice input[value='acc']")  # still sketched, with the metric added
    session.wait(f"document.querySelectorAll('{SKETCH_PATH}').length === 2")
    assert session.js("typeof Plotly") == "undefined"


NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("values", "logy", "shape"),
    [
        ([1.0, NAN, 2.0, 3.0, NAN, NAN, 4.0, 5.0, INF, 6.0], False, (4, 6, 2)),  # gaps; lone points as dots
        ([0.5], False, (1, 1, 1)),  # a single point
        ([2.0, 2.0, 2.0], False, (1, 3, 0)),  # a flat line
        ([NAN, NAN], False, None),  # nothing finite: no sketch
        ([1.0, 10.0, 0.0, -1.0, 100.0, 1000.0], True, (2, 4, 0)),  # log y: zero and negative values are gaps
        ([-1.7e308, 1.7e308, 0.0], False, (1, 3, 0)),  # hi - lo overflowed: a path of NaN, a blank sketch
    ],
    ids=["gaps", "single-point", "flat", "all-nan", "log-y", "extremes"],
)
def test_sketches_of_awkward_series(
    session: Session, root: Path, values: list[float], logy: bool, shape: tuple[int, int, int] | None
) -> None:
    """NaN and infinite values (``null`` from the API) are gaps, and no series makes the sketch throw
    (the session fails on any page error)."""
    import runlab

    with runlab.start_run(name="awkward", root=root, capture=False) as run:
        for step, value in enumerate(values):
            run.log_metric("m", value, step=step)
    page = session.page
    page.route("**/static/plotly.min.js", lambda route: None)  # never answered: sketches only
    session.goto("/runs/awkward", "domcontentloaded")  # "load" waits for plotly.js
    session.wait(f"document.getElementById('points-info').textContent === 'm: {len(values)} points'")
    if logy:
        page.check("#logy")
        session.wait(f"document.querySelector('{SKETCH_PATH}')?.getAttribute('d').split('M').length === 3")
        assert {"1", "10", "100", "1000"} <= set(sketch_texts(session, "#chart"))
    if shape is None:
        assert page.locator("#chart .chart-sketch").count() == 0 and page.get_attribute("#chart", "data-sketch") is None
    else:
        d = page.get_attribute(SKETCH_PATH, "d") or ""
        assert sketch_shape(d) == shape and "NaN" not in d and "Infinity" not in d, d
        assert page.get_attribute("#chart", "data-sketch") == "1"


def test_failed_run_shows_its_traceback(session: Session) -> None:
    session.goto("/runs/broken")
    session.page.locator("#error-section").wait_for(state="visible")
    assert "RuntimeError: diverged" in session.page.inner_text("#error-trace")


def test_unknown_run_is_a_404_page(session: Session) -> None:
    response = session.page.goto(session.server.base + "/runs/nosuchrun")
    assert response is not None and response.status == 404
    assert "No run matches 'nosuchrun'" in session.page.inner_text("#error-message")


def test_compare_two_runs_from_the_table_and_group_by_a_parameter(session: Session, ui_store: dict[str, str]) -> None:
    page = session.page
    session.goto("/")
    page.check(f"input[data-id='{ui_store['lr0.1-s1']}']")
    page.check(f"input[data-id='{ui_store['lr0.01-s1']}']")
    page.click("#compare-btn")
    page.wait_for_url("**/compare?ids=*")
    session.wait("document.getElementById('curves').data && document.getElementById('curves').data.length === 2")
    diff_rows = page.locator("#param-diff tr.differs td:first-child").all_inner_texts()
    assert "lr" in diff_rows and "seed" not in diff_rows  # both seeds are 1
    page.wait_for_selector("#parcoords .main-svg, #parcoords canvas")
    session.shot("compare.png")

    ids = ",".join(ui_store[n] for n in ("lr0.1-s1", "lr0.1-s2", "lr0.01-s1", "lr0.01-s2"))
    session.goto(f"/compare?ids={ids}&metric=loss")
    session.wait("document.getElementById('curves').data && document.getElementById('curves').data.length === 4")
    page.select_option("#group-by", "params.lr")
    # per group: upper edge, lower edge filled to it, and the mean
    session.wait("document.getElementById('curves').data.length === 6")
    names = session.js("document.getElementById('curves').data.filter(t => t.name).map(t => t.name)")
    assert names == ["params.lr=0.1 (2)", "params.lr=0.01 (2)"]
    page.select_option("#band", "std")
    session.shot("compare-grouped.png")


LIVE_RUN = textwrap.dedent("""
    import sys, time, pathlib, runlab
    root, stop = sys.argv[1], pathlib.Path(sys.argv[2])
    with runlab.start_run(name="live", root=root) as run:
        print("started", run.id, flush=True)
        step = 0
        while not stop.exists() and step < 3000:
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            print("tick", step, flush=True)
            step += 1
            time.sleep(0.05)
""")


@contextmanager
def live_run(root: Path, stop: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``LIVE_RUN`` in its own process until ``stop`` exists (made on leaving): its run ID and process."""
    proc = subprocess.Popen([sys.executable, "-c", LIVE_RUN, str(root), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().split()[1], proc
    finally:
        stop.touch()
        proc.wait(timeout=60)


def test_a_running_runs_chart_grows_and_its_log_follows(session: Session, root: Path, tmp_path: Path) -> None:
    with live_run(root, tmp_path / "stop") as (run_id, proc):
        page = session.page
        session.goto("/")
        page.wait_for_selector(f"tr[data-id='{run_id}'] .status-running")
        assert "running" in page.inner_text("#live")
        session.goto(f"/runs/{run_id}")
        page.wait_for_selector("#chart .scatterlayer .trace")
        first = session.js("document.getElementById('chart').data[0].x.length")
        session.wait(f"document.getElementById('chart').data[0].x.length > {first} + 10")
        session.wait("document.getElementById('log').textContent.includes('tick 30')")
        assert "following" in page.inner_text("#log-state")
        session.shot("run-live.png")
    assert proc.returncode == 0
    page.wait_for_selector("#run-title .status-completed")  # the page notices the end on its own


def test_a_run_with_many_metrics_lists_a_few_and_finds_the_rest(session: Session, root: Path) -> None:
    import runlab

    with runlab.start_run(name="wide", root=root, capture=False) as run:
        for step in range(3):
            run.log_metrics({f"layer{i:03d}/loss": float(i + step) for i in range(500)}, step=step)
    page = session.page
    session.goto("/runs/wide")
    page.wait_for_selector("#chart .scatterlayer .trace")
    assert page.locator("#metric-choice input").count() == 41  # the chosen one and 40 more
    page.fill("#metric-filter", "layer499")
    page.check("#metric-choice input[value='layer499/loss']")
    session.wait("document.getElementById('chart').data.length === 2")
    session.goto("/?where=name%20%3D%3D%20'nothing'")
    page.wait_for_selector("#runs tbody td.muted")
    assert page.inner_text("#runs tbody") == "No runs match this filter."


def test_zooming_fetches_the_window_in_full_detail_and_smoothing_adds_a_curve(session: Session, root: Path) -> None:
    import runlab

    with runlab.start_run(name="long", root=root, capture=False) as run:
        for step in range(20_000):
            run.log_metric("loss", 1.0 / (1 + step) + (step % 7) * 1e-4, step=step)
    page = session.page
    session.goto("/runs/long")
    page.wait_for_selector("#chart .scatterlayer .trace")
    assert session.js("document.getElementById('chart').data[0].x.length") <= 2000  # downsampled on the server
    assert "of 20000 points" in page.inner_text("#points-info")
    session.wait("document.getElementById('chart').dataset.ready")  # drawn and following zooms
    session.zoom("chart", {"xaxis.range": [1000, 1100]})
    session.wait("document.getElementById('chart').data[0].x.length === 101")  # steps 1000..1100, every one
    page.locator("#smooth").fill("0.9")
    session.wait("document.getElementById('chart').data.length === 2")
    smoothed = session.js("document.getElementById('chart').data[1].y")
    raw = session.js("document.getElementById('chart').data[0].y")
    assert len(smoothed) == len(raw) and smoothed != raw
    session.zoom("chart", {"xaxis.autorange": True})
    session.wait("document.getElementById('chart').data[0].x[0] === 0")


@pytest.fixture
def sweep_session(browser: Any, root: Path, tmp_path: Path) -> Iterator[tuple[Session, str, str]]:
    """A browser on a UI over a store holding a real sweep and a real Optuna study."""
    from .conftest import make_sweep_and_study

    sweep_id, study = make_sweep_and_study(root, tmp_path)
    server = UIServer(root)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    s = Session(browser, server, shots)
    try:
        yield s, sweep_id, study
        s.close()
    finally:
        server.stop()


def test_sweep_page_plots_parameters_against_final_metrics(sweep_session: tuple[Session, str, str]) -> None:
    session, sweep_id, _ = sweep_session
    page = session.page
    session.open_listed("sweeps", sweep_id)
    session.wait("document.querySelectorAll('#sweep-table tbody tr[data-run]').length === 6")
    scatter = "document.getElementById('sweep-scatter')"
    session.wait(f"{scatter}.data && {scatter}.data[0].x.length === 6")
    page.wait_for_selector("#sweep-scatter .scatterlayer .trace")
    page.wait_for_selector("#parcoords .main-svg, #parcoords canvas")
    assert session.js("document.getElementById('sweep-scatter').layout.yaxis.title.text") == "acc"

    page.click("th[data-col='metrics.acc']")  # best accuracy first (sorted on the server)
    session.wait("document.querySelector(\"th[data-col='metrics.acc']\").textContent.includes('▼')")
    assert "sort=-metrics.acc" in page.url
    cells = "[...document.querySelectorAll('#sweep-table tbody tr')].map(r => r.children[r.children.length - 2])"
    accs = [float(t) for t in session.js(f"{cells}.map(c => c.textContent)")]
    assert len(accs) == 6 and accs == sorted(accs, reverse=True)

    page.select_option("#sweep-param", "LR")
    page.check("#logx")
    session.wait("document.getElementById('sweep-scatter').layout.xaxis.type === 'log'")
    assert session.js("document.getElementById('sweep-scatter').layout.xaxis.title.text") == "LR"
    session.shot("sweep.png")

    run_id = page.locator("#sweep-table tbody tr").first.get_attribute("data-run")
    page.click(f"#sweep-table a[href='/runs/{run_id}']")
    page.wait_for_selector("#sweep-link")  # the run page links back to its sweep
    page.click("#sweep-link")
    page.wait_for_url(f"**/sweeps/{sweep_id}")
    session.wait("document.querySelectorAll('#sweep-table tbody tr[data-run]').length === 6")


def test_study_page_shows_history_importances_and_the_best_trial(sweep_session: tuple[Session, str, str]) -> None:
    session, _, study = sweep_session
    page = session.page
    session.open_listed("studies", study)
    session.wait("document.getElementById('history').data && document.getElementById('history').data.length === 2")
    history = session.js("document.getElementById('history').data.map(t => t.y)")
    values, best = history
    assert len(values) == 12 and best == [min(values[: i + 1]) for i in range(12)]  # best so far, minimised
    page.wait_for_selector("#history .scatterlayer .trace")
    session.wait("(document.getElementById('importances').data || []).length === 1")
    assert sorted(session.js("document.getElementById('importances').data[0].y")) == ["OPT", "XV", "YV"]
    page.wait_for_selector("#importances .barlayer .trace")
    page.wait_for_selector("#parcoords .main-svg, #parcoords canvas")
    assert page.locator("#trials tbody tr").count() == 12
    best_trial = page.locator("#trials tbody tr.best").get_attribute("data-trial")
    assert f"trial {best_trial}" in page.inner_text("#best")
    page.click("th[data-col='value']")  # sort the trials by value: the best first
    session.wait(f"document.querySelector('#trials tbody tr').dataset.trial === '{best_trial}'")
    session.shot("study.png")

    page.click("#best a.run-link")  # the best trial's run
    page.wait_for_selector("#study-link")
    assert page.inner_text("#study-link") == study
    page.click("#study-link")
    page.wait_for_url(f"**/studies/{study}")
    page.wait_for_selector("#trials tbody tr >> nth=11")
