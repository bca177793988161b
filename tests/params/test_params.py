"""Parameter discovery, typing and coercion, special parameters and actionable types."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
from pydantic import BaseModel

from runlab.errors import RunlabError, UsageError
from runlab.params import (
    SPECIAL_PARAMS,
    ActionableParameterType,
    CopiedPath,
    Param,
    ParameterError,
    coerce,
    declare_special_param,
    discover_params,
    is_param_name,
    read_descriptions,
    scan_source,
)

SOURCE = '''\
"""An experiment."""
from pathlib import Path
import os as OS

# The learning rate.
# Keep it small.
LEARNING_RATE: float = 0.001
BATCH_SIZE = 32  # samples per step
# Where the data is.
DATA: Path = Path("data")  # relative to the script
MODEL: str = (
    "mlp"
)  # the architecture
NOTHING = None
Mixed = 1  # not a parameter
lower = 2
__DEBUG__ = True  # special


def HELPER():
    pass


class CONSTANT_CLASS:
    pass
'''


def _module(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "exp.py"
    path.write_text(SOURCE)
    glob: dict[str, Any] = {"__file__": str(path)}
    exec(compile(SOURCE, str(path), "exec"), glob)
    return glob


def test_discovery_names_types_defaults_and_descriptions(tmp_path: Path) -> None:
    params = discover_params(_module(tmp_path))
    assert sorted(params) == ["BATCH_SIZE", "DATA", "LEARNING_RATE", "MODEL", "NOTHING", "__DEBUG__"]
    lr = params["LEARNING_RATE"]
    assert (lr.type, lr.default, lr.description) == (float, 0.001, "The learning rate. Keep it small.")
    assert params["BATCH_SIZE"].type is int and params["BATCH_SIZE"].description == "samples per step"
    assert params["DATA"].description == "Where the data is. relative to the script"
    assert params["MODEL"].description == "the architecture"
    assert params["NOTHING"].type is Any and params["NOTHING"].description == ""
    assert params["__DEBUG__"].special and not lr.special
    assert lr.to_dict() == {"name": "LEARNING_RATE", "type": "float", "value": 0.001, "usable": True,
                            "description": "The learning rate. Keep it small."}  # fmt: skip


def test_discovery_with_explicit_source_does_not_read_file() -> None:
    glob = {"X": 1, "__annotations__": {}}
    assert discover_params(glob, "X = 1  # one\n")["X"].description == "one"
    assert discover_params(glob)["X"].description == ""


def test_read_descriptions_tolerates_bad_source() -> None:
    assert read_descriptions("def (:\n") == {}
    assert read_descriptions("A = 1\n\n# far away\n\nB = 2\n") == {}


def test_scan_source_is_static(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    params = scan_source(SOURCE + f"\nopen({str(marker)!r}, 'w')\nLATER: int = compute()\n")
    assert not marker.exists()
    assert params["LEARNING_RATE"].type is float and params["DATA"].type is Path
    assert params["LATER"].type is int and params["LATER"].default is None
    with pytest.raises(ParameterError, match="line 1"):
        scan_source("def (:")


@pytest.mark.parametrize("name, expected", [("LR", True), ("LR_2", True), ("__DEBUG__", True), ("Lr", False),
                                            ("lr", False), ("_LR", False), ("__name__", False)])  # fmt: skip
def test_is_param_name(name: str, expected: bool) -> None:
    assert is_param_name(name) is expected


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Opt(BaseModel):
    lr: float = 0.1
    name: str = "adam"


@pytest.mark.parametrize(
    "text, type_, expected",
    [
        ("3", int, 3),
        ("0.5", float, 0.5),
        ("1e-3", float, 0.001),
        ("yes", bool, True),
        ("0", bool, False),
        ("False", bool, False),
        ("hello", str, "hello"),
        ("data/x.csv", Path, Path("data/x.csv")),
        ("b", Literal["a", "b"], "b"),
        ("red", Color, Color.RED),
        ("BLUE", Color, Color.BLUE),
        ("[1, 2]", list[int], [1, 2]),
        ("[1, 2]", list, [1, 2]),
        ("{'a': 1.5}", dict[str, float], {"a": 1.5}),
        ('{"a": true}', dict[str, bool], {"a": True}),
        ("(1, 'x')", tuple[int, str], (1, "x")),
        ("none", Optional[int], None),  # noqa: UP045
        ("4", int | None, 4),
        ("{'lr': 0.2}", Opt, Opt(lr=0.2)),
        ("[1, 'a']", Any, [1, "a"]),
        ("plain text", None, "plain text"),
    ],
)
def test_coerce(text: str, type_: Any, expected: Any) -> None:
    assert coerce(text, type_, "P") == expected


def test_coerce_values_not_text() -> None:
    assert coerce(3, float, "P") == 3.0 and isinstance(coerce(3, float, "P"), float)
    assert coerce(5, str, "P") == "5"
    assert coerce({"lr": 1}, Opt, "P") == Opt(lr=1.0)
    assert coerce("in", Path, "P", base_dir=Path("/base")) == Path("/base/in")


@pytest.mark.parametrize(
    "text, type_, fragments",
    [
        ("abc", float, ["'LEARNING_RATE'", "'abc'", "float", "0.001"]),
        ("maybe", bool, ["'maybe'", "bool", "true"]),
        ("c", Literal["a", "b"], ["Literal['a', 'b']", "'a' or 'b'"]),
        ("green", Color, ["'green'", "Color", "'red' or 'blue'"]),
        ("[1, 'x']", list[int], ["list[int]", "[10]"]),
        ("{'lr': 'fast'}", Opt, ["Opt", "lr"]),
    ],
)
def test_coerce_errors_name_parameter_value_type_and_example(text: str, type_: Any, fragments: list[str]) -> None:
    with pytest.raises(ParameterError) as info:
        coerce(text, type_, "LEARNING_RATE")
    message = str(info.value)
    assert message.startswith("Invalid value for 'LEARNING_RATE'")
    for fragment in fragments:
        assert fragment in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, UsageError)
    assert isinstance(info.value, RunlabError) and info.value.name == "LEARNING_RATE"


def test_special_params() -> None:
    assert set(SPECIAL_PARAMS) >= {"__DEBUG__", "__TESTING__", "__REPRODUCIBLE__", "__CACHING__", "__PREFIX__",
                                   "__NOTIFY__"}  # fmt: skip
    assert SPECIAL_PARAMS["__CACHING__"].default is True and SPECIAL_PARAMS["__PREFIX__"].type is str
    assert SPECIAL_PARAMS["__DEBUG__"].coerce("True") is True
    with pytest.raises(TypeError):
        SPECIAL_PARAMS["__X__"] = Param("__X__")  # type: ignore[index]


@pytest.fixture
def special_params_restored() -> Iterator[None]:
    """Declarations are process-wide: undo this test's, so later runs of the worker don't record them."""
    from runlab.params._param import _SPECIAL

    saved = dict(_SPECIAL)
    yield
    _SPECIAL.clear()
    _SPECIAL.update(saved)


@pytest.mark.usefixtures("special_params_restored")
def test_plugins_declare_special_params() -> None:
    param = declare_special_param("__PLUGIN_LEVEL__", int, 1, "A plugin's option.")
    assert SPECIAL_PARAMS["__PLUGIN_LEVEL__"] is param
    assert declare_special_param("__PLUGIN_LEVEL__", int, 2).default == 2  # re-declaring is fine
    with pytest.raises(ParameterError, match="already declared with type int"):
        declare_special_param("__PLUGIN_LEVEL__", str, "x")
    with pytest.raises(ParameterError, match="double underscores"):
        declare_special_param("PLUGIN", int, 1)


class Folder:
    def __init__(self, path: Path) -> None:
        self.path = path


def test_actionable_type_defaults_and_coercion() -> None:
    class Doubled(ActionableParameterType):
        value_type = int

        @classmethod
        def get(cls, experiment: Any, value: Any) -> Any:
            return value * 2

    assert Doubled.get(None, 2) == 4 and Doubled.set(None, 2) == 2 and Doubled.on_reproducible(None, 2) == 2
    assert coerce("3", Doubled, "N") == 3
    assert coerce("x.csv", CopiedPath, "F") == Path("x.csv")


def test_copied_path_copies_files_and_folders_and_falls_back(tmp_path: Path) -> None:
    run = Folder(tmp_path / "run")
    (tmp_path / "data.csv").write_text("a,b")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f.txt").write_text("x")
    assert CopiedPath.on_reproducible(run, tmp_path / "data.csv") == "copied/data.csv"
    assert CopiedPath.on_reproducible(run, str(tmp_path / "dir")) == "copied/dir"
    assert (run.path / "copied" / "data.csv").read_text() == "a,b"
    assert (run.path / "copied" / "dir" / "f.txt").read_text() == "x"
    assert CopiedPath.get(run, tmp_path / "data.csv") == tmp_path / "data.csv"  # the original exists
    (tmp_path / "data.csv").unlink()
    assert CopiedPath.get(run, tmp_path / "data.csv") == run.path / "copied" / "data.csv"
    assert CopiedPath.get(run, "copied/data.csv") == run.path / "copied" / "data.csv"
    assert CopiedPath.on_reproducible(run, tmp_path / "data.csv") == "copied/data.csv"  # reproduced again
    assert CopiedPath.on_reproducible(run, None) is None and CopiedPath.get(run, None) is None


class _Thing:
    def method(self) -> None:
        pass


@pytest.mark.parametrize(
    ("value", "is_param"),
    [(len, False), (print, False), (_Thing().method, False), (_Thing, False), (lambda: 1, False), (math, False),
     ({"a": 1}.get, False), (3, True), ("x", True), (None, True), (_Thing(), True)],
    ids=["builtin", "print", "bound-method", "class", "lambda", "module", "builtin-method", "int", "str", "none",
         "object"],
)  # fmt: skip
def test_an_uppercase_global_holding_code_is_no_parameter(value: Any, is_param: bool) -> None:
    """FN = len became a parameter typed builtin_function_or_method (functions and classes were skipped)."""
    assert ("FN" in discover_params({"FN": value, "__annotations__": {}}, "")) is is_param
