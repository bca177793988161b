"""Values the UI must not confuse: NaN and infinite metrics against missing ones, column names with
commas, a run without metrics. The API through FastAPI's TestClient; the pages in a real browser."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runlab

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from runlab.ui import create_app

from .conftest import UIServer
from .test_browser import Session

NAN, INF = math.nan, math.inf
MISSING = "\u2013"  # an en dash: the table's "no value"


def _values_store(root: Path) -> dict[str, str]:
    """Runs whose last ``loss`` is a number, NaN, +inf, -inf, or that never logged ``loss``."""
    ids: dict[str, str] = {}
    for name, losses, params in [
        ("low", [2.0, 0.5], {"lr": 0.1, "a,b": 1}),
        ("diverged", [1.0, NAN], {"lr": NAN, "a,b": 2}),
        ("blowup", [1.0, INF], {"lr": INF}),
        ("sunk", [-INF], {"lr": -INF}),
        ("high", [3.0], {"lr": 0.3}),
        ("silent", [], {"lr": 0.2}),
    ]:
        with runlab.start_run(namespace="values", name=name, params=params, root=root, capture=False) as run:
            for step, loss in enumerate(losses):
                run.log_metric("loss", loss, step=step)
            run.log_metric("acc", 0.5, step=0)
        ids[name] = run.id
    return ids


@pytest.fixture
def values(root: Path) -> dict[str, str]:
    return _values_store(root)


@pytest.fixture
def client(root: Path, values: dict[str, str]) -> TestClient:
    return TestClient(create_app(root))


def _cells(client: TestClient, **params: Any) -> dict[str, dict[str, Any]]:
    body = client.get("/api/runs", params=params)
    assert body.status_code == 200, body.text
    page = body.json()
    names = {r["id"]: r for r in page["runs"]}
    return {r["id"]: dict(zip(page["columns"], r["cells"], strict=True)) for r in names.values()}


def test_nan_infinities_and_missing_values_are_told_apart_in_the_runs_table(
    client: TestClient, values: dict[str, str]
) -> None:
    cols = ["metrics.loss", "metrics.loss.min", "metrics.loss.max", "metrics.loss.count", "params.lr"]
    cells = _cells(client, column=cols)
    by_name = {name: cells[rid] for name, rid in values.items()}
    assert by_name["low"] == {"metrics.loss": 0.5, "metrics.loss.min": 0.5, "metrics.loss.max": 2.0,
                              "metrics.loss.count": 2, "params.lr": 0.1}  # fmt: skip
    assert by_name["diverged"]["metrics.loss"] == "NaN"  # was null: a diverged run looked like one without loss
    assert by_name["diverged"]["metrics.loss.min"] == 1.0  # NaN is never a minimum
    assert by_name["diverged"]["params.lr"] == "NaN"
    assert by_name["blowup"]["metrics.loss"] == "Infinity" and by_name["blowup"]["metrics.loss.max"] == "Infinity"
    assert by_name["blowup"]["params.lr"] == "Infinity"
    assert by_name["sunk"]["metrics.loss"] == "-Infinity" and by_name["sunk"]["metrics.loss.min"] == "-Infinity"
    assert by_name["silent"] == {"metrics.loss": None, "metrics.loss.min": None, "metrics.loss.max": None,
                                 "metrics.loss.count": None, "params.lr": 0.2}  # fmt: skip


@pytest.mark.parametrize("sort", ["metrics.loss", "-metrics.loss"])
def test_runs_whose_value_is_nan_sort_after_every_number_either_way(
    client: TestClient, values: dict[str, str], sort: str
) -> None:
    runs = client.get("/api/runs", params={"sort": sort, "column": "name"}).json()["runs"]
    order = [r["cells"][0] for r in runs]
    numbers = ["sunk", "low", "high", "blowup"]  # -inf, 0.5, 3.0, +inf
    assert order[:4] == (numbers if sort[0] != "-" else numbers[::-1])
    assert set(order[4:]) == {"diverged", "silent"}  # NaN and no value: last, in both directions


def test_compare_and_the_run_api_send_the_same_texts(client: TestClient, values: dict[str, str]) -> None:
    ids = [values[n] for n in ("diverged", "blowup", "silent", "low")]
    body = client.get("/api/compare", params={"ids": ",".join(ids), "metric": "loss"}).json()
    assert body["final"]["loss"] == ["NaN", "Infinity", None, 0.5]
    assert {p["key"]: p["values"] for p in body["params"]}["lr"] == ["NaN", "Infinity", 0.2, 0.1]
    assert [c["values"] for c in body["curves"]] == [[1.0, "NaN"], [1.0, "Infinity"], [], [2.0, 0.5]]
    points = client.get(f"/api/runs/{values['diverged']}/metrics", params={"name": "loss"}).json()
    assert points["metrics"]["loss"]["values"] == [1.0, "NaN"]
    record = client.get(f"/api/runs/{values['blowup']}").json()["run"]
    assert record["summaries"]["loss"]["last"] == "Infinity" and record["params_flat"]["lr"] == "Infinity"


def test_a_parameter_name_with_a_comma_is_one_column(client: TestClient, values: dict[str, str]) -> None:
    body = client.get("/api/runs", params=[("column", "name"), ("column", "params.a,b"),
                                           ("column", "params.lr,name")]).json()  # fmt: skip
    assert body["columns"] == ["name", "params.a,b", "params.lr,name"]
    cells = {r["cells"][0]: r["cells"][1] for r in body["runs"]}
    assert cells["low"] == 1 and cells["diverged"] == 2 and cells["silent"] is None
    # the store reads a sort as comma-separated keys: such a name cannot order runs, and the API says so
    assert body["sortable"] == [True, False, False]


def test_older_comma_separated_column_lists_still_work(client: TestClient, values: dict[str, str]) -> None:
    assert client.get("/api/runs", params={"columns": "name, params.lr"}).json()["columns"] == ["name", "params.lr"]
    both = client.get("/api/runs", params=[("columns", "name,status"), ("columns", "params.lr"),
                                           ("column", "params.a,b")]).json()  # fmt: skip
    assert both["columns"] == ["name", "status", "params.lr", "params.a,b"]
    bad = client.get("/api/runs", params={"column": "bogus"})
    assert bad.status_code == 400 and "Unknown column 'bogus'" in bad.json()["detail"]


# -- in a browser ---------------------------------------------------------------------------------------
@pytest.fixture
def session(browser: Any, ui_server: UIServer, tmp_path: Path) -> Iterator[Session]:
    """A page on the populated store's server; closing it checks no request left and no error was thrown."""
    (tmp_path / "screenshots").mkdir()
    s = Session(browser, ui_server, tmp_path / "screenshots")
    yield s
    s.close()


