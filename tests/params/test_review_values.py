"""Values that used to change or vanish silently, or failed without saying where (attacker review).

Each table row is one input; the CLI rows run ``runlab`` as a real subprocess.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
from click.testing import CliRunner

from runlab.cli import cli
from runlab.params import (
    ConfigError,
    Param,
    ParameterError,
    coerce,
    linspace,
    load_config,
    logspace,
    parse_overrides,
    read_file,
)

# --- command-line text -------------------------------------------------------------------------


def test_float_words_inside_a_container_are_floats() -> None:
    # '[nan]' was refused as "not a valid list" although the user gave a list
    first = coerce("[nan]", list[float], "X")
    assert len(first) == 1 and math.isnan(first[0])
    assert math.isnan(coerce("[nan]", Any, "X")[0])
    assert coerce("[0.1, inf, -inf]", list[float], "X") == [0.1, math.inf, -math.inf]
    assert coerce("[0.1, Infinity]", list[float], "X") == [0.1, math.inf]  # JSON's word, read as JSON
    assert coerce("{'a': -inf}", dict[str, float], "X") == {"a": -math.inf}
    assert coerce("nan", Any, "X") == "nan"  # a bare word stays text where no type says otherwise
    assert coerce("[adam, sgd]", Any, "X") == "[adam, sgd]"  # other words are not read as anything


@pytest.mark.parametrize(
    ("text", "type_", "expected"),
    [
        ("1", Literal[1, 2], 1),  # was refused: pydantic compared the text '1' with the int 1
        ("2", Optional[Literal[1, 2]], 2),  # noqa: UP045
        ("true", Literal[True, "x"], True),
        ("x", Literal[True, "x"], "x"),
        ("1", Literal["1", 1], "1"),  # a text option written as it is stays text
        ("1.5", Literal[1.5, 2.5], 1.5),
        ("1e300", float, 1e300),
        ("inf", float, float("inf")),
        ("0", float, 0.0),
        ("0.0e-500", float, 0.0),  # zero written any way is zero
        ("5e-324", float, 5e-324),  # the smallest float
    ],
)
def test_text_arrives_as_the_value_written(text: str, type_: Any, expected: Any) -> None:
    value = coerce(text, type_, "X")
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "type_", "message"),
    [
        ("1e400", float, "'1e400' does not fit in a float (it would become inf)"),
        ("-1e400", float, "'-1e400' does not fit in a float (it would become -inf)"),
        ("1e-400", float, "'1e-400' does not fit in a float (it would become 0.0)"),
        ("1e400", Optional[float], "does not fit in a float"),  # noqa: UP045
        ("", Path, "the path is empty"),  # was Path('.'), the current folder
        ("  ", Optional[Path], "the path is empty"),  # noqa: UP045
        ("3", Literal[1, 2], "'3' is not a valid Literal[1, 2]"),
        ("1.0", Literal[1, 2], "is not a valid Literal[1, 2]"),
        # a number inside a container that a float cannot hold (was [inf] / [0.0], silently)
        ("[0.5, 1e400]", list[float], "'1e400' in '[0.5, 1e400]' does not fit in a float (it would become inf)"),
        ("[1e-400]", list[float], "'1e-400' in '[1e-400]' does not fit in a float (it would become 0.0)"),
        ("(1, 1e999)", tuple[int, float], "'1e999' in '(1, 1e999)' does not fit in a float"),
        ("{'a': -1e400}", dict[str, float], "'1e400' in \"{'a': -1e400}\" does not fit in a float"),
        ("[1e400]", Any, "'1e400' in '[1e400]' does not fit in a float"),  # an untyped parameter too
    ],
)
def test_text_that_would_change_is_refused(text: str, type_: Any, message: str) -> None:
    with pytest.raises(ParameterError, match="Invalid value for 'X'") as info:
        coerce(text, type_, "X")
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "type_", "hint"),
    [
        (False, str, True),  # `NAME: no` in YAML
        (__import__("datetime").date(2026, 1, 1), str, True),  # `NAME: 2026-01-01`
        (True, Literal["on", "off"], True),
        (True, Optional[str], True),  # noqa: UP045
        (True, Literal["a", "b"], False),  # no option YAML would have read as a boolean
        ("abc", int, False),
    ],
)
def test_yaml_typed_value_for_text_says_to_quote_it(value: Any, type_: Any, hint: bool) -> None:
    with pytest.raises(ParameterError) as info:
        coerce(value, type_, "NAME")
    assert ("quote the value in the file" in str(info.value)) is hint


PARAMS = {
    "OPT": Param("OPT", dict, {"lr": 0.1, "name": "sgd"}),
    "L": Param("L", list[int], [1, 2, 3]),
    "O": Param("O", Optional[dict], None),  # noqa: UP045
}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "L.x=1"], "'L' is a list: give an item number such as 0, not 'x'"),  # was a TypeError traceback
        (["--set", "OPT.lr.x=1"], "'OPT.lr' holds float 0.1, not a dict or list"),  # lr was replaced by {'x': 1}
        (["--set", "OPT..lr=1"], "a part between dots is empty"),  # was a key ''
        (["--set", "OPT.=1"], "a part between dots is empty"),
        (["--allow-new", "--set", "NEW..a=1"], "a part between dots is empty"),
        (["--allow-new", "--NEW.a=1", "--NEW.a.b=2"], "'NEW.a' holds int 1, not a dict or list"),
        (["--set", "L.7=1"], "no such item in 'L'"),
    ],
)
def test_dotted_override_never_replaces_a_value_silently(argv: list[str], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse_overrides(argv, PARAMS)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--set", "OPT.momentum=0.9"], {"OPT": {"lr": 0.1, "name": "sgd", "momentum": 0.9}}),
        (["--set", "L.-1=9"], {"L": [1, 2, 9]}),
        (["--set", "O.a.b=1"], {"O": {"a": {"b": 1}}}),  # None and missing items become dicts
    ],
)
def test_dotted_override_still_sets_items(argv: list[str], expected: dict[str, Any]) -> None:
    assert parse_overrides(argv, PARAMS) == expected


# --- sweep helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        # 12-digit rounding made all three 123456789012000.0 (and lost the stop the user wrote)
        (linspace(123456789012345, 123456789012346, 3), [123456789012345.0, 123456789012345.5, 123456789012346.0]),
        (linspace(1e12, 1e12 + 3, 4), [1e12, 1e12 + 1, 1e12 + 2, 1e12 + 3]),
        (linspace(0.123456789012345, 1, 2), [0.123456789012345, 1.0]),  # the bounds as written
        (linspace(-1e308, 1e308, 3), [-1e308, 0.0, 1e308]),  # was [-1e308, inf, 1e308]
        (linspace(0, 0.3, 4), [0.0, 0.1, 0.2, 0.3]),  # noise still goes away
        (linspace(0.1, 0.3, 3), [0.1, 0.2, 0.3]),
        (logspace(-4, -1, 4), [0.0001, 0.001, 0.01, 0.1]),
        (logspace(0, 1e-12, 3), [1.0, 1.0000000000011513, 1.0000000000023026]),  # were three 1.0
    ],
)
def test_generated_values_stay_distinct_and_exact(sweep: Any, expected: list[float]) -> None:
    assert list(sweep) == expected


# --- config files ------------------------------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    ("name", "text", "message", "line"),
    [
        ("dup.json", '{"parameters": {\n  "LR": 0.1,\n  "LR": 0.2\n}}', "the key 'LR' is given twice", 3),
        ("nested.json", '{"parameters": {"A": {"x": 1, "x": 2}}}', "the key 'x' is given twice", 1),
        ("big.json", '{"parameters": {\n  "LR": 1e400\n}}', "the number 1e400 does not fit in a float", 2),
        ("tiny.json", '{"parameters": {"LR": -1e-400}}', "the number -1e-400 does not fit", 1),
        ("big.toml", "[parameters]\nX = 1.0\nLR = 1e400\n", "the number 1e400 does not fit in a float", 3),
        ("big.yml", "parameters:\n  X: 1.0\n  LR: 1.0e+400\n", "the number 1.0e+400 does not fit in a float", 3),
    ],
)
def test_file_values_that_would_be_lost_are_refused(tmp_path: Path, name: str, text: str, message: str,
                                                    line: int) -> None:  # fmt: skip
    path = _write(tmp_path / name, text)
    with pytest.raises(ConfigError) as info:
        read_file(path)
    assert message in str(info.value) and str(path) in str(info.value)
    assert info.value.line == line and info.value.path == str(path)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("same.json", '{"parameters": {"LR": 1.5, "A": {"LR": 2}}}', {"LR": 1.5, "A": {"LR": 2}}),
        (
            "words.toml",
            "[parameters]\nX = inf\nY = -inf\nZ = 1_000.5\n",
            {"X": float("inf"), "Y": -float("inf"), "Z": 1000.5},
        ),
        (
            "words.yml",
            "parameters:\n  X: .inf\n  Y: 1.0e+30\n  Z: 0.0e-500\n",
            {"X": float("inf"), "Y": 1e30, "Z": 0.0},
        ),
    ],
)
def test_file_values_that_fit_load(tmp_path: Path, name: str, text: str, expected: dict[str, Any]) -> None:
    assert read_file(_write(tmp_path / name, text))["parameters"] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("parameters:\n  OPT: 0.1\nsweep:\n  OPT.lr: [1, 2]\n", "'OPT' holds float 0.1, not a dict or list"),
        ("parameters:\n  L: [1, 2]\nsweep:\n  L.x: [1, 2]\n", "'L' is a list: give an item number"),
        ("parameters:\n  L: [1, 2]\nsweep:\n  L.7: [1, 2]\n", "Cannot sweep 'L.7'"),
    ],
)
def test_file_sweep_into_a_plain_value_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="Cannot sweep") as info:
        load_config(_write(tmp_path / "c.yml", text))
    assert message in str(info.value)


def test_file_sweep_of_a_list_item_expands(tmp_path: Path) -> None:
    # was one config holding a Sweep object inside the list
    configs = load_config(_write(tmp_path / "c.yml", "parameters:\n  L: [1, 2]\nsweep:\n  L.0: [5, 6]\n"))
    assert [c.globals_dict["L"] for c in configs] == [[5, 2], [6, 2]]
    assert [c.metadata["sweep_values"] for c in configs] == [{"L.0": 5}, {"L.0": 6}]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("CONFIG = []\n", "CONFIG in {name} is empty"),  # nothing ran, exit 0, no word
        ("def config_gen():\n    return []\n", "config_gen() in {name} is empty"),
        ("import sys\nsys.exit(3)\n", "Python config {name} called sys.exit(3) (line 2)"),  # exited with 3
        (
            "from runlab.params import Config\n\nCONFIG = Config(globals_dict=[1])\n",
            "Python config {name} (line 3): Config globals_dict must be a dict",
        ),  # named no file
    ],
)
def test_python_config_problems_name_the_file(tmp_path: Path, code: str, message: str) -> None:
    path = _write(tmp_path / "cfg.py", code)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message.format(name=path) in str(info.value) and info.value.path == str(path)


# --- through the command line ------------------------------------------------------------------

EXPERIMENT = """\
from pathlib import Path
from typing import Literal

