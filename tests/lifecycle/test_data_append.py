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