TABLE = """() => {
  const cols = [...document.querySelectorAll('#runs thead th')].map((th) => th.dataset.col || '');
  return Object.fromEntries([...document.querySelectorAll('#runs tbody tr[data-id]')].map((tr) =>
    [tr.dataset.id, Object.fromEntries([...tr.children].map((td, i) => [cols[i], td.textContent]))]));
}"""


def test_the_pages_show_nan_inf_and_missing_apart_and_take_any_column_name(session: Session, root: Path) -> None:
    ids = _values_store(root)
    page = session.page
    session.goto("/?where=namespace%20%3D%3D%20'values'&columns=name,metrics.loss")  # an older address
    page.wait_for_selector("#runs tbody tr[data-id] >> nth=5")
    shown = {row["name"]: row["metrics.loss"] for row in session.js(TABLE).values()}
    assert shown == {"low": "0.5", "diverged": "NaN", "blowup": "inf", "sunk": "-inf", "high": "3", "silent": MISSING}
    assert "column=name&column=metrics.loss" in page.url and "columns=" not in page.url  # rewritten

    page.fill("#col-input", "params.a,b")  # a name with a comma, through the column box
    page.click("#col-add")
    page.wait_for_selector("th[data-col='params.a,b']")
    session.wait(f"Object.values(({TABLE})()).every((r) => 'params.a,b' in r)")
    shown = {row["name"]: row["params.a,b"] for row in session.js(TABLE).values()}
    assert shown == {"low": "1", "diverged": "2", **dict.fromkeys(("blowup", "sunk", "high", "silent"), MISSING)}
    assert "column=params.a%2Cb" in page.url
    page.reload()  # the address keeps it
    page.wait_for_selector("th[data-col='params.a,b']")
    assert page.get_attribute("th[data-col='params.a,b']", "title") == "runs cannot be sorted by params.a,b"

    for name in ("diverged", "silent", "blowup"):
        page.check(f"input[data-id='{ids[name]}']")
    page.click("#compare-btn")
    page.wait_for_selector("#param-diff tr.differs")
    rows = session.js("""[...document.querySelectorAll('#param-diff tr')].map((tr) =>
        [...tr.children].map((td) => td.textContent))""")
    by_key = {row[0]: row[1:] for row in rows[1:]}
    order = [session.js(f"document.querySelector('#param-diff th:nth-child({i + 2}) a').getAttribute('href')")
             for i in range(3)]  # fmt: skip
    names = {f"/runs/{ids[n]}": n for n in ("diverged", "silent", "blowup")}
    expect = {"diverged": ("NaN", "NaN"), "silent": (MISSING, "0.2"), "blowup": ("inf", "inf")}
    assert by_key["metrics.loss"] == [expect[names[href]][0] for href in order]
    assert by_key["lr"] == [expect[names[href]][1] for href in order]


LATE_METRICS = textwrap.dedent("""
    import sys, time, pathlib, runlab
    root, go = sys.argv[1], pathlib.Path(sys.argv[2])
    with runlab.start_run(name="late", root=root, capture=False) as run:
        print("started", run.id, flush=True)
        while not go.exists():
            time.sleep(0.05)
        for step in range(20):
            run.log_metric("loss", 1.0 / (step + 1), step=step)
""")


def test_a_run_without_metrics_shows_the_message_and_no_chart(
    session: Session, root: Path, ui_store: dict[str, str], tmp_path: Path
) -> None:
    page = session.page
    session.goto(f"/runs/{ui_store['broken']}")
    page.wait_for_selector("#metric-choice >> text=no metrics")
    session.wait("document.getElementById('log').textContent.length > 0")  # the charts' turn came before the log's
    session.js("runlabDrawn('chart').then(() => true)")
    assert session.js("document.getElementById('chart')") is None  # was an empty plotly frame
    assert not page.is_visible("#logy") and not page.is_visible("#smooth")

    go = tmp_path / "go"  # a running run without metrics yet: its chart comes with its first metric
    proc = subprocess.Popen([sys.executable, "-c", LATE_METRICS, str(root), str(go)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().split()[1]
        session.goto(f"/runs/{run_id}")
        page.wait_for_selector("#metric-choice >> text=no metrics")
        session.wait("document.getElementById('log-state').textContent === 'following'")
        assert session.js("document.getElementById('chart')") is None
        go.touch()
        page.wait_for_selector("#chart .scatterlayer .trace")
        assert page.is_visible("#logy")
        session.wait("document.getElementById('chart').dataset.ready")  # and it follows zooms
        page.wait_for_selector("#run-title .status-completed")
        session.wait("document.getElementById('chart').data[0].x.length === 20")
    finally:
        go.touch()
        proc.wait(timeout=60)
    assert proc.returncode == 0
