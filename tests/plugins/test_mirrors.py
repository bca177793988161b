"""The ``mlflow`` and ``wandb`` mirror plugins against the real libraries.

MLflow writes to real SQLite stores under the test's folders and is read back with
``MlflowClient`` and ``mlflow.search_runs``; wandb runs in offline mode and its
transaction log (``run-ID.wandb``) is read back record by record with wandb's protobuf
definitions, since offline runs write no config or summary files.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runlab
from runlab.plugins import PluginManager, PluginState

# MLflow's SQLAlchemy store uses a loader strategy SQLAlchemy 2.1 deprecates (MLflow's business)
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


def enable(project: Path, *names: str, **settings: dict[str, Any]) -> None:
    """Enable plugins (and give them settings) in the project's pyproject.toml."""
    lines = ["[tool.runlab.plugins]", "enabled = [" + ", ".join(json.dumps(n) for n in names) + "]"]
    for plugin, table in settings.items():
        lines.append(f"[tool.runlab.plugins.{plugin}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in table.items())
    (project / "pyproject.toml").write_text("\n".join(lines) + "\n")


def mirror_manager(project: Path, *names: str, **settings: dict[str, Any]) -> PluginManager:
    """A manager serving only the plugins ``names``, subscribed to run events."""
    enable(project, *names, **settings)
    pm = PluginManager(project)
    for record in pm.plugins():
        if record.name not in names:
            pm._unload(record, "not under test")
    pm.activate()
    for name in names:
        assert pm.get(name).state is PluginState.RUNNING, pm.get(name).notice
    return pm


def plugin_record(run: Any, name: str) -> dict[str, Any]:
    record: dict[str, Any] = runlab.load(run.id, root=run.store).metadata["plugins"][name]
    return record


# -- MLflow ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the module (creating its tables takes ~2 s)."""
    pytest.importorskip("mlflow")
    return "sqlite:///" + (tmp_path_factory.mktemp("mlflow") / "mlflow.db").as_posix()


@pytest.fixture
def client(mlflow_uri: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_uri)


def only_run(client: Any, experiment: str, runlab_id: str) -> Any:
    found = client.search_runs(
        [client.get_experiment_by_name(experiment).experiment_id], filter_string=f"tags.`runlab.id` = '{runlab_id}'"
    )
    assert len(found) == 1
    return found[0]


def test_mlflow_mirrors_params_metrics_artifacts_tags_and_state(
    tmp_path: Path, root: Path, mlflow_uri: str, client: Any
) -> None:
    pm = mirror_manager(tmp_path, "mlflow", mlflow={"tracking_uri": mlflow_uri})
    params = {"lr": 0.1, "model": {"depth": 3, "act": "relu"}, "notes": "x" * 7000}
    try:
        with runlab.start_run(
            namespace="mirror",
            name="first",
            params=params,
            tags=["baseline", "try"],
            description="a first try",
            root=root,
            capture=False,
        ) as run:
            assert pm.get("mlflow").plugin.flush(timeout=60)  # sent in the background
            live = run.metadata["plugins"]["mlflow"]  # recorded when the run started
            assert client.get_run(live["run_id"]).info.status == "RUNNING"
            assert client.get_run(live["run_id"]).data.params["lr"] == "0.1"
            for step in range(10):
                run.log_metric("loss", 1 / (step + 1), step=step)
            run.log_metric("val/acc", 0.5, step=0)
            run.log_metric("val/acc", 0.75, step=5)
            run.save_text("notes.txt", "converged")
            run.save_json("sub/result.json", {"best": 0.1})
    finally:
        pm.close()

    record = plugin_record(run, "mlflow")
    mirrored = only_run(client, "mirror", run.id)
    run_id = mirrored.info.run_id
    assert record["run_id"] == run_id == live["run_id"]
    assert record["tracking_uri"] == mlflow_uri and record["experiment"] == "mirror"
    assert record["status"] == "FINISHED" and record["metrics"] == 12 and record["artifacts"] == 2
    assert record["params_truncated"] == ["notes"]
    assert mirrored.info.status == "FINISHED" and mirrored.info.end_time is not None
    assert mirrored.info.run_name == "first"

    got = mirrored.data.params
    assert (got["lr"], got["model.depth"], got["model.act"]) == ("0.1", "3", "relu")
    assert len(got["notes"]) == 6000 and got["notes"].endswith("...")

    series = runlab.load(run.id, root=root).metrics("loss")
    history = sorted(client.get_metric_history(run_id, "loss"), key=lambda m: m.step)
    assert [(m.step, m.value) for m in history] == [(s, 1 / (s + 1)) for s in range(10)]
    assert [m.timestamp for m in history] == [int(t * 1000) for t in series.times]
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "val/acc")] == [(0, 0.5), (5, 0.75)]

    tags = mirrored.data.tags
    assert tags["baseline"] == tags["try"] == "true" and tags["runlab.tags"] == "baseline,try"
    assert tags["runlab.id"] == run.id and tags["runlab.namespace"] == "mirror"
    assert tags["runlab.folder"] == str(run.path)
    assert tags["mlflow.note.content"] == "a first try"

    assert sorted(a.path for a in client.list_artifacts(run_id)) == ["notes.txt", "sub"]
    assert [a.path for a in client.list_artifacts(run_id, "sub")] == ["sub/result.json"]
    local = client.download_artifacts(run_id, "notes.txt", str(tmp_path / "download"))
    assert Path(local).read_text() == "converged"


