"""The UI's JSON API through FastAPI's TestClient: queries, bad input, traversal, token, read-only."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlab

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from runlab.ui import confined_artifact, create_app

from .conftest import UIServer, populate, tiny_png


@pytest.fixture
def client(root: Path, ui_store: dict[str, str]) -> TestClient:
    return TestClient(create_app(root))


def test_runs_page_default_columns_and_total(client: TestClient, ui_store: dict[str, str]) -> None:
    page = client.get("/api/runs").json()
    assert page["total"] == 5
    assert page["columns"][:4] == ["name", "status", "created", "duration"]
    assert {"params.lr", "params.seed", "metrics.loss"} <= set(page["columns"])
    assert page["runs"][0]["id"] == ui_store["broken"]  # newest first


def test_runs_where_sort_paging_columns(client: TestClient) -> None:
    params = {"where": "params.lr == 0.1", "sort": "params.seed", "columns": "name,params.seed", "limit": 1}
    first = client.get("/api/runs", params=params).json()
    assert first["total"] == 2 and first["columns"] == ["name", "params.seed"]
    assert first["runs"][0]["cells"] == ["lr0.1-s1", 1]
    second = client.get("/api/runs", params={**params, "offset": 1}).json()
    assert second["runs"][0]["cells"] == ["lr0.1-s2", 2]
    past = client.get("/api/runs", params={**params, "offset": 5}).json()
    assert past["runs"] == [] and past["total"] == 2
    desc = client.get("/api/runs", params={**params, "sort": "-params.seed", "limit": 2}).json()
    assert [r["cells"][1] for r in desc["runs"]] == [2, 1]


def test_column_aggregates_and_repeated_columns(client: TestClient) -> None:
    page = client.get("/api/runs", params=[("columns", "metrics.loss.min"), ("columns", "metrics.loss.count"),
                                           ("where", "name == 'lr0.1-s1'")]).json()  # fmt: skip
    assert page["runs"][0]["cells"][1] == 200
    assert 0 < page["runs"][0]["cells"][0] < 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"where": "params.lr < < 3"}, "^"),
        ({"where": "parms.lr < 3"}, "^"),
        ({"sort": "-nosuchfield"}, "nosuchfield"),
        ({"columns": "bogus"}, "Unknown column 'bogus'"),
        ({"limit": 0}, "Invalid limit 0"),
        ({"limit": 5000}, "Invalid limit 5000"),
        ({"offset": -1}, "Invalid offset -1"),
    ],
)
def test_bad_runs_queries_are_400_with_the_message(client: TestClient, params: dict[str, object],
                                                   expected: str) -> None:  # fmt: skip
    resp = client.get("/api/runs", params=params)
    assert resp.status_code == 400, resp.text
    assert expected in resp.json()["detail"]


def test_bad_where_gives_the_same_caret_message_as_the_store(client: TestClient, root: Path) -> None:
    expr = "params.lr < < 3"
    with pytest.raises(runlab.errors.FilterError) as info:
        runlab.runs(where=expr, root=root)
    body = client.get("/api/runs", params={"where": expr}).json()
    assert body["detail"] == str(info.value)
    assert body["position"] == 12 and body["expression"] == expr
    assert body["detail"].splitlines()[-1].strip() == "^"


@pytest.mark.parametrize(("path", "params", "expected"), [
    ("/api/runs", {"offset": "abc"}, "Invalid offset 'abc': expected a valid integer"),
    ("/api/runs", {"limit": "1.5"}, "Invalid limit '1.5'"),
    ("/api/fields", {"limit": "many"}, "Invalid limit 'many'"),
])  # fmt: skip
def test_a_query_value_of_the_wrong_type_is_a_400_with_one_line(
    client: TestClient, path: str, params: dict[str, str], expected: str
) -> None:
    """Not FastAPI's 422 with a list: the page shows ``detail`` as text (it showed '[object Object]')."""
    resp = client.get(path, params=params)
    assert resp.status_code == 400, resp.text
    assert isinstance(resp.json()["detail"], str) and resp.json()["detail"].startswith(expected)


