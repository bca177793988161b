"""The UI as a new user meets it: addresses that lead nowhere, columns that cannot sort, a run deleted
while its page is open, very long names, a metric no run has. Real store, real server, real chromium."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runlab

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from runlab.ui import create_app

from .conftest import UIServer
from .test_browser import Session, live_run


@pytest.fixture
def session(browser: Any, ui_server: UIServer, tmp_path: Path) -> Iterator[Session]:
    """A page on the populated store's server; closing it checks no request left and no error was thrown."""
    pytest.importorskip("playwright", reason="the playwright package is not installed (pip install 'runlab[test]')")
    (tmp_path / "screenshots").mkdir()
    s = Session(browser, ui_server, tmp_path / "screenshots")
    yield s
    s.close()


COLUMNS = {"name": True, "status": True, "created": True, "params.lr": True, "metrics.loss.min": True,
           "tags": False, "path": False, "archived": False}  # fmt: skip


def test_the_api_says_which_columns_can_sort_and_the_store_agrees(root: Path, ui_store: dict[str, str]) -> None:
    client = TestClient(create_app(root))
    body = client.get("/api/runs", params={"columns": ",".join(COLUMNS)}).json()
    assert dict(zip(body["columns"], body["sortable"], strict=True)) == COLUMNS
    for column, sortable in COLUMNS.items():  # the flag is the store's own answer, not a guess
        status = client.get("/api/runs", params={"sort": "-" + column}).status_code
        assert status == (200 if sortable else 400), column


@pytest.mark.parametrize(
    ("address", "button", "says"),
    [
        ("/?offset=100", "#first-page", "No runs on this page: the 5 runs end before run 101."),
        ("/?sort=-tags", "#sort-reset", "Cannot sort by 'tags'"),
        ("/?sort=path", "#sort-reset", "Unknown field 'path'"),
    ],
)
def test_an_address_that_shows_no_runs_says_why_and_offers_the_way_back(
    session: Session, address: str, button: str, says: str
) -> None:
    page = session.page
    session.goto(address)
    page.wait_for_selector(button)
    assert says in page.inner_text("body")
    assert "No runs in" not in page.inner_text("body")  # the store is not empty
    page.click(button)
    session.wait("document.querySelectorAll('#runs tbody tr[data-id]').length === 5")
    assert page.inner_text("#page-info") == "1\u20135"  # an en dash
    assert not page.is_visible("#where-error")


@pytest.mark.parametrize("column", ["tags", "path", "archived"])
def test_clicking_a_column_that_cannot_sort_keeps_the_table(session: Session, column: str) -> None:
    page = session.page
    session.goto(f"/?columns=name,{column}")
    page.wait_for_selector("#runs tbody tr[data-id] >> nth=4")
    header = page.locator(f"th[data-col='{column}']")
    assert header.get_attribute("title") == f"runs cannot be sorted by {column}"
    header.click()
    page.wait_for_timeout(500)
    assert not page.is_visible("#where-error")
    assert page.locator("#runs tbody tr[data-id]").count() == 5
    assert "sort=" not in page.url


def test_a_run_deleted_while_its_page_follows_it_is_told(session: Session, root: Path, tmp_path: Path) -> None:
    with live_run(root, tmp_path / "stop") as (run_id, _):
        page = session.page
        session.goto(f"/runs/{run_id}")
        session.wait("document.getElementById('log-state').textContent === 'following'")
    deleted = subprocess.run([sys.executable, "-m", "runlab", "--root", str(root), "delete", run_id, "--yes"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    page.wait_for_selector("#run-error", state="visible")
    assert "This run is no longer in the store" in page.inner_text("#run-error")
    assert page.inner_text("#log-state") == ""  # no longer claims to follow; no uncaught error (session.close)


def test_a_very_long_name_and_many_tags_leave_the_other_columns_in_view(session: Session, root: Path) -> None:
    with runlab.start_run(name="ü" * 300, params={"note": "x" * 3000}, tags=[f"tag{i}" for i in range(200)],
                          root=root, capture=False) as run:  # fmt: skip
        pass
    page = session.page
    session.goto("/?columns=name,tags,status")
    page.wait_for_selector(f"tr[data-id='{run.id}']")
    status = page.locator(f"tr[data-id='{run.id}'] .status").bounding_box()
    assert status is not None and status["x"] + status["width"] <= 1400  # the viewport's width
    name = page.locator(f"tr[data-id='{run.id}'] td >> nth=2")
    name.hover()
    assert name.get_attribute("title") == "ü" * 300  # the full text, on hover
    session.goto(f"/runs/{run.id}")
    page.wait_for_selector("#params tr")
    assert session.js("document.documentElement.scrollWidth") <= 1400  # the title and the value wrap


def test_a_compared_metric_that_no_run_logged_is_named(session: Session, ui_store: dict[str, str]) -> None:
    page = session.page
    session.goto(f"/compare?ids={ui_store['lr0.1-s1']},{ui_store['lr0.01-s1']}&metric=nope")
    page.wait_for_selector("#compare-error", state="visible")
    assert "None of these runs has logged a metric 'nope'" in page.inner_text("#compare-error")
    assert page.input_value("#metric") == "nope"
    page.select_option("#metric", "loss")
    page.wait_for_selector("#compare-error", state="hidden")


def test_a_sweep_address_with_a_sort_it_refuses_offers_the_way_back(browser: Any, root: Path, tmp_path: Path) -> None:
    from .conftest import make_sweep_and_study

    sweep_id, _ = make_sweep_and_study(root, tmp_path, trials=2)
    server = UIServer(root)
    (tmp_path / "screenshots").mkdir()
    s = Session(browser, server, tmp_path / "screenshots")
    try:
        s.goto(f"/sweeps/{sweep_id}?sort=-bogus")
        s.page.wait_for_selector("#sort-reset")
        assert "No run here has the metric 'bogus'" in s.page.inner_text("#sweep-error")
        s.page.click("#sort-reset")
        s.wait("document.querySelectorAll('#sweep-table tbody tr').length === 6")
        assert not s.page.is_visible("#sweep-error") and "sort=" not in s.page.url
        s.close()
    finally:
        server.stop()


def test_a_page_whose_server_stopped_says_what_to_do(session: Session, root: Path, tmp_path: Path) -> None:
    with live_run(root, tmp_path / "stop") as (run_id, _):
        session.goto(f"/runs/{run_id}")
        session.wait("document.getElementById('log-state').textContent === 'following'")
        session.server.stop()
        session.page.wait_for_selector("#run-error", state="visible")
    text = session.page.inner_text("#run-error")
    assert "The runlab UI server cannot be reached" in text and "is 'runlab ui' still running?" in text
