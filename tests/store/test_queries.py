"""runlab.runs() and runlab.load(): filters, ordering, records and DataFrames."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli import cli


@pytest.fixture
def sweep(root: Path) -> list[str]:
    ids = []
    for i in range(6):
        with runlab.start_run(
            namespace="a" if i < 4 else "b",
            name=f"r{i}",
            params={"i": i, "lr": 10.0**-i, "opt": {"name": "sgd" if i % 2 else "adam", "momentum": 0.9}},
            tags=["even"] if i % 2 == 0 else ["odd"],
            root=root,
            capture=False,
        ) as run:
            for step in range(i + 1):
                run.log_metric("loss", 1.0 / (step + 1 + i))
        ids.append(run.id)
    return ids


def test_where_namespace_status_tags_limit(root: Path, sweep: list[str]) -> None:
    assert runlab.runs(where="params.i >= 3", root=root).ids == sweep[3:]
    assert runlab.runs(namespace="b", root=root).ids == sweep[4:]
    assert runlab.runs(tags="even", root=root).ids == sweep[0::2]
    assert runlab.runs(tags=["even", "odd"], root=root).ids == []
    assert runlab.runs(status=["completed", "failed"], limit=2, root=root).ids == sweep[:2]
    assert runlab.runs(where="params.opt.name == 'sgd' and metrics.loss.count > 2", root=root).ids == sweep[3::2]
    assert len(runlab.runs(where="'odd' in tags or namespace == 'b'", root=root)) == 4


def test_order_by(root: Path, sweep: list[str]) -> None:
    assert runlab.runs(order_by="-params.i", root=root).ids == sweep[::-1]
    assert runlab.runs(order_by="metrics.loss", root=root).ids == sweep[::-1]  # last loss 1/(2i+1)
    assert runlab.runs(order_by=["namespace", "-created"], root=root).ids == sweep[3::-1] + sweep[:3:-1]


@pytest.mark.parametrize("order", ["-params.lr", "params.lr", "-metrics.loss", "metrics.loss"])
def test_nan_and_missing_values_sort_last_either_way(tmp_path: Path, order: str) -> None:
    # a NaN parameter is stored as the text 'NaN': it sorted above every number in a descending sort
    ids = {}
    for name, lr in (("small", 0.1), ("nan", math.nan), ("big", 0.3), ("none", None)):
        params = {} if lr is None else {"lr": lr}
        with runlab.start_run(name=name, params=params, root=tmp_path, capture=False) as run:
            if lr is not None:
                run.log_metric("loss", lr)
        ids[run.id] = name
    names = [ids[i] for i in runlab.runs(order_by=order, root=tmp_path).ids]
    numbers = ["big", "small"] if order.startswith("-") else ["small", "big"]
    assert names[:2] == numbers and sorted(names[2:]) == ["nan", "none"]


def test_created_filter_with_dates(root: Path, sweep: list[str]) -> None:
    tomorrow = (datetime.now() + timedelta(days=1)).date().isoformat()
    assert runlab.runs(where=f"created < '{tomorrow}'", root=root).ids == sweep
    assert runlab.runs(where=f"created >= '{tomorrow}'", root=root).ids == []


def test_records_are_frozen_and_complete(root: Path, sweep: list[str]) -> None:
    rec = runlab.runs(where="name == 'r2'", root=root)[0]
    assert rec.id == sweep[2] and rec.namespace == "a" and rec.status == "completed"
    assert rec.params == {"i": 2, "lr": 0.01, "opt": {"name": "adam", "momentum": 0.9}}
    assert rec.tags == ("even",)
    assert rec.summaries["loss"] == runlab.MetricSummary(last=1 / 5, min=1 / 5, max=1 / 3, count=3, step=2)
    assert rec.created <= rec.started <= rec.ended and rec.duration >= 0
    assert rec.path.name.endswith(rec.id)
    with pytest.raises(AttributeError):
        rec.status = "failed"  # type: ignore[misc]
    assert rec == runlab.load(rec.id, root=root)


def test_to_pandas_has_params_and_metric_columns(root: Path, sweep: list[str]) -> None:
    df = runlab.runs(root=root).to_pandas()
    assert list(df["id"]) == sweep
    for column in ("params.i", "params.lr", "params.opt.name", "params.opt.momentum", "metrics.loss",
                   "metrics.loss.min", "metrics.loss.max", "metrics.loss.count", "metrics.loss.step"):  # fmt: skip
        assert column in df.columns
    assert list(df["metrics.loss.count"]) == [1, 2, 3, 4, 5, 6]
    assert df.loc[df["id"] == sweep[3], "params.opt.name"].item() == "sgd"
    assert runlab.runs(where="params.i > 100", root=root).to_pandas().empty


def test_metric_history_to_pandas(root: Path, sweep: list[str]) -> None:
    frame = runlab.load(sweep[3], root=root).metrics("loss").to_pandas()
    assert list(frame.columns) == ["step", "value", "time"]
    assert list(frame["step"]) == [0, 1, 2, 3]


def test_bad_query_arguments(root: Path, sweep: list[str]) -> None:
    with pytest.raises(runlab.UsageError, match="Invalid status 'done'"):
        runlab.runs(status="done", root=root)
    with pytest.raises(runlab.UsageError, match="Invalid limit"):
        runlab.runs(limit=-1, root=root)
    with pytest.raises(runlab.FilterError) as info:
        runlab.runs(where="params.i >> 3", root=root)
    assert info.value.position == 10


def test_runset_sequence_behaviour(root: Path, sweep: list[str]) -> None:
    found = runlab.runs(root=root)
    assert len(found) == 6 and found[-1].id == sweep[-1] and found[1:3].ids == sweep[1:3]
    assert [r.id for r in found] == sweep
    with pytest.raises(IndexError):
        found[6]
    assert "RunSet([" in repr(found)


@pytest.mark.parametrize(("offset", "limit"), [(0, None), (0, 2), (2, 2), (4, 10), (5, 1), (6, 3), (9, None), (3, 0),
                                               (1, None)])  # fmt: skip
@pytest.mark.parametrize("archived", [False, None])
def test_offset_pages_the_ordered_result_in_sql(root: Path, sweep: list[str], offset: int, limit: int | None,
                                                archived: bool | None) -> None:  # fmt: skip
    store = runlab.Store(root)
    if archived is None:  # one archived run: the union of both indexes pages the same way
        result = CliRunner().invoke(cli, ["--root", str(root), "archive", sweep[2], "--yes"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    everything = store.runs(order_by="-params.i", archived=archived).ids
    page = store.runs(order_by="-params.i", limit=limit, offset=offset, archived=archived).ids
    assert page == everything[offset : None if limit is None else offset + limit]


@pytest.mark.parametrize("offset", [-1, 1.5, True, "2"])
def test_a_bad_offset_is_refused(root: Path, sweep: list[str], offset: object) -> None:
    with pytest.raises(runlab.UsageError, match="Invalid offset"):
        runlab.Store(root).runs(offset=offset)  # type: ignore[arg-type]
