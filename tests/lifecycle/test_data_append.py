"""RunData.append: the list behind tracked values (PyComex's e.data["loss"])."""

from __future__ import annotations

from typing import Any

import pytest

import runlab
from runlab.lifecycle import RunData


def test_append_builds_the_list_and_persists_it(root: Any) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        for value in (0.5, 0.4, 0.3):
            run.data.append("train/loss", value)
        run.data.append("_scratch/x", object())  # private: kept as given, never written
    assert runlab.load(run.id, root=root).data == {"train": {"loss": [0.5, 0.4, 0.3]}}


@pytest.mark.parametrize(
    ("existing", "path", "value", "error", "match"),
    [
        ({"loss": 1.0}, "loss", 0.5, runlab.UsageError, "holds float 1.0, not a list"),
        ({"train": 3}, "train/loss", 0.5, runlab.UsageError, "'train' holds a value, not a group"),
        ({}, "loss", object(), runlab.DataError, "Cannot store 'loss'"),
        ({}, "", 0.5, runlab.UsageError, "Invalid data key"),
    ],
)
def test_append_refuses_without_changing_anything(
    existing: dict[str, Any], path: str, value: Any, error: type[Exception], match: str
) -> None:
    data = RunData(dict(existing))
    with pytest.raises(error, match=match):
        data.append(path, value)
    assert data.to_dict() == existing and not data.dirty


@pytest.mark.parametrize(
    ("steps", "stored"),
    [
        ([("set", "doc", {"_id": 3, "name": "x"})], {"doc": {"_id": 3, "name": "x"}}),  # a value's keys stay
        ([("set", "a", {"_": None})], {"a": {"_": None}}),
        ([("set", "p/_tmp", 5), ("set", "p/q", 1)], {"p": {"q": 1}}),  # a private path stays in memory
        ([("set", "_cache", [object()])], {}),
        ([("append", "_log/x", object()), ("set", "y", 1)], {"y": 1}),
        ([("set", "q/_x", 1), ("set", "q", {"_x": 2})], {"q": {"_x": 2}}),  # a public value replaces it
        ([("set", "r/_y", 1), ("del", "r", None), ("set", "r", {"_y": 3})], {"r": {"_y": 3}}),
    ],
)
def test_only_private_paths_stay_in_memory(root: Any, steps: list[tuple[str, str, Any]], stored: Any) -> None:
    """Keys starting with ``_`` are private when they are part of the path given; the keys inside a
    stored value are the user's data (they were silently dropped from ``data.json`` before)."""
    with runlab.start_run(root=root, capture=False) as run:
        for action, path, value in steps:
            if action == "set":
                run.data[path] = value
            elif action == "append":
                run.data.append(path, value)
            else:
                del run.data[path]
    assert runlab.load(run.id, root=root).data == stored