def test_offsets_up_to_the_largest_integer_give_pages_and_larger_ones_a_400(client: TestClient, root: Path) -> None:
    resp = client.get("/api/runs", params={"offset": 2**63 - 1})
    assert resp.status_code == 200, resp.text
    assert resp.json()["runs"] == [] and resp.json()["total"] == client.get("/api/runs").json()["total"]
    for offset in (2**63, 10**30):
        resp = client.get("/api/runs", params={"offset": offset})
        assert resp.status_code == 400 and resp.json()["detail"].startswith(f"Invalid offset {offset}:"), resp.text
    assert list(runlab.Store(root).runs(offset=10**30)) == []  # the store: past the last run, an empty result


def test_run_details(client: TestClient, ui_store: dict[str, str]) -> None:
    body = client.get(f"/api/runs/{ui_store['lr0.1-s1']}").json()
    assert body["run"]["name"] == "lr0.1-s1" and body["run"]["params_flat"]["opt.kind"] == "adam"
    assert body["metrics"] == ["loss", "acc"] and body["system_metrics"] == ["sys/cpu_percent"]
    assert body["data"] == {"best": {"epoch": 7}}
    assert {a["name"]: a["kind"] for a in body["artifacts"]} == {
        "notes.txt": "text", "plots/curve.png": "image", "summary.json": "json"}  # fmt: skip
    assert body["live"] is False and body["param_info"]["lr"]["type"] == "float"


def test_run_by_name_and_prefix(client: TestClient, ui_store: dict[str, str]) -> None:
    rid = ui_store["broken"]
    assert client.get("/api/runs/broken").json()["run"]["id"] == rid
    assert client.get(f"/api/runs/{rid[:6]}").json()["run"]["id"] == rid
    failed = client.get(f"/api/runs/{rid}").json()
    assert "diverged" in failed["error_detail"]["traceback"]


@pytest.mark.parametrize("path", ["/api/runs/nosuchrun", "/api/runs/nosuchrun/metrics", "/api/runs/nosuchrun/log",
                                  "/api/runs/nosuchrun/artifacts/notes.txt", "/api/compare?ids=nosuchrun"])  # fmt: skip