def test_mlflow_final_states_follow_the_run(tmp_path: Path, root: Path, mlflow_uri: str, client: Any) -> None:
    pm = mirror_manager(tmp_path, "mlflow", mlflow={"tracking_uri": mlflow_uri, "experiment": "states"})
    try:
        with pytest.raises(RuntimeError, match="diverged"), runlab.start_run(root=root, capture=False) as failed:
            failed.log_metric("loss", float("nan"))
            raise RuntimeError("diverged")
        with runlab.start_run(root=root, capture=False) as cancelled:
            cancelled.cancel("enough")
        with runlab.start_run(root=root, capture=False) as completed:
            pass
    finally:
        pm.close()
    # the setting `experiment` overrides the namespace ("default")
    assert only_run(client, "states", failed.id).info.status == "FAILED"
    assert only_run(client, "states", cancelled.id).info.status == "KILLED"
    assert only_run(client, "states", completed.id).info.status == "FINISHED"
    assert plugin_record(failed, "mlflow")["status"] == "FAILED"
    [point] = client.get_metric_history(plugin_record(failed, "mlflow")["run_id"], "loss")
    assert point.value != point.value  # NaN survives the trip
    assert runlab.load(failed.id, root=root).status == "failed"


def test_mlflow_default_store_lives_beside_the_index(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pm = mirror_manager(tmp_path, "mlflow")
    try:
        with runlab.start_run(params={"lr": 0.5}, root=root, capture=False) as run:
            run.log_metric("loss", 0.25)
            run.save_text("model.txt", "weights")
    finally:
        pm.close()
    record = plugin_record(run, "mlflow")
    db = root / ".runlab" / "mlflow.db"
    assert record["tracking_uri"].startswith("sqlite:///")
    assert Path(record["tracking_uri"].removeprefix("sqlite:///")).samefile(db)
    stored = root / ".runlab" / "mlflow-artifacts" / record["run_id"] / "artifacts" / "model.txt"
    assert stored.read_text() == "weights"

    # what a user does: point MLflow at the store and search
    monkeypatch.setenv("MLFLOW_TRACKING_URI", record["tracking_uri"])
    frame = mlflow.search_runs(experiment_names=["default"])
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["run_id"] == record["run_id"] and row["status"] == "FINISHED"
    assert row["params.lr"] == "0.5" and row["metrics.loss"] == 0.25 and row["tags.runlab.id"] == run.id


# -- wandb ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wandb_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """wandb offline and silent, its config and caches in a temporary folder; service stopped after."""
    pytest.importorskip("wandb")
    home = tmp_path_factory.mktemp("wandb-home")
    before = {k for k in os.environ if k.startswith("WANDB_")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "offline")
        mp.setenv("WANDB_SILENT", "true")
        for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
            mp.setenv(name, str(home / name.lower()))
        yield
        import wandb

        wandb.teardown()
    for key in {k for k in os.environ if k.startswith("WANDB_")} - before:  # WANDB_SERVICE and the like
        del os.environ[key]


def wandb_records(path: Path) -> list[Any]:
    """The records of a ``.wandb`` transaction log, parsed with wandb's protobuf ``Record``.

    The file is a LevelDB-style log: a 7-byte header (``:W&B``, magic, version), then 32 KiB
    blocks of chunks (crc32 4 bytes, length 2, type 1: full, first, middle, last).
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records: list[Any] = []
    pos, block, pending = 7, 32 * 1024, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a chunk header is padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0:
            break
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]
            record.ParseFromString(pending)
            records.append(record)
    return records


def _items(updates: Any) -> dict[str, Any]:
    return {(u.key or ".".join(u.nested_key)): json.loads(u.value_json) for u in updates}


def read_wandb_run(folder: Path) -> dict[str, Any]:
    """What an offline wandb run folder holds: run record, history rows, final summary, exit code."""
    [log] = folder.glob("run-*.wandb")
    out: dict[str, Any] = {"history": [], "summary": {}, "config": {}}
    for record in wandb_records(log):
        kind = record.WhichOneof("record_type")
        if kind == "run" and "run" not in out:
            out["run"] = record.run
            out["config"].update(_items(record.run.config.update))
        elif kind == "config":
            out["config"].update(_items(record.config.update))
        elif kind == "history":
            out["history"].append(_items(record.history.item))
        elif kind == "summary":
            out["summary"].update(_items(record.summary.update))
        elif kind == "exit":
            out["exit_code"] = record.exit.exit_code
    return out


def test_wandb_mirrors_a_run_offline(tmp_path: Path, root: Path, wandb_env: None) -> None:
    pm = mirror_manager(tmp_path, "wandb")
    try:
        with runlab.start_run(
            namespace="wb",
            name="first",
            params={"lr": 0.1, "model": {"depth": 3}},
            tags=["baseline"],
            description="offline try",
            root=root,
            capture=False,
        ) as run:
            assert pm.get("wandb").plugin.flush(timeout=120)  # created in the background
            live = run.metadata["plugins"]["wandb"]
            assert live["mode"] == "offline" and Path(live["folder"]).is_dir()
            for step in range(5):
                run.log_metric("loss", 1 / (step + 1), step=step)
            run.log_metric("val/acc", 0.5, step=2)
            run.log_metric("val/acc", 0.75, step=4)
        with pytest.raises(ValueError), runlab.start_run(namespace="wb", root=root, capture=False) as failed:
            failed.log_metric("loss", 3.0)
            raise ValueError("boom")
        with pytest.raises(runlab.RunPruned), runlab.start_run(namespace="wb", root=root, capture=False) as pruned:
            pruned.log_metric("loss", 4.0)
            raise runlab.RunPruned("stopped by the study's pruner")
    finally:
        pm.close()

    record = plugin_record(run, "wandb")
    folder = Path(record["folder"])
    assert folder.parent == root / ".runlab" / "wandb"
    assert folder.name.startswith("offline-run-") and folder.name.endswith(record["run_id"])
    assert (folder / f"run-{record['run_id']}.wandb").is_file()
    assert record["sync"] == f"wandb sync {folder}" and record["project"] == "wb"
    assert record["exit_code"] == 0 and record["steps"] == 5 and record["metrics"] == 7

    mirrored = read_wandb_run(folder)
    meta = mirrored["run"]
    assert meta.run_id == record["run_id"] and meta.project == "wb"
    assert meta.display_name == "first" and meta.notes == "offline try" and list(meta.tags) == ["baseline"]
    config = mirrored["config"]
    assert config["lr"] == 0.1 and config["model"] == {"depth": 3}
    assert config["runlab"]["id"] == run.id and config["runlab"]["folder"] == str(run.path)

    rows = mirrored["history"]
    assert [(r["_step"], r["loss"]) for r in rows] == [(s, 1 / (s + 1)) for s in range(5)]
    assert [(r["_step"], r["val/acc"]) for r in rows if "val/acc" in r] == [(2, 0.5), (4, 0.75)]
    times = runlab.load(run.id, root=root).metrics("loss").times
    assert [r["_timestamp"] for r in rows] == pytest.approx(times)
    assert mirrored["summary"]["loss"] == 0.2 and mirrored["summary"]["val/acc"] == 0.75
    assert mirrored.get("exit_code", 0) == 0

    failed_record = plugin_record(failed, "wandb")
    assert failed_record["exit_code"] == 1
    assert read_wandb_run(Path(failed_record["folder"]))["exit_code"] == 1
    pruned_record = plugin_record(pruned, "wandb")  # a pruned trial ended normally: W&B shows it finished
    assert pruned_record["exit_code"] == 0 and pruned_record["state"] == "pruned"
    mirrored_pruned = read_wandb_run(Path(pruned_record["folder"]))
    assert mirrored_pruned.get("exit_code", 0) == 0 and mirrored_pruned["summary"]["runlab/state"] == "pruned"


# -- both -----------------------------------------------------------------------------
def test_mirrors_of_runs_in_parallel_threads_stay_apart(
    tmp_path: Path, root: Path, mlflow_uri: str, client: Any, wandb_env: None
) -> None:
    pm = mirror_manager(tmp_path, "mlflow", "wandb", mlflow={"tracking_uri": mlflow_uri})
    runs: dict[int, Any] = {}

    def work(i: int) -> None:
        with runlab.start_run(namespace="threads", params={"i": i}, root=root, capture=False) as run:
            runs[i] = run
            for step in range(20):
                run.log_metric("loss", i + step / 100, step=step)

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        pm.close()
    for i, run in runs.items():
        assert runlab.load(run.id, root=root).status == "completed"
        mirrored = only_run(client, "threads", run.id)
        assert mirrored.data.params["i"] == str(i)
        losses = sorted(client.get_metric_history(mirrored.info.run_id, "loss"), key=lambda m: m.step)
        assert [m.value for m in losses] == [i + s / 100 for s in range(20)]
        offline = read_wandb_run(Path(plugin_record(run, "wandb")["folder"]))
        assert offline["config"]["i"] == i and offline["summary"]["loss"] == i + 0.19


def test_a_failing_mirror_leaves_the_run_completed_and_records_why(tmp_path: Path, root: Path) -> None:
    pytest.importorskip("mlflow")
    pytest.importorskip("wandb")
    pm = mirror_manager(tmp_path, "mlflow", "wandb", mlflow={"tracking_uri": "nosuchscheme://x"}, wandb={"mode": "x"})
    try:
        with runlab.start_run(root=root, capture=False) as run:
            run.log_metric("loss", 0.5)
    finally:
        assert pm.get("mlflow").plugin.flush(timeout=60)  # the mlflow mirror fails in the background
        states = {name: pm.get(name).state for name in ("mlflow", "wandb")}
        pm.close()
    finished = runlab.load(run.id, root=root)
    assert finished.status == "completed" and finished.metrics("loss").values == [0.5]
    assert states == {"mlflow": PluginState.ERROR, "wandb": PluginState.ERROR}
    plugins = finished.metadata["plugins"]
    assert [e["hook"] for e in plugins["mlflow"]["errors"]] == ["run_state_changed", "run_finishing"]
    assert "nosuchscheme" in plugins["mlflow"]["errors"][0]["error"]
    assert "Invalid value for 'mode' of the wandb plugin: 'x'" in plugins["wandb"]["errors"][0]["error"]


@pytest.mark.parametrize(("name", "extra"), [("mlflow", "mlflow"), ("wandb", "wandb")])
def test_mirror_is_listed_inactive_with_a_notice_when_its_package_is_missing(
    tmp_path: Path, name: str, extra: str
) -> None:
    # a folder plugin of the same name and class, requiring a package that is not installed
    folder = tmp_path / ".runlab" / "plugins"
    folder.mkdir(parents=True)
    cls = {"mlflow": "MlflowPlugin", "wandb": "WandbPlugin"}[name]
    (folder / f"{name}.py").write_text(
        f"from runlab.plugins.builtin.{name} import {cls}\n"
        f"class Missing({cls}):\n    requires = ('{name}_not_installed_xyz',)\n"
    )
    record = next(r for r in PluginManager(tmp_path).plugins() if r.name == name)
    assert record.state is PluginState.STOPPED and record.notice.startswith("off by default")

    enable(tmp_path, name)
    notice = f"inactive: needs {name}_not_installed_xyz (pip install 'runlab[{extra}]')"
    record = next(r for r in PluginManager(tmp_path).plugins() if r.name == name)
    assert record.state is PluginState.STOPPED and record.notice == notice

    from runlab.cli import _plugins_cmd  # noqa: F401  (registers `runlab plugins`)
    from runlab.cli._main import cli

    result = CliRunner().invoke(cli, ["plugins", "list"])  # the cwd is tmp_path
    assert result.exit_code == 0, result.output
    assert f"note: {name}: {notice}" in result.output


def test_builtin_mirrors_are_listed_and_import_runlab_stays_light(tmp_path: Path) -> None:
    names = {r.name: r for r in PluginManager(tmp_path).plugins()}
    assert names["mlflow"].source.kind == names["wandb"].source.kind == "builtin"
    assert names["mlflow"].notice.startswith("off by default") and names["wandb"].notice.startswith("off by default")
    from tests.conftest import run_python

    enable(tmp_path, "mlflow", "wandb")  # loaded and initialised, yet nothing imported before a run
    code = (
        "import sys, runlab\n"
        "from runlab.plugins.builtin import mlflow, wandb\n"
        "from runlab.plugins import get_manager\n"
        "print(get_manager().active())\n"
        "print(sorted(m for m in ('mlflow', 'wandb') if m in sys.modules))\n"
    )
    active, imported = run_python(code).stdout.strip().splitlines()
    assert "mlflow" in active and "wandb" in active and imported == "[]"


def test_wandb_mirrors_figures_after_the_last_step(tmp_path: Path, root: Path, wandb_env: None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pm = mirror_manager(tmp_path, "wandb")
    try:
        with runlab.start_run(namespace="wbfig", root=root, capture=False) as run:
            for step in range(3):
                run.log_metric("loss", 1 / (step + 1), step=step)
            fig, ax = plt.subplots()
            ax.plot([1, 2, 3])
            run.log_figure(fig, "plots/curve.png")
            plt.close(fig)
            run.save_text("notes.txt", "not a figure")
    finally:
        pm.close()
    record = plugin_record(run, "wandb")
    assert record["figures"] == 1 and record["steps"] == 3
    mirrored = read_wandb_run(Path(record["folder"]))
    [row] = [r for r in mirrored["history"] if "figures/plots/curve._type" in r]  # the image's fields, flattened
    assert row["_step"] == 3 and row["figures/plots/curve._type"] == "image-file"
    assert row["figures/plots/curve.caption"] == "plots/curve" and row["figures/plots/curve.format"] == "png"
    assert (Path(record["folder"]) / "files" / row["figures/plots/curve.path"]).is_file()
    assert not any("notes" in key for r in mirrored["history"] for key in r)
