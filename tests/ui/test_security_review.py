"""The UI as an attacker sees it: store content from someone else's code, other sites' pages, odd addresses.

Run names, parameters, metric names, data, artifacts, logs and errors are written by code that may
not be the user's, and run folders are copied in from elsewhere; none of it may run script in the
UI's origin, reach files outside the run folder, or hang a request. Other sites' pages may send
requests to the UI on 127.0.0.1 but neither read nor embed what it answers.
"""

from __future__ import annotations

import http.client
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import runlab

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from runlab.ui import create_app

from .conftest import UIServer, tiny_png

SECRET = "SECRET-OUTSIDE-THE-STORE"


# -- files of a run that lead out of its folder, or would block a request ---------------------------
def _secret_dir(tmp: Path) -> Path:
    outside = tmp / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "id_rsa").write_text(SECRET)
    (outside / "config.json").write_text('{"auths": "' + SECRET + '", "git": {"token": "' + SECRET + '"}}')
    return outside


def _link_artifacts(run: Path, outside: Path) -> None:
    os.rename(run / "artifacts", run / "artifacts.before")
    os.symlink(outside, run / "artifacts")


def _replace(name: str, make: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def change(run: Path, outside: Path) -> None:
        (run / name).unlink(missing_ok=True)
        make(run / name, outside)

    return change


CHANGES: dict[str, tuple[Callable[[Path, Path], None], str]] = {  # how the run folder is changed, what shows it
    "artifacts is a link out": (_link_artifacts, "artifact"),
    "out.log is a link out": (_replace("out.log", lambda p, o: os.symlink(o / "id_rsa", p)), "log"),
    "data.json is a link out": (_replace("data.json", lambda p, o: os.symlink(o / "config.json", p)), "data.json"),
    "run.json is a link out": (_replace("run.json", lambda p, o: os.symlink(o / "config.json", p)), "run.json"),
    "out.log is a FIFO": (_replace("out.log", lambda p, o: os.mkfifo(p)), "log"),
    "data.json is a FIFO": (_replace("data.json", lambda p, o: os.mkfifo(p)), "data.json"),
}


def _get(client: TestClient, path: str, fifos: list[Path]) -> Any:
    """GET with a deadline: a request stuck opening a FIFO fails the test (and is then let go)."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(client.get(path)), daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        for fifo in fifos:  # a writer that opens and closes lets the stuck reader see the end of the file
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        worker.join(20)
        raise AssertionError(f"GET {path} did not answer within 20 s")
    return result[0]


@pytest.mark.parametrize("change", list(CHANGES))
def test_run_files_that_lead_out_or_block_are_not_read(root: Path, tmp_path: Path, change: str) -> None:
    with runlab.start_run(name="copied-in", root=root, capture=False) as run:
        run.data["note"] = "inside"
        run.save_text("notes.txt", "inside")
    outside = _secret_dir(tmp_path)
    make, shown_in = CHANGES[change]
    make(run.path, outside)
    fifos = [p for p in run.path.iterdir() if p.is_fifo()]
    client = TestClient(create_app(root))

    details = _get(client, f"/api/runs/{run.id}", fifos)
    log = _get(client, f"/api/runs/{run.id}/log", fifos)
    artifact = _get(client, f"/api/runs/{run.id}/artifacts/id_rsa", fifos)
    assert details.status_code == 200 and log.status_code == 200, (details.text, log.text)
    for resp in (details, log, artifact):
        assert SECRET not in resp.text, (change, resp.request.url)
    assert artifact.status_code == 404
    body = details.json()
    assert body["run"]["id"] == run.id  # the rest of the run still shows
    if shown_in == "artifact":
        assert body["artifacts"] == []
    elif shown_in == "log":
        assert log.json()["error"].startswith("out.log cannot be read")
    else:
        assert any(p.startswith(f"{shown_in} cannot be read") for p in body["problems"]), body["problems"]


# -- odd artifact addresses against a real server --------------------------------------------------
@pytest.fixture(scope="module")
def odd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UIServer, dict[str, str]]]:
    """A real server over two runs: one plain, one copied in with ``artifacts`` a link to a folder outside."""
    base = tmp_path_factory.mktemp("odd")
    root = base / "store"
    outside = _secret_dir(base)
    (outside / "notes.txt").write_text(SECRET)
    runs = {}
    for name in ("plain", "linked"):
        with runlab.start_run(name=name, root=root, capture=False) as run:
            run.save_text("notes.txt", "notes")
            run.save_bytes("plots/curve.png", tiny_png())
        runs[name] = run.id
    _link_artifacts(runlab.load(runs["linked"], root=root).path, outside)
    server = UIServer(root)
    yield server, runs
    server.stop()


ODD_ADDRESSES = [  # (run, artifact address as sent, byte for byte)
    ("plain", "%252e%252e/run.json"),
    ("plain", "%252e%252e%252frun.json"),
    ("plain", "..%255crun.json"),
    ("plain", "..%5crun.json"),
    ("plain", "..%5c..%5c..%5cetc%5cpasswd"),
    ("plain", "plots%5c..%5c..%5crun.json"),
    ("plain", "%e2%80%a4%e2%80%a4/run.json"),  # one-dot leaders
    ("plain", "%ef%bc%8e%ef%bc%8e/run.json"),  # fullwidth full stops
    ("plain", "%c0%ae%c0%ae/run.json"),  # overlong UTF-8 dots
    ("plain", "notes.txt%00.png"),
    ("plain", "%00"),
    ("plain", "plots/curve.png%2f..%2f..%2f..%2frun.json"),
    ("plain", "%2e/notes.txt"),
    ("linked", "id_rsa"),
    ("linked", "notes.txt"),
    ("linked", "config.json"),
    ("linked", "./id_rsa"),
]


@pytest.mark.parametrize(("run", "address"), ODD_ADDRESSES)
def test_odd_artifact_addresses_are_404(odd_server: tuple[UIServer, dict[str, str]], run: str, address: str) -> None:
    server, runs = odd_server
    status, body = server.raw_get(f"/api/runs/{runs[run]}/artifacts/{address}")
    assert status == 404, (address, status, body[:200])
    assert SECRET not in body and '"namespace"' not in body


# -- how artifacts are served ----------------------------------------------------------------------
INLINE = ("inline", "sandbox")
ARTIFACT_TYPES = [  # (file name, content types allowed, how it is sent)
    ("page.html", {"application/octet-stream"}, "attachment"),
    ("page.htm", {"application/octet-stream"}, "attachment"),
    ("page.xhtml", {"application/octet-stream"}, "attachment"),
    ("drawing.svg", {"application/octet-stream"}, "attachment"),
    ("evil.js", {"text/plain; charset=utf-8", "application/octet-stream"}, None),
    ("evil.mjs", {"text/plain; charset=utf-8", "application/octet-stream"}, None),
    ("style.css", {"text/plain; charset=utf-8", "application/octet-stream"}, None),
    ("feed.xml", {"text/plain; charset=utf-8", "application/octet-stream"}, None),
    ("transform.xsl", {"application/octet-stream"}, "attachment"),
    ("module.wasm", {"application/octet-stream"}, "attachment"),
    ("notes.txt", {"text/plain; charset=utf-8"}, "inline"),
    ("values.json", {"application/json"}, "inline"),
    ("plot.png", {"image/png"}, "inline"),
]


@pytest.mark.parametrize(("name", "types", "disposition"), ARTIFACT_TYPES)
def test_artifacts_are_sent_as_a_preview_type_or_as_bytes(root: Path, name: str, types: set[str],
                                                           disposition: str | None) -> None:  # fmt: skip
    """Never as a type the browser would run as a script or show as a page in the UI's origin."""
    with runlab.start_run(name="types", root=root, capture=False) as run:
        run.save_bytes(name, tiny_png() if name.endswith(".png") else b"<script>window.__pwned = 1</script>")
    resp = TestClient(create_app(root)).get(f"/api/runs/{run.id}/artifacts/{name}")
    assert resp.status_code == 200
    assert resp.headers["content-type"] in types, (name, resp.headers["content-type"])
    if disposition is not None:
        assert resp.headers["content-disposition"].startswith(disposition)
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["content-security-policy"].startswith("sandbox;")


# -- other sites ------------------------------------------------------------------------------------
def test_every_response_forbids_other_sites_to_embed_it(root: Path) -> None:
    with runlab.start_run(name="r", root=root, capture=False) as run:
        run.save_bytes("plot.png", tiny_png())
        run.log_metric("loss", 1.0)
    client = TestClient(create_app(root))
    paths = [
        "/",
        f"/runs/{run.id}",
        "/api/runs",
        f"/api/runs/{run.id}",
        f"/api/runs/{run.id}/artifacts/plot.png",
        "/static/app.js",
        "/static/plotly.min.js",
        "/api/openapi.json",
        "/nosuchpage",
        "/api/runs/nosuch",
    ]
    for path in paths:
        resp = client.get(path)
        assert resp.headers.get("cross-origin-resource-policy") == "same-origin", path
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert "access-control-allow-origin" not in resp.headers, path


# -- a real browser: store text never runs, other sites read nothing -------------------------------
def _payload(tag: str) -> str:
    """Markup that, wherever it became HTML, makes a same-origin request (allowed by the CSP) and sets a flag."""
    return (f'<img src="/__pwned_{tag}" onerror="window.__pwned=1"><script src="/__pwned_s{tag}"></script>'
            f'<svg onload="window.__pwned=1"></svg><a href="javascript:window.__pwned=1">{tag}</a>')  # fmt: skip


SWEPT = """\
import runlab
LR = 0.1
LABEL = "a"
experiment = runlab.Experiment(namespace="swept", glob=globals())


@experiment
def main(e):
    for step in range(5):
        e.track(METRIC, 1.0 / (1 + e.LR * step))
    return e.LR


experiment.run_if_main()
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UIServer, dict[str, str]]]:
    """A real server over a store whose every text is markup, with a sweep over markup values."""
    from click.testing import CliRunner

    from runlab.cli import cli
    from runlab.sweep import list_sweeps

    base = tmp_path_factory.mktemp("hostile")
    root = base / "store"
    ids: dict[str, str] = {}
    for i in range(2):
        params = {_payload("pk"): _payload(f"pv{i}"), "n": i}
        with runlab.start_run(name=_payload(f"name{i}"), params=params, tags=[_payload("tag")],
                              description=_payload("desc"), root=root, capture=False) as run:  # fmt: skip
            for step in range(5):
                run.log_metric(_payload("metric"), float(step * (i + 1)), step=step)
            run.data[_payload("dk")] = _payload("dv")
            run.save_text("drawing.svg", '<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned=1</script>'
                                         '<image href="/__pwned_svg"/></svg>')  # fmt: skip
            run.save_text("page.html", _payload("html"))
            run.save_text("shown.json", '{"k": "' + _payload("json").replace('"', "'") + '"}')
            run.save_text(_payload("art").replace("/", "|") + ".txt", _payload("artcontent"))
        (run.path / "out.log").write_text(_payload("log"))
        ids[f"run{i}"] = run.id
    with pytest.raises(RuntimeError), runlab.start_run(name="broken", root=root, capture=False) as run:
        raise RuntimeError(_payload("error"))
    ids["broken"] = run.id
    script = base / "swept.py"
    script.write_text(SWEPT.replace("METRIC", repr(_payload("sweepmetric"))))
    result = CliRunner().invoke(cli, ["--root", str(root), "run", str(script), "--sweep", "LR=0.1,0.01", "--sweep",
                                      f"LABEL={_payload('sv').replace(',', ' ')}", "-x", "inline"])  # fmt: skip
    assert result.exit_code == 0, result.output
    ids["sweep"] = next(iter(list_sweeps(root))).id
    server = UIServer(root)
    yield server, ids
    server.stop()


PAGES = [
    "/",
    "/?where=" + _payload("where").replace("&", "%26").replace("#", "%23"),
    "/?columns=params.n," + _payload("col").replace("&", "%26").replace("#", "%23"),
    "/runs/{run0}",
    "/runs/{broken}",
    "/compare?ids={run0},{run1}",
    "/compare?ids={run0},{run1}&group_by=params.n",
    "/sweeps",
    "/sweeps/{sweep}",
]


@pytest.fixture
def hostile_page(browser: Any, hostile: tuple[UIServer, dict[str, str]]) -> Iterator[tuple[Any, list[str]]]:
    """A browser page, and the address of every request it makes."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    yield page, requests
    context.close()


@pytest.mark.parametrize("path", PAGES)
def test_store_text_never_runs_as_script_or_markup(hostile: tuple[UIServer, dict[str, str]],
                                                   hostile_page: tuple[Any, list[str]], path: str) -> None:  # fmt: skip
    server, ids = hostile
    page, requests = hostile_page
    page.goto(server.base + path.format(**ids))
    page.wait_for_load_state("load")
    if "runs/{run0}" in path:  # the run page: open the JSON viewer, which fetches the artifact
        page.wait_for_selector("#artifacts button")
        page.click("#artifacts button")
        page.wait_for_selector("#artifact-view:not([hidden])")
    for chart in ("#chart", "#curves", "#sweep-scatter"):  # hover over the charts: plotly draws the labels then
        if page.query_selector(chart) is not None:
            page.wait_for_selector(f"{chart} .nsewdrag", state="attached")
            box = page.query_selector(f"{chart} .nsewdrag").bounding_box()
            for fx in (0.05, 0.5, 0.95):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5)
                page.wait_for_timeout(100)
    page.wait_for_timeout(300)
    text = page.inner_text("body")
    assert "__pwned" in text, text  # the page showed the store's text
    found = page.evaluate("""() => ({
        flag: window.__pwned === undefined ? null : window.__pwned,
        nodes: [...document.querySelectorAll(
                '[src*="/__pwned"], [href*="/__pwned"], [onerror], [onload], iframe, object, embed')]
            .concat([...document.querySelectorAll('a')].filter((a) => /^\\s*javascript:/i.test(
                a.getAttribute('href') || a.getAttribute('xlink:href') || '')))
            .map((n) => n.outerHTML.slice(0, 120)),
    })""")
    assert found == {"flag": None, "nodes": []}
    assert [u for u in requests if urlsplit(u).path.startswith("/__pwned")] == []
    assert all(u.startswith(server.base + "/") or u.startswith("data:") for u in requests), requests


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[str]:
    """Another origin on 127.0.0.1 (another port) serving a page of its own."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>elsewhere</title><p>another site")

    def handler(*args: Any) -> http.server.SimpleHTTPRequestHandler:
        return http.server.SimpleHTTPRequestHandler(*args, directory=str(site))

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # type: ignore[arg-type]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


READS = {  # what another site's page tries on the UI -> what it learns (None: nothing)
    "embed an artifact image": """async (url) => await new Promise((done) => {
        const img = new Image();
        img.onload = () => done(img.naturalWidth);
        img.onerror = () => done(null);
        img.src = url + "/api/runs/RUN/artifacts/plot.png";
    })""",
    "fetch the API": """async (url) => {
        try { return (await (await fetch(url + "/api/runs")).json()).total; } catch (e) { return null; }
    }""",
    "fetch an artifact": """async (url) => {
        try { return (await fetch(url + "/api/runs/RUN/artifacts/notes.txt")).status; } catch (e) { return null; }
    }""",
}


@pytest.mark.parametrize("attempt", list(READS))
def test_other_sites_pages_learn_nothing(browser: Any, root: Path, other_site: str, attempt: str) -> None:
    with runlab.start_run(name="r", root=root, capture=False) as run:
        run.save_bytes("plot.png", tiny_png())
        run.save_text("notes.txt", "notes")
    server = UIServer(root)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(other_site + "/index.html")
        assert page.evaluate(READS[attempt].replace("RUN", run.id), server.base) is None
        with urllib_get(
            server.base + f"/api/runs/{run.id}/artifacts/plot.png"
        ) as resp:  # the UI itself still serves it
            assert resp.read() == tiny_png()
    finally:
        context.close()
        server.stop()


def urllib_get(url: str) -> Any:
    import urllib.request

    return urllib.request.urlopen(url, timeout=60)
