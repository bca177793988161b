"""The sweep and study API (``/api/sweeps``, ``/api/studies``) over a real sweep and a real Optuna study."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from runlab.cli import cli
from runlab.ui import create_app

from .conftest import make_sweep_and_study


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """One store with a sweep (3 x 2 configs) and a study (12 trials), shared by the read-only tests."""
    folder = tmp_path_factory.mktemp("sweeps")
    root = folder / "store"
    sweep_id, study = make_sweep_and_study(root, folder)
    return root, sweep_id, study


@pytest.fixture
def client(made: tuple[Path, str, str]) -> TestClient:
    return TestClient(create_app(made[0]))


def cli_json(root: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--root", str(root), *args, "-f", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sweeps_are_listed_with_their_state_and_counts(client: TestClient, made: tuple[Path, str, str]) -> None:
    (item,) = client.get("/api/sweeps").json()["sweeps"]
    assert item["id"] == made[1] and item["state"] == "completed"
    assert item["counts"] == {"completed": 6} and item["total"] == 6
    assert item["sweeps"] == ["LR=0.1,0.01,0.001", "LAYERS=1,2"] and item["experiment"].endswith("swept.py")


def test_sweep_rows_match_the_cli_and_the_runs(client: TestClient, made: tuple[Path, str, str]) -> None:
    root, sweep_id, _ = made
    body = client.get(f"/api/sweeps/{sweep_id[:4]}").json()  # an id prefix works, as on the command line
    assert body["id"] == sweep_id and body["params"] == ["LAYERS", "LR"] and body["metrics"] == ["acc", "loss"]
    rows = body["rows"]
    assert [r["index"] for r in rows] == list(range(6))
    assert {(r["params"]["LR"], r["params"]["LAYERS"]) for r in rows} == {(lr, n) for lr in (0.1, 0.01, 0.001)
                                                                           for n in (1, 2)}  # fmt: skip
    shown = cli_json(root, "sweep", "show", sweep_id)  # the same runs and values as `runlab sweep show`
    by_run = {r["id"]: r for r in shown}
    for row in rows:
        assert row["status"] == "completed" and not row["missing"]
        assert by_run[row["run"]]["metrics.acc"] == row["metrics"]["acc"]
        assert by_run[row["run"]]["params.LR"] == row["params"]["LR"]


@pytest.mark.parametrize(("sort", "key", "descending"), [
    ("-acc", ("metrics", "acc"), True), ("metrics.loss", ("metrics", "loss"), False),
    ("-params.LR", ("params", "LR"), True), ("params.LAYERS", ("params", "LAYERS"), False),
])  # fmt: skip
def test_sweep_rows_sort_by_a_metric_or_parameter(client: TestClient, made: tuple[Path, str, str], sort: str,
                                                  key: tuple[str, str], descending: bool) -> None:  # fmt: skip
    rows = client.get(f"/api/sweeps/{made[1]}", params={"sort": sort}).json()["rows"]
    values = [r[key[0]][key[1]] for r in rows]
    assert values == sorted(values, reverse=descending)


@pytest.mark.parametrize(("path", "status", "expected"), [
    ("/api/sweeps/nosuch", 404, "No sweep 'nosuch'"),
    ("/api/sweeps/..%2F..%2Fstore", 404, ""),  # an encoded slash: no route matches
    ("/api/sweeps/%2E%2E", 404, "No sweep"),
    ("/api/studies/nosuch", 404, "No study named 'nosuch'"),
    ("/api/studies/..%2Fquad", 404, ""),
    ("/api/studies/%2E%2E", 404, "No study named"),
    ("/api/studies/a%00b", 404, "No study named"),
])  # fmt: skip
def test_unknown_sweeps_and_studies_are_404(client: TestClient, path: str, status: int, expected: str) -> None:
    resp = client.get(path)
    assert resp.status_code == status and expected in resp.json()["detail"], resp.text
    page = client.get(path.removeprefix("/api"))
    assert page.status_code == 404 and "not found" in page.text.lower()


def test_a_bad_sort_is_400_with_the_message(client: TestClient, made: tuple[Path, str, str]) -> None:
    resp = client.get(f"/api/sweeps/{made[1]}", params={"sort": "bogus.field"})
    assert resp.status_code == 400 and "bogus.field" in resp.json()["detail"]


def test_studies_are_listed_with_their_best_value(client: TestClient, made: tuple[Path, str, str]) -> None:
    (item,) = client.get("/api/studies").json()["studies"]
    best = cli_json(made[0], "study", "best", made[2])
    assert item["name"] == "quad" and item["trials"] == 12 and item["counts"] == {"complete": 12}
    assert item["best"] == best["values"] and item["directions"] == ["minimize"]


def test_study_history_importances_trials_and_best(client: TestClient, made: tuple[Path, str, str]) -> None:
    root, _, name = made
    body = client.get(f"/api/studies/{name}").json()
    assert body["params"] == ["XV", "YV", "OPT"] and body["objectives"] == ["value"]
    assert body["distributions"]["OPT"] == {"kind": "categorical", "log": False, "choices": ["a", "b"]}
    assert body["distributions"]["XV"]["kind"] == "float" and body["distributions"]["YV"]["kind"] == "int"
    history = body["history"]
    assert history["trial"] == list(range(12))
    assert history["best"] == [min(history["value"][: i + 1]) for i in range(12)]
    imp = body["importances"]
    assert imp["message"] is None and set(imp["values"]) == {"XV", "YV", "OPT"}
    assert abs(sum(imp["values"].values()) - 1.0) < 1e-6
    best = cli_json(root, "study", "best", name)
    assert body["best"] == [{"number": best["trial"], "values": best["values"], "params": best["params"],
                             "runs": best["runs"]}]  # fmt: skip
    assert all(len(t["runs"]) == 1 and t["state"] == "complete" for t in body["trials"])
    run = client.get(f"/api/runs/{body['best'][0]['runs'][0]}").json()["run"]
    assert run["study"] == name  # the trial's run names its study: the run page links back


def _fingerprint(root: Path) -> dict[str, str]:
    """Every file of the store (sweep records, study files and journals included) but the index."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "index.sqlite" not in p.name}  # fmt: skip