def test_unknown_run_is_404(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert "No run matches 'nosuchrun'" in resp.json()["detail"]


@pytest.mark.parametrize("path", ["/foo", "/runs/a/b", "/compare/x/y"])
def test_an_unknown_page_address_is_the_html_404_page(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404 and resp.headers["content-type"].startswith("text/html")
    assert "Page not found" in resp.text and "start from the runs page" in resp.text
    api = client.get("/api/nope")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    assert client.post("/api/runs").status_code == 405  # other HTTP errors keep their status


def test_unknown_run_page_is_a_404_page(client: TestClient) -> None:
    resp = client.get("/runs/nosuchrun")
    assert resp.status_code == 404
    assert "text/html" in resp.headers["content-type"] and "No run matches" in resp.text


def test_metrics_full_and_downsampled(client: TestClient, ui_store: dict[str, str]) -> None:
    rid = ui_store["lr0.1-s1"]
    full = client.get(f"/api/runs/{rid}/metrics", params={"name": "loss"}).json()["metrics"]
    assert list(full) == ["loss"] and len(full["loss"]["steps"]) == 200 and not full["loss"]["downsampled"]
    small = client.get(f"/api/runs/{rid}/metrics", params={"name": "loss", "points": 20}).json()["metrics"]["loss"]
    assert small["downsampled"] and len(small["steps"]) <= 20 and small["count"] == 200
    assert small["steps"][0] == 0 and small["steps"][-1] == 199
    zoomed = client.get(f"/api/runs/{rid}/metrics", params={"name": "loss", "start": 10, "end": 19}).json()
    assert zoomed["metrics"]["loss"]["steps"] == list(range(10, 20))
    both = client.get(f"/api/runs/{rid}/metrics", params=[("name", "loss"), ("name", "acc")]).json()
    assert list(both["metrics"]) == ["loss", "acc"]
    assert client.get(f"/api/runs/{rid}/metrics", params={"points": 2}).status_code == 400


def test_nonfinite_metric_values_come_as_the_texts_of_the_run_files(client: TestClient, root: Path) -> None:
    with runlab.start_run(name="nan", root=root, capture=False) as run:
        run.log_metric("x", 1.0)
        run.log_metric("x", float("nan"))
        run.log_metric("x", float("inf"))
    values = client.get(f"/api/runs/{run.id}/metrics").json()["metrics"]["x"]["values"]
    assert values == [1.0, "NaN", "Infinity"]  # null is a missing value; NaN is shown as NaN (docs/ui.md)


def test_log_tail_and_offsets(client: TestClient, root: Path) -> None:
    with runlab.start_run(name="talky", root=root) as run:
        for i in range(3):
            print(f"line {i}", flush=True)
    body = client.get(f"/api/runs/{run.id}/log").json()
    assert "line 0" in body["text"] and body["offset"] == body["size"]
    again = client.get(f"/api/runs/{run.id}/log", params={"offset": body["offset"]}).json()
    assert again["text"] == "" and again["live"] is False


def test_artifacts_are_served_with_safe_headers(client: TestClient, ui_store: dict[str, str]) -> None:
    rid = ui_store["lr0.1-s1"]
    png = client.get(f"/api/runs/{rid}/artifacts/plots/curve.png")
    assert png.status_code == 200 and png.content == tiny_png() and png.headers["content-type"] == "image/png"
    text = client.get(f"/api/runs/{rid}/artifacts/notes.txt")
    assert text.text == "notes of lr0.1-s1\n" and text.headers["content-type"].startswith("text/plain")
    assert "sandbox" in text.headers["content-security-policy"]
    assert client.get(f"/api/runs/{rid}/artifacts/summary.json").json() == {"lr": 0.1, "seed": 1}


def test_every_listed_artifact_can_be_downloaded(client: TestClient, root: Path, ui_store: dict[str, str]) -> None:
    """A file a user wrote into artifacts/ by hand, with a quote and a newline in its name, is served too."""
    rid = ui_store["lr0.1-s1"]
    odd = runlab.load(rid, root=root).path / "artifacts" / 'q"x\ny.txt'
    odd.write_text("odd")
    listed = [a["name"] for a in client.get(f"/api/runs/{rid}").json()["artifacts"]]
    assert odd.name in listed
    for name in listed:
        resp = client.get(f"/api/runs/{rid}/artifacts/{quote(name)}")
        assert resp.status_code == 200, (name, resp.text)
    assert client.get(f"/api/runs/{rid}/artifacts/{quote(odd.name)}").text == "odd"


def test_html_artifacts_are_downloads_not_pages(client: TestClient, root: Path) -> None:
    with runlab.start_run(name="html", root=root, capture=False) as run:
        run.save_text("page.html", "<script>alert(1)</script>")
    resp = client.get(f"/api/runs/{run.id}/artifacts/page.html")
    assert resp.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in resp.headers["content-security-policy"]


TRAVERSALS = [
    "../run.json",
    "..%2frun.json",
    "..%2Frun.json",
    "%2e%2e/run.json",
    "%2e%2e%2frun.json",
    "..%252frun.json",
    "plots/../../run.json",
    "./notes.txt",
    "plots/./curve.png",
    "plots//curve.png",
    "plots/curve.png/..",
    "..\\run.json",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "//etc/passwd",
    "../../../../../../etc/passwd",
    "%00notes.txt",
    "notes.txt%00",
    "link_out",
    "link_dir/passwd",
    "link_run_json",
    "link_loop",
    "plots",
    "",
]


@pytest.fixture(scope="module")
def traversal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UIServer, str, Path]]:
    """A real server over a store whose run has links leading out of its artifacts folder."""
    base = tmp_path_factory.mktemp("traversal")
    root = base / "store"
    rid = populate(root)["lr0.1-s1"]
    art = runlab.load(rid, root=root).path / "artifacts"
    secret = base / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, art / "link_out")
    os.symlink(base, art / "link_dir")
    os.symlink(art.parent / "run.json", art / "link_run_json")
    os.symlink(art / "link_loop", art / "link_loop")
    server = UIServer(root)
    yield server, rid, art.parent
    server.stop()


@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_artifact_traversal_attempts_are_404(traversal_server: tuple[UIServer, str, Path], attempt: str) -> None:
    """Sent byte for byte (no client-side URL normalisation) to a real server."""
    server, rid, folder = traversal_server
    status, body = server.raw_get(f"/api/runs/{rid}/artifacts/{attempt}")
    assert status == 404, (attempt, status, body[:200])
    assert "top secret" not in body and '"namespace"' not in body
    assert confined_artifact(folder, unquote(attempt)) is None


