"""Metrics, figures, artifacts and user data."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runlab
from runlab.store import read_metrics


def test_steps_auto_increment_per_name(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        for v in (0.5, 0.4, 0.3):
            run.log_metric("loss", v)
        run.log_metric("acc", 0.1)
        run.log_metric("loss", 0.2, step=10)
        run.log_metric("loss", 0.1)  # continues after the explicit step
        run.log_metrics({"acc": 0.2, "lr": 1e-3}, step=5)
    rec = runlab.load(run.id, root=root)
    assert rec.metrics("loss").steps == [0, 1, 2, 10, 11]
    assert rec.metrics("loss").values == [0.5, 0.4, 0.3, 0.2, 0.1]
    assert rec.metrics("acc").steps == [0, 5]
    assert rec.metrics("lr").steps == [5]
    loss = rec.summaries["loss"]
    assert (loss.last, loss.min, loss.max, loss.count, loss.step) == (0.1, 0.1, 0.5, 5, 11)


def test_metric_times_are_recorded(root: Path) -> None:
    import time

    before = time.time()
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("a", 1)
        time.sleep(0.2)
        run.log_metric("a", 2)
    times = runlab.load(run.id, root=root).metrics("a").times
    assert before - 0.01 <= times[0] <= times[1]
    assert times[1] - times[0] == pytest.approx(0.2, abs=0.05)


def test_non_finite_and_numpy_values_round_trip(root: Path) -> None:
    np = pytest.importorskip("numpy")
    with runlab.start_run(root=root, capture=False) as run:
        for v in (1.0, math.nan, math.inf, -math.inf, np.float32(0.5), np.int64(3), True):
            run.log_metric("v", v)
    values = runlab.load(run.id, root=root).metrics("v").values
    assert values[0] == 1.0 and math.isnan(values[1])
    assert values[2:] == [math.inf, -math.inf, 0.5, 3, 1]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("a\x00b", "control characters"),
        ("a\nb", "control characters"),
        ("a\tb", "control characters"),
        ("loss\x1b[31m", "control characters"),
        ("a\x7fb", "control characters"),
        (" loss", "starts or ends with blanks; write 'loss'"),
        ("loss\n", "starts or ends with blanks; write 'loss'"),
        ("", "expected a non-empty string"),
        ("  ", "expected a non-empty string"),
        (3, "expected a non-empty string"),
        ("loss\udc80", "lone surrogates"),  # said "expected a non-empty string" of a non-empty one
    ],
)
def test_metric_names_with_control_characters_or_blanks_are_refused(root: Path, name: object, why: str) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        with pytest.raises(runlab.MetricError, match="Invalid metric name") as info:
            run.log_metric(name, 1.0)  # type: ignore[arg-type]
        assert why in str(info.value)
        run.log_metric("loss", 2.0)  # the run goes on; nothing of the bad name was kept
    record = runlab.load(run.id, root=root)
    assert list(record.summaries) == ["loss"] and record.metrics("loss").values == [2.0]


def test_bad_metric_input_is_refused_with_a_clear_message(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        with pytest.raises(runlab.MetricError, match="'abc' is not a number"):
            run.log_metric("loss", "abc")  # type: ignore[arg-type]
        with pytest.raises(runlab.MetricError, match="Invalid metric name"):
            run.log_metric("", 1.0)
        with pytest.raises(runlab.MetricError, match="Invalid step"):
            run.log_metric("loss", 1.0, step="3")  # type: ignore[arg-type]
        with pytest.raises(runlab.UsageError, match="expected a mapping"):
            run.log_metrics([1, 2])  # type: ignore[arg-type]
        run.log_metric("loss", 1.0)
    assert runlab.load(run.id, root=root).metrics("loss").values == [1.0]


def test_unknown_metric_name_lists_what_exists(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 1.0)
    with pytest.raises(runlab.MetricNotFoundError, match="has no metric 'acc'; it has: loss"):
        runlab.load(run.id, root=root).metrics("acc")


def test_metrics_from_several_threads(root: Path) -> None:
    import threading

    with runlab.start_run(root=root, capture=False) as run:

        def work(name: str) -> None:
            for i in range(20_000):
                run.log_metric(name, float(i))

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    rec = runlab.load(run.id, root=root)
    for i in range(4):
        series = rec.metrics(f"t{i}")
        assert series.steps == list(range(20_000)) and series.values == [float(v) for v in range(20_000)]


def test_metrics_file_is_compact(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        for i in range(100_000):
            run.log_metric("loss", 1.0 / (i + 1))
    size = (run.path / "metrics.jsonl").stat().st_size
    assert size / 100_000 <= 30


def test_figures_as_png_and_svg(root: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with runlab.start_run(root=root, capture=False) as run:
        png = run.log_figure(fig, "plots/curve.png", dpi=50)
        svg = run.log_figure(fig, "plots/curve.svg")
        bare = run.log_figure(fig, "noext")
        with pytest.raises(runlab.UsageError, match="expected a matplotlib Figure"):
            run.log_figure("not a figure", "x.png")
    plt.close(fig)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]
    assert bare.name == "noext.png"
    assert runlab.load(run.id, root=root).artifacts == ["noext.png", "plots/curve.png", "plots/curve.svg"]


def test_artifacts_copy_and_write(root: Path, tmp_path: Path) -> None:
    src_file = tmp_path / "model.bin"
    src_file.write_bytes(b"\x00\x01")
    src_dir = tmp_path / "ckpt"
    (src_dir / "sub").mkdir(parents=True)
    (src_dir / "sub" / "w.txt").write_text("w")
    with runlab.start_run(root=root, capture=False) as run:
        run.log_artifact(src_file)
        run.log_artifact(src_dir, "checkpoints/last")
        run.save_bytes("raw.bin", b"abc")
        run.save_text("notes/readme.md", "# notes")
        run.save_json("result.json", {"acc": 0.9, "ok": True})
        with pytest.raises(runlab.UsageError, match="no such file or folder"):
            run.log_artifact(tmp_path / "missing.txt")
    rec = runlab.load(run.id, root=root)
    assert rec.artifacts == ["checkpoints/last/sub/w.txt", "model.bin", "notes/readme.md", "raw.bin", "result.json"]
    assert rec.artifact("model.bin").read_bytes() == b"\x00\x01"
    assert json.loads(rec.artifact("result.json").read_text()) == {"acc": 0.9, "ok": True}


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "", "..", "./"])
def test_artifact_names_cannot_leave_the_run_folder(root: Path, name: str) -> None:
    with runlab.start_run(root=root, capture=False) as run, pytest.raises(runlab.ArtifactPathError):
        run.save_text(name, "x")
    assert not (root / "x").exists() and not (run.path / "x").exists()


def test_artifact_links_leading_outside_are_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    with runlab.start_run(root=root, capture=False) as run:
        (run.path / "artifacts").mkdir(exist_ok=True)
        os.symlink(outside, run.path / "artifacts" / "link")
        with pytest.raises(runlab.ArtifactPathError, match="through a link"):
            run.save_text("link/evil.txt", "x")
        inside = run.path / "artifacts" / "inner"
        inside.mkdir()
        os.symlink(inside, run.path / "artifacts" / "ok-link")
        run.save_text("ok-link/fine.txt", "fine")  # a link that stays inside is fine
    assert not (outside / "evil.txt").exists()
    assert (run.path / "artifacts" / "inner" / "fine.txt").read_text() == "fine"


def test_data_with_slash_paths(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.data["results/val/acc"] = 0.9
        run.data["results/val/loss"] = 0.2
        run.data["config"] = {"depth": 3}
        run.data["_cache/big"] = [1, 2, 3]  # private: in memory only
        assert run.data["results/val"] == {"acc": 0.9, "loss": 0.2}
        assert run.data["_cache/big"] == [1, 2, 3]
        with pytest.raises(runlab.UsageError, match="holds a value, not a group"):
            run.data["results/val/acc/x"] = 1
        with pytest.raises(runlab.UsageError, match="Invalid data key"):
            run.data["a//b"] = 1
    data = runlab.load(run.id, root=root).data
    assert data == {"results": {"val": {"acc": 0.9, "loss": 0.2}}, "config": {"depth": 3}}
    assert json.loads((run.path / "data.json").read_text()) == data


def test_data_is_written_while_running(root: Path) -> None:
    import time

    with runlab.start_run(root=root, capture=False) as run:
        run.data["progress"] = 0.5
        time.sleep(1.1)
        assert json.loads((run.path / "data.json").read_text()) == {"progress": 0.5}


def test_torn_last_line_is_skipped_and_reported(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.log_metric("loss", 1.0)
    path = run.path / "metrics.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"name":"loss","step0":1,"value":[0.5')  # a crash mid-line
    series, report = read_metrics(path)
    assert series["loss"].values == [1.0]
    assert [line for line, _ in report.skipped] == [2]
    assert runlab.load(run.id, root=root).metrics("loss").values == [1.0]


def test_reading_one_metric_skips_the_others_but_reports_torn_lines(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        for i in range(10):
            run.log_metrics({"a": i, "ab": -i, "b": 2 * i})
    with (run.path / "metrics.jsonl").open("ab") as handle:
        handle.write(b'{"name":"a","step0":10,"value":[1')
    rec = runlab.load(run.id, root=root)
    assert rec.metrics("a").values == list(range(10))
    assert rec.metrics("ab").values == [-i for i in range(10)]
    assert len(rec.metrics_report().skipped) == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c/d", "e"]), st.none() | st.integers(0, 50), st.floats(-5, 5)),
        min_size=1,
        max_size=80,
    ),
    st.booleans(),
)
def test_buffer_keeps_each_metrics_points_in_order(tmp_path: Path, points: list, periodic: bool) -> None:
    from runlab.lifecycle._tracking import MetricBuffer

    if periodic:  # the log_metrics-in-a-loop pattern: names repeat with a fixed period
        points = [(name, None, float(i)) for i in range(len(points) % 7 + 1) for name in ("a", "b", "e")]
    path = tmp_path / f"m{len(list(tmp_path.iterdir()))}.jsonl"
    buffer = MetricBuffer(path)
    expected: dict[str, tuple[list[int], list[float]]] = {}
    next_step: dict[str, int] = {}
    for i, (name, step, value) in enumerate(points):
        buffer.push((name, step, value, 1_700_000_000.0 + i * 0.001))
        actual = next_step.get(name, 0) if step is None else step
        next_step[name] = actual + 1
        expected.setdefault(name, ([], []))[0].append(actual)
        expected[name][1].append(value)
        if i % 13 == 12:
            buffer.flush()  # flushes at arbitrary points must not change the result
    buffer.close()
    series, report = read_metrics(path)
    assert not report.skipped
    assert {name: (s.steps, s.values) for name, s in series.items()} == expected


@pytest.mark.parametrize("points", [3, 500])  # small batches use the stdlib encoder, large ones orjson
def test_non_ascii_metric_names_round_trip(root: Path, points: int) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        for i in range(points):
            run.log_metrics({"über/loss": i, "精度": -i, "plain": 0.5})
        with pytest.raises(runlab.MetricError):
            run.log_metric("bad\ud800", 1.0)
    rec = runlab.load(run.id, root=root)
    assert rec.metrics("über/loss").values == list(range(points))
    assert rec.metrics("精度").steps == list(range(points))
    assert sorted(rec.summaries) == ["plain", "über/loss", "精度"]