from runlab import Experiment

MODE: Literal[1, 2] = 1
LR: float = 0.1
DATA: Path = Path("data")

experiment = Experiment(glob=globals())


@experiment
def main(e):
    print("GOT", repr(e.MODE), repr(e.LR))


experiment.run_if_main()
"""


def _runlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "runlab", *args]
    env = {"RUNLAB_ROOT": str(cwd / "runs"), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, env=env)


@pytest.mark.parametrize(
    ("args", "rc", "expected"),
    [
        (["--MODE=2"], 0, "GOT 2 0.1"),
        (["--LR=1e400"], 2, "'1e400' does not fit in a float"),
        (["--DATA="], 2, "the path is empty"),
        (["-c", "empty.py"], 2, "is empty"),
        (["-c", "exits.py"], 2, "called sys.exit(4)"),
    ],
)
def test_run_command(tmp_path: Path, args: list[str], rc: int, expected: str) -> None:
    (tmp_path / "exp.py").write_text(EXPERIMENT)
    (tmp_path / "empty.py").write_text("CONFIG = []\n")
    (tmp_path / "exits.py").write_text("raise SystemExit(4)\n")
    done = _runlab("run", "exp.py", *args, cwd=tmp_path)
    assert done.returncode == rc, done.stderr
    assert expected in (done.stdout if rc == 0 else done.stderr)
    if rc:
        assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()


def test_show_json_keeps_nan_and_infinity_apart_from_null(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yml", "parameters:\n  A: .nan\n  B: -.inf\n  C: [.inf, 1]\n  D: null\n")
    result = CliRunner().invoke(cli, ["config", "show", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)[0]["globals"]
    assert shown == {"A": "NaN", "B": "-Infinity", "C": ["Infinity", 1], "D": None}  # was null, null, [null, 1]


def test_a_generator_with_nothing_left_to_yield_runs_nothing_and_says_so(tmp_path: Path) -> None:
    """KohakuEngine's resume pattern: a generator that finds all its work done yields nothing. That is no
    error (exit 0), but it must not pass without a word (it used to print nothing)."""
    (tmp_path / "exp.py").write_text(EXPERIMENT)
    _write(tmp_path / "gen.py", "def config_gen():\n    if False:\n        yield\n")
    done = _runlab("run", "exp.py", "-c", "gen.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "runlab: config_gen() in gen.py gave no configs: nothing to run."
    assert not list((tmp_path / "runs").glob("*/*/run.json"))