def test_links_leading_out_are_not_listed(traversal_server: tuple[UIServer, str, Path]) -> None:
    server, rid, _ = traversal_server
    with urllib.request.urlopen(f"{server.base}/api/runs/{rid}", timeout=60) as resp:
        listed = [a["name"] for a in json.loads(resp.read())["artifacts"]]
    assert listed == ["notes.txt", "plots/curve.png", "summary.json"]


def test_a_link_inside_artifacts_is_served(client: TestClient, ui_store: dict[str, str], root: Path) -> None:
    rid = ui_store["lr0.1-s1"]
    art = runlab.load(rid, root=root).path / "artifacts"
    os.symlink(art / "notes.txt", art / "alias.txt")
    assert client.get(f"/api/runs/{rid}/artifacts/alias.txt").text == "notes of lr0.1-s1\n"


def test_compare_params_curves_and_groups(client: TestClient, ui_store: dict[str, str]) -> None:
    ids = [ui_store[n] for n in ("lr0.1-s1", "lr0.1-s2", "lr0.01-s1", "lr0.01-s2")]
    body = client.get("/api/compare", params={"ids": ",".join(ids), "metric": "loss", "group_by": "params.lr",
                                              "points": 50}).json()  # fmt: skip
    diff = {p["key"]: p for p in body["params"]}
    assert diff["lr"]["differs"] and diff["seed"]["differs"] and not diff["opt.kind"]["differs"]
    assert [len(c["steps"]) <= 50 for c in body["curves"]] == [True] * 4
    groups = {g["value"]: g for g in body["groups"]}
    assert set(groups) == {0.1, 0.01} and len(groups[0.1]["runs"]) == 2
    band = groups[0.1]["band"]
    assert len(band["step"]) == 50 and band["step"] == sorted(band["step"])
    assert all(lo <= m <= hi for lo, m, hi in zip(band["min"], band["mean"], band["max"], strict=True))
    assert band["n"][0] == 8  # 200 steps in 50 buckets: 4 steps of two seeds behind each point
    assert band["max"][-1] > band["min"][-1]  # the seeds differ: a visible band
    assert body["final"]["loss"][0] == pytest.approx(1 / (1 + 0.1 * 199))


@pytest.mark.parametrize(("params", "status", "expected"), [
    ({}, 400, "No runs to compare"),
    ({"ids": "lr0.1-s1", "group_by": "bogus"}, 400, "Unknown column 'bogus'"),
    ({"ids": "nosuch"}, 404, "No run matches"),
])  # fmt: skip
def test_bad_compare_requests(client: TestClient, params: dict[str, str], status: int, expected: str) -> None:
    resp = client.get("/api/compare", params=params)
    assert resp.status_code == status and expected in resp.json()["detail"]


def test_fields_for_the_column_chooser(client: TestClient) -> None:
    assert client.get("/api/fields").json() == {"params": ["lr", "opt", "opt.kind", "seed"],
                                                "metrics": ["acc", "loss", "sys/cpu_percent"]}  # fmt: skip
    assert client.get("/api/fields", params={"q": "sys/"}).json()["metrics"] == ["sys/cpu_percent"]
    assert client.get("/api/fields", params={"q": "%"}).json() == {"params": [], "metrics": []}
    assert client.get("/api/fields", params={"q": "lr\x00"}).json() == {"params": [], "metrics": []}  # not all


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/runs", "/api/runs/{ref}", "/api/runs/{ref}/metrics", "/api/runs/{ref}/artifacts/{name}",
            "/api/compare", "/api/runs/{ref}/log", "/api/fields"} <= set(schema["paths"])  # fmt: skip
    assert all(set(ops) == {"get"} for ops in schema["paths"].values())
    assert client.get("/docs").status_code == 404  # Swagger UI would load scripts from a CDN