def test_reading_sweeps_and_studies_writes_nothing(client: TestClient, made: tuple[Path, str, str]) -> None:
    root, sweep_id, name = made
    before = _fingerprint(root)
    for path in ("/api/sweeps", f"/api/sweeps/{sweep_id}", "/api/studies", f"/api/studies/{name}", "/sweeps",
                 f"/sweeps/{sweep_id}", "/studies", f"/studies/{name}", "/api/studies/other"):  # fmt: skip
        assert client.get(path).status_code in (200, 404)
        assert client.post(path).status_code == 405
    assert _fingerprint(root) == before


def test_too_few_trials_explain_the_missing_importances(root: Path, tmp_path: Path) -> None:
    make_sweep_and_study(root, tmp_path, trials=3)
    body = TestClient(create_app(root)).get("/api/studies/quad").json()
    assert body["importances"] == {"values": {}, "message": "Parameter importances need at least 5 complete "
                                                            "trials; this study has 3."}  # fmt: skip
    assert len(body["history"]["trial"]) == 3


def test_a_study_whose_journal_is_gone_is_404_and_not_recreated(root: Path, tmp_path: Path) -> None:
    make_sweep_and_study(root, tmp_path, trials=2)
    journal = root / ".runlab" / "studies" / "quad.log"
    journal.unlink()
    client = TestClient(create_app(root))
    resp = client.get("/api/studies/quad")
    assert resp.status_code == 404 and "no trials file" in resp.json()["detail"]
    (item,) = client.get("/api/studies").json()["studies"]
    assert item["trials"] is None and "no trials file" in item["problem"]  # still listed, with the reason
    assert not journal.exists()


def test_a_deleted_run_of_a_sweep_is_marked_missing(root: Path, tmp_path: Path) -> None:
    sweep_id, _ = make_sweep_and_study(root, tmp_path, trials=1)
    client = TestClient(create_app(root))
    victim = client.get(f"/api/sweeps/{sweep_id}").json()["rows"][0]["run"]
    result = CliRunner().invoke(cli, ["--root", str(root), "delete", victim, "--yes"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = client.get(f"/api/sweeps/{sweep_id}", params={"sort": "-acc"}).json()["rows"]
    gone = [r for r in rows if r["run"] == victim]
    assert len(rows) == 6 and gone[0]["missing"] and gone[0]["metrics"] == {"acc": None, "loss": None}
    assert rows[-1]["run"] == victim  # rows without the sort value come last


MULTI = """\
import runlab
LR = 0.1
LAYERS = 1
experiment = runlab.Experiment(namespace="multi", glob=globals())


@experiment
def main(e):
    runlab.log_results({"acc": 1 - abs(e.LR - 0.01) - 0.01 * e.LAYERS, "cost": e.LAYERS * 2.0})
    return e.LR


experiment.run_if_main()
"""


def test_a_multi_objective_study_shows_its_pareto_front(root: Path, tmp_path: Path) -> None:
    (tmp_path / "multi.py").write_text(MULTI)
    result = CliRunner().invoke(cli, [
        "--root", str(root), "optimize", str(tmp_path / "multi.py"), "-n", "6", "--search", "LR=float(0.0001,1,log)",
        "--search", "LAYERS=int(1,3)", "--objective", "metrics.acc", "--objective", "metrics.cost",
        "--direction", "maximize", "--direction", "minimize", "--study", "multi", "--seed", "0", "-x", "inline",
    ], catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    body = TestClient(create_app(root)).get("/api/studies/multi").json()
    front = cli_json(root, "study", "best", "multi")
    assert {b["number"] for b in body["best"]} == {b["trial"] for b in front}
    assert body["directions"] == ["maximize", "minimize"] and body["objectives"] == ["metrics.acc", "metrics.cost"]
    assert body["distributions"]["LR"]["log"] is True
    history = body["history"]  # the first objective, maximised
    assert history["best"] == [max(history["value"][: i + 1]) for i in range(len(history["value"]))]
    assert set(body["importances"]["values"]) == {"LR", "LAYERS"}


def test_an_empty_store_has_no_sweeps_or_studies_and_is_not_created(tmp_path: Path) -> None:
    root = tmp_path / "nothing"
    client = TestClient(create_app(root))
    assert client.get("/api/sweeps").json() == {"sweeps": []}
    assert client.get("/api/studies").json() == {"studies": []}
    assert client.get("/api/sweeps/abc").status_code == 404 and client.get("/api/studies/abc").status_code == 404
    assert client.get("/sweeps").status_code == 200 and client.get("/studies").status_code == 200
    assert not root.exists()


def test_openapi_lists_the_sweep_and_study_endpoints(client: TestClient) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {"/api/sweeps", "/api/sweeps/{ref}", "/api/studies", "/api/studies/{name}"} <= paths
