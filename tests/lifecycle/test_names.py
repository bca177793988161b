"""Odd names x API calls: namespaces and artifact names are refused up front with a typed error.

Before these checks a namespace ``"a\\n"`` was accepted, a 300-character namespace or
artifact name raised a raw ``OSError`` and an artifact name with NUL a raw ``ValueError``.
Each case also checks that nothing was left behind: no folder outside the index for a
refused namespace, no file for a refused artifact, and the run itself intact.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.store import validate_namespace

from ..conftest import forget_stores

NAMESPACES: list[tuple[str, str, str]] = [
    ("trailing-newline", "a\n", "control character '\\n'"),
    ("newline-inside", "a\nb", "control character"),
    ("tab", "exp\tx", "control character '\\t'"),
    ("escape", "a\x1b[31m", "control character"),
    ("nul", "a\x00b", "control character"),
    ("300-chars", "n" * 300, "at most 200 characters"),
    ("long-segment", "a/" + "s" * 150, "at most 100 are allowed per segment"),
]


def _start_run(root: Path, namespace: str) -> Any:
    return runlab.start_run(root=root, namespace=namespace, capture=False)


def _experiment(root: Path, namespace: str) -> Any:
    experiment = runlab.Experiment(glob={"N": 1}, root=root, namespace=namespace)

    @experiment
    def main(e: Any) -> None:
        pass

    return experiment.run()


def _store_create(root: Path, namespace: str) -> Any:
    return runlab.Store(root).create({"namespace": namespace, "status": "created", "created": "2026-01-01T00:00:00"})


NAMESPACE_CALLS: dict[str, Callable[[Path, str], Any]] = {
    "start_run": _start_run,
    "Experiment": _experiment,
    "Store.create": _store_create,
}


@pytest.mark.parametrize("call", NAMESPACE_CALLS)
@pytest.mark.parametrize(("case", "namespace", "words"), NAMESPACES, ids=[c[0] for c in NAMESPACES])
def test_bad_namespaces_are_refused_before_anything_is_written(
    root: Path, call: str, case: str, namespace: str, words: str
) -> None:
    with pytest.raises(runlab.ValidationError, match="Invalid namespace") as caught:
        NAMESPACE_CALLS[call](root, namespace)
    assert isinstance(caught.value, ValueError) and words in str(caught.value)
    forget_stores()
    leftovers = [p for p in root.rglob("*") if ".runlab" not in p.parts] if root.exists() else []
    assert leftovers == [], leftovers
    assert list(runlab.runs(root=root)) == [] if root.exists() else True


@pytest.mark.parametrize("namespace", ["a", "mnist/baselines", "x" * 100, "/".join(["s" * 100, "t" * 99])])
def test_namespaces_within_the_limits_are_accepted(namespace: str) -> None:
    assert validate_namespace(namespace) == namespace


ARTIFACT_NAMES: list[tuple[str, str, str]] = [
    ("nul", "a\x00b.txt", "control character '\\x00'"),
    ("newline", "notes\n.txt", "control character '\\n'"),
    ("300-chars", "a" * 300 + ".txt", "at most 255 per folder or file name"),
    ("300-bytes-of-utf8", "é" * 150, "300 bytes long"),
    ("long-folder", "d" * 256 + "/x.txt", "at most 255"),
    ("whole-name-too-long", "/".join(["p" * 200] * 6), "at most 1024 characters"),
    ("surrogate", "bad\udc80.txt", "not valid Unicode"),
]


def _save_text(run: runlab.Run, name: str, tmp: Path) -> Any:
    return run.save_text(name, "x")


def _save_bytes(run: runlab.Run, name: str, tmp: Path) -> Any:
    return run.save_bytes(name, b"x")


def _save_json(run: runlab.Run, name: str, tmp: Path) -> Any:
    return run.save_json(name, {"a": 1})


def _log_artifact(run: runlab.Run, name: str, tmp: Path) -> Any:
    source = tmp / "source.txt"
    source.write_text("x", encoding="utf-8")
    return run.log_artifact(source, name)


def _artifact_path(run: runlab.Run, name: str, tmp: Path) -> Any:
    return run.artifact_path(name)


ARTIFACT_CALLS: dict[str, Callable[[runlab.Run, str, Path], Any]] = {
    "save_text": _save_text,
    "save_bytes": _save_bytes,
    "save_json": _save_json,
    "log_artifact": _log_artifact,
    "artifact_path": _artifact_path,
}


@pytest.mark.parametrize("call", ARTIFACT_CALLS)
@pytest.mark.parametrize(("case", "name", "words"), ARTIFACT_NAMES, ids=[c[0] for c in ARTIFACT_NAMES])
def test_bad_artifact_names_are_refused_with_a_typed_error(
    root: Path, tmp_path: Path, call: str, case: str, name: str, words: str
) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        run.save_text("kept.txt", "kept")
        with pytest.raises(runlab.ArtifactPathError, match="Invalid artifact name") as caught:
            ARTIFACT_CALLS[call](run, name, tmp_path)
        assert isinstance(caught.value, ValueError) and words in str(caught.value)
    record = runlab.load(run.id, root=root)
    assert record.status == "completed" and record.artifacts == ["kept.txt"]


def test_the_longest_allowed_artifact_name_works(root: Path) -> None:
    name = "/".join(["d" * 200] * 4) + "/" + "f" * 200  # 1004 characters, every part under 255 bytes
    with runlab.start_run(root=root, capture=False) as run:
        run.save_text(name, "ok")
    assert runlab.load(run.id, root=root).artifact(name).read_text(encoding="utf-8") == "ok"


@pytest.mark.parametrize(("name", "bad"), [("a\nb", "'\\n'"), ("tab\there", "'\\t'"), ("nul\x00", "'\\x00'")])
def test_a_run_name_with_a_control_character_is_refused(root: Path, name: str, bad: str) -> None:
    """A name is one line (a newline in it broke the `runlab list` table)."""
    with pytest.raises(runlab.UsageError, match="contains the control character") as caught:
        runlab.start_run(root=root, name=name, capture=False)
    assert bad in str(caught.value)
    forget_stores()
    assert list(runlab.runs(root=root)) == []


# (case, start_run keyword arguments, words in the message); each was accepted before, and either failed
# writing run.json with a raw TypeError (lone surrogates) or made a run that `index rebuild` marked damaged
INFO: list[tuple[str, dict[str, object], list[str]]] = [
    ("description number", {"description": 5}, ["Invalid description 5", "text"]),
    ("description list", {"description": ["a"]}, ["Invalid description", "text"]),
    ("description surrogate", {"description": "ok \udfff"}, ["lone surrogates"]),
    ("name surrogate", {"name": "x\ud800"}, ["Invalid run name", "lone surrogates"]),
    ("empty parameter name", {"params": {"": 1}}, ["Invalid parameter name ''"]),
]


INFO_CALLS = [(via, *case) for via in ("start_run", "set_info") for case in INFO if via == "start_run" or
              "params" not in case[1]]  # fmt: skip


@pytest.mark.parametrize(("via", "case", "kwargs", "words"), INFO_CALLS, ids=[f"{c[0]}-{c[1]}" for c in INFO_CALLS])
def test_a_name_or_description_run_json_cannot_hold_is_refused(
    root: Path, via: str, case: str, kwargs: dict[str, object], words: list[str]
) -> None:
    with runlab.start_run(root=root, capture=False) as run, pytest.raises(runlab.UsageError) as caught:
        if via == "start_run":
            runlab.start_run(root=root, capture=False, **kwargs)  # type: ignore[arg-type]
        else:
            run.set_info(**kwargs)  # type: ignore[arg-type]
    for word in words:
        assert word in str(caught.value), caught.value
    forget_stores()
    assert [r.id for r in runlab.runs(root=root)] == [run.id] and run.status == "completed"
    assert runlab.Store(root).check_index().ok and not runlab.Store(root).check_index().damaged


def test_a_data_key_with_lone_surrogates_is_refused_and_the_rest_is_kept(root: Path) -> None:
    """It was accepted, then writing data.json failed when the run ended: the run's data was lost and the
    ``with`` block raised UnicodeEncodeError."""
    with runlab.start_run(root=root, capture=False) as run:
        run.data["kept"] = 1
        with pytest.raises(runlab.UsageError, match="lone surrogates"):
            run.data["bad\udcff"] = 2
    assert run.status == "completed" and runlab.load(run.id, root=root).data == {"kept": 1}