def test_pages_and_static_files(client: TestClient, ui_store: dict[str, str]) -> None:
    for path in ("/", f"/runs/{ui_store['lr0.1-s1']}", "/compare"):
        resp = client.get(path)
        assert resp.status_code == 200 and "default-src 'self'" in resp.headers["content-security-policy"]
        assert "http://" not in resp.text and "https://" not in resp.text  # nothing from other hosts
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    head = client.head("/static/plotly.min.js")  # as for the other static files
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 1_000_000
    assert client.head("/static/app.js").status_code == 200
    assert client.get("/static/app.js").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/", "/compare", "/sweeps", "/api/runs", "/api/fields", "/api/openapi.json", "/runs/{id}", "/api/runs/{id}",
     "/api/runs/{id}/metrics?names=loss", "/api/runs/{id}/log", "/api/runs/nope", "/runs/nope", "/no/such/page",
     "/api/runs?where=params.lr%20%3E"],
)  # fmt: skip
def test_head_answers_as_get_without_a_body(client: TestClient, ui_store: dict[str, str], path: str) -> None:
    """A HEAD of a page or an API address gave 405 (FastAPI routes answer only GET)."""
    path = path.replace("{id}", ui_store["lr0.1-s1"])
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file of every run folder, hashed (the index is a cache and may be touched by reads)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".runlab" not in p.parts
    }


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_nothing_a_request_sends_writes_the_store(client: TestClient, root: Path, ui_store: dict[str, str],
                                                  method: str) -> None:  # fmt: skip
    before = _fingerprint(root)
    rid = ui_store["lr0.1-s1"]
    for path in ("/api/runs", f"/api/runs/{rid}", f"/api/runs/{rid}/metrics", f"/api/runs/{rid}/artifacts/notes.txt",
                 f"/api/runs/{rid}/log", "/api/compare", f"/runs/{rid}"):  # fmt: skip
        resp = client.request(method, path, json={"status": "failed", "name": "x"}, content=None)
        assert resp.status_code == 405, (method, path, resp.status_code)
    for params in ({"where": "1; DROP TABLE runs"}, {"where": "name == 'x'); DELETE FROM runs; --"},
                   {"sort": "id; DROP TABLE runs"}):  # fmt: skip
        client.get("/api/runs", params=params)
    assert client.get("/api/runs").json()["total"] == 5
    assert _fingerprint(root) == before


@pytest.mark.parametrize(("how", "status"), [
    ("none", 401), ("wrong query", 401), ("wrong header", 401), ("wrong cookie", 401), ("empty", 401),
    ("query", 200), ("header", 200), ("cookie", 200),
])  # fmt: skip
def test_token_is_checked_on_every_request(root: Path, ui_store: dict[str, str], how: str, status: int) -> None:
    token = "s3cret-token"
    client = TestClient(create_app(root, token=token))
    rid = ui_store["lr0.1-s1"]
    for path in ("/", "/api/runs", f"/api/runs/{rid}", f"/api/runs/{rid}/artifacts/notes.txt", "/static/app.js",
                 "/static/plotly.min.js", "/api/openapi.json", f"/runs/{rid}"):  # fmt: skip
        client.cookies.clear()
        kwargs: dict[str, object] = {}
        if how == "query":
            kwargs["params"] = {"token": token}
        elif how == "wrong query":
            kwargs["params"] = {"token": "nope"}
        elif how == "empty":
            kwargs["params"] = {"token": ""}
        elif how == "header":
            kwargs["headers"] = {"Authorization": f"Bearer {token}"}
        elif how == "wrong header":
            kwargs["headers"] = {"Authorization": "Bearer nope"}
        elif how in ("cookie", "wrong cookie"):
            client.cookies.set("runlab_token", token if how == "cookie" else "nope")
        resp = client.get(path, **kwargs)  # type: ignore[arg-type]
        assert resp.status_code == status, (how, path, resp.status_code)
        if status == 401:
            assert "token" in resp.text and "notes of" not in resp.text
        assert client.head(path, **kwargs).status_code == status, (how, path)  # type: ignore[arg-type]  # HEAD too


def test_token_in_the_address_sets_a_cookie_for_the_page_requests(root: Path, ui_store: dict[str, str]) -> None:
    client = TestClient(create_app(root, token="abc"))
    assert client.get("/", params={"token": "abc"}).status_code == 200
    assert client.get("/api/runs").status_code == 200  # the cookie carries it from now on


def test_metric_columns_resolve_like_the_cli(client: TestClient, root: Path) -> None:
    with runlab.start_run(name="agg", root=root, capture=False) as run:
        run.log_metric("val", 3.0)
        run.log_metric("val", 1.0)
        run.log_metric("val.max", 42.0)  # a metric literally named like an aggregate wins, as in `runlab list`
    cols = "metrics.val,metrics.val.min,metrics.val.max,metrics.val.count,metrics.val.step,metrics.nope"
    page = client.get("/api/runs", params={"where": "name == 'agg'", "columns": cols}).json()
    assert page["runs"][0]["cells"] == [1.0, 1.0, 42.0, 2, 1, None]
    rec = runlab.load("agg", root=root)
    from runlab.cli._fields import field_value

    assert page["runs"][0]["cells"] == [field_value(rec, c) for c in cols.split(",")]


def test_many_metric_names_give_a_few_default_columns(client: TestClient, root: Path) -> None:
    with runlab.start_run(name="wide", root=root, capture=False) as run:
        run.log_metrics({f"m{i:03d}": float(i) for i in range(300)}, step=0)
    page = client.get("/api/runs", params={"where": "name == 'wide'"}).json()
    assert [c for c in page["columns"] if c.startswith("metrics.")] == [f"metrics.m00{i}" for i in range(4)]
    assert len(client.get("/api/fields", params={"q": "m2"}).json()["metrics"]) == 100


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.text(max_size=60), sort=st.one_of(st.none(), st.text(max_size=20)))
def test_any_filter_text_is_answered_200_or_400_never_500(client: TestClient, where: str, sort: str | None) -> None:
    resp = client.get("/api/runs", params={"where": where, **({"sort": sort} if sort is not None else {})})
    assert resp.status_code in (200, 400), (where, sort, resp.text)
    if resp.status_code == 400:
        assert resp.json()["detail"]


@pytest.mark.parametrize("ref", ["..%2F..%2Fetc", "%2e%2e", "..", "%00", "a'%20OR%20'1'='1"])
def test_odd_run_references_are_404(traversal_server: tuple[UIServer, str, Path], ref: str) -> None:
    server, _, _ = traversal_server
    host, port = server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", f"/api/runs/{ref}/artifacts/notes.txt")
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 404, (ref, resp.status, body[:200])
    assert b"notes of" not in body


@pytest.mark.parametrize(("file", "content"), [
    ("run.json", b""), ("run.json", b"{not json"), ("run.json", b"[1, 2]"),
    ("data.json", b"{torn"), ("data.json", b"3"),
])  # fmt: skip
def test_a_damaged_file_is_reported_and_the_rest_still_shows(client: TestClient, root: Path, ui_store: dict[str, str],
                                                              file: str, content: bytes) -> None:  # fmt: skip
    rid = ui_store["lr0.1-s2"]
    (runlab.load(rid, root=root).path / file).write_bytes(content)
    resp = client.get(f"/api/runs/{rid}")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert len(body["problems"]) == 1 and body["problems"][0].startswith(f"{file} ")
    assert body["run"]["id"] == rid and body["metrics"] == ["loss", "acc"]  # from the index
    loss = client.get(f"/api/runs/{rid}/metrics", params={"name": "loss"}).json()["metrics"]["loss"]
    assert len(loss["steps"]) == 200


DAMAGED_LINES = {  # valid JSON, but not what the writer writes: each such line is left out
    "values that are not numbers": b'{"name":"loss","step0":300,"value":[{"a":1},"str",true,[1]],"time":1}',
    "a value that is an object": b'{"name":"loss","step":300,"value":{"a":1},"time":1}',
    "steps that are text": b'{"name":"loss","step":["a","b"],"value":[1.0,2.0],"time":1}',
    "a step past 64 bits": b'{"name":"loss","step0":1e300,"value":[1.0],"time":1}',
}


@pytest.mark.parametrize("kind", list(DAMAGED_LINES))
def test_a_damaged_metrics_line_is_left_out_of_every_chart(client: TestClient, root: Path,
                                                           ui_store: dict[str, str], kind: str) -> None:  # fmt: skip
    rid, other = ui_store["lr0.1-s2"], ui_store["lr0.1-s1"]
    with (runlab.load(rid, root=root).path / "metrics.jsonl").open("ab") as handle:
        handle.write(DAMAGED_LINES[kind] + b"\n")
    for params in ({"name": "loss"}, {"name": "loss", "points": 50}, {"name": "loss", "start": 1, "end": 100}):
        resp = client.get(f"/api/runs/{rid}/metrics", params=params)
        assert resp.status_code == 200, (params, resp.text)
        loss = resp.json()["metrics"]["loss"]
        assert all(isinstance(v, (int, float)) for v in loss["values"] + loss["steps"]), params
    full = client.get(f"/api/runs/{rid}/metrics", params={"name": "loss"}).json()["metrics"]["loss"]
    assert len(full["steps"]) == 200
    resp = client.get("/api/compare", params={"ids": f"{rid},{other}", "metric": "loss", "points": 100,
                                              "group_by": "params.lr"})  # fmt: skip
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("file", ["metrics.jsonl", "out.log"])
def test_a_folder_in_place_of_a_run_file_is_no_server_error(client: TestClient, root: Path,
                                                            ui_store: dict[str, str], file: str) -> None:  # fmt: skip
    rid = ui_store["lr0.1-s2"]
    path = runlab.load(rid, root=root).path / file
    path.unlink(missing_ok=True)
    path.mkdir()
    assert client.get(f"/api/runs/{rid}").status_code == 200
    metrics = client.get(f"/api/runs/{rid}/metrics", params={"name": "loss"})
    assert metrics.status_code == 200
    assert (metrics.json()["metrics"]["loss"]["steps"] == []) == (file == "metrics.jsonl")
    log = client.get(f"/api/runs/{rid}/log")
    assert log.status_code == 200
    assert (log.json().get("error", "").startswith("out.log cannot be read")) == (file == "out.log")


def test_a_missing_store_is_shown_empty_and_not_created(tmp_path: Path) -> None:
    root = tmp_path / "nothing-here"
    client = TestClient(create_app(root))
    assert client.get("/api/runs").json()["total"] == 0
    assert client.get("/api/fields").json() == {"params": [], "metrics": []}
    assert client.get("/").status_code == 200
    assert client.get("/api/runs/abc").status_code == 404
    assert not root.exists()


def test_archived_runs_on_request_with_their_metrics(client: TestClient, root: Path, ui_store: dict[str, str]) -> None:
    from runlab.store._manage import archive

    rid = ui_store["lr0.01-s2"]
    archive(runlab.Store(root), rid)
    cols = {"columns": "name,metrics.loss.count"}
    assert rid not in [r["id"] for r in client.get("/api/runs", params=cols).json()["runs"]]
    only = client.get("/api/runs", params={**cols, "archived": "only"}).json()
    assert only["total"] == 1 and only["runs"][0]["archived"] and only["runs"][0]["cells"] == ["lr0.01-s2", 200]
    both = client.get("/api/runs", params={**cols, "archived": "all"}).json()
    assert both["total"] == 5 and sum(r["archived"] for r in both["runs"]) == 1
    default = client.get("/api/runs", params={"archived": "all", "where": "name == 'lr0.01-s2'"}).json()
    assert "metrics.loss" in default["columns"]  # metric names come from the archive's index too
    assert client.get(f"/api/runs/{rid}").json()["run"]["archived"] is True
    assert len(client.get(f"/api/runs/{rid}/metrics").json()["metrics"]["loss"]["steps"]) == 200
    assert client.get(f"/api/runs/{rid}/artifacts/notes.txt").status_code == 200
    assert client.get("/api/runs", params={"archived": "maybe"}).status_code == 400


@pytest.mark.parametrize("damage", ["torn", "missing"])
def test_a_damaged_run_is_listed_as_damaged_and_its_page_says_why(
    client: TestClient, root: Path, ui_store: dict[str, str], damage: str
) -> None:
    rid = ui_store["lr0.1-s2"]
    path = runlab.load(rid, root=root).path / "run.json"
    path.write_bytes(b"{torn") if damage == "torn" else path.unlink()
    runlab.Store(root).rebuild_index()
    rows = client.get("/api/runs", params={"columns": "status"}).json()["runs"]
    assert {r["id"]: r["status"] for r in rows}[rid] == "damaged"
    body = client.get(f"/api/runs/{rid}").json()
    assert body["run"]["status"] == "damaged" and body["problems"]
    assert any("run.json" in p for p in body["problems"])
