"""Config values that were lost or changed silently, or failed with a traceback (second review).

Each table row is one input. The command-line rows run ``runlab`` as a real subprocess on real
files, and check that a refused config leaves no store behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab.cli._config_cmd  # noqa: F401  (registers the `config` group)
from runlab.cli import cli
from runlab.params import ConfigError, ParameterError, load_config, parse_overrides, parse_sweep, sweep_argv

# --- sweep text: numbers that a float cannot hold ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("choice(1e400)", "the number 1e400 does not fit in a float (it would become inf)"),  # was [inf]
        ("choice(0.1, -1e400)", "the number 1e400 does not fit"),
        ("choice([1e-400, 1])", "the number 1e-400 does not fit in a float (it would become 0.0)"),  # was [0.0, 1]
        ("linspace(0, 1e400, 3)", "the number 1e400 does not fit"),  # was [0.0, inf, inf]
        ("logspace(-400, 0, 2)", "10 to the power -400 or 0 does not fit in a float"),  # was [0.0, 1.0]
        ("logspace(0, 2000, 2, base=0.5)", "0.5 to the power 0 or 2000 does not fit"),  # was [1.0, 0.0]
        ("logspace(0, 400, 2)", "10 to the power 0 or 400 does not fit"),  # refused before too
    ],
)
def test_sweep_text_numbers_that_do_not_fit_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sweep(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("choice(0.0, 0e5, -0.0)", [0.0, 0.0, -0.0]),  # zero written any way is zero
        ("choice(1e-300, 1.7e308)", [1e-300, 1.7e308]),
        ("logspace(-323, 0, 2)", [1e-323, 1.0]),  # the smallest power of ten a float holds
        ("logspace(-4, -1, 4)", [0.0001, 0.001, 0.01, 0.1]),
    ],
)
def test_sweep_text_numbers_that_fit_load(text: str, expected: list[float]) -> None:
    sweep = parse_sweep(text)
    assert sweep is not None and list(sweep) == expected


def test_command_line_sweep_text_is_checked_the_same_way() -> None:
    with pytest.raises(ConfigError, match="the number 1e400 does not fit"):
        sweep_argv(["-p", "LR=choice(0.1, 1e400)"])
    with pytest.raises(ConfigError, match="the number 1e-400 does not fit"):
        sweep_argv([], ["LR=loguniform(1e-400, 1)"], samples=2)  # said "loguniform needs low > 0" of 0.0


# --- new names on the command line (--allow-new) ----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--X=2", "--X.a=1"], "'X' is set to int 2 before it"),  # was {'X': {'a': 1}}: the 2 vanished
        (["--X=[1, 2]", "--X.5=3"], "no such item in 'X'"),  # was {'X': {'5': 3}}: the list vanished
        (["--X=[1, 2]", "--X.a=3"], "'X' is a list: give an item number"),
    ],
)
def test_new_name_set_whole_then_inside_is_refused(argv: list[str], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse_overrides(argv, {}, allow_new=True)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--X.a=1", "--X.b=2"], {"X": {"a": 1, "b": 2}}),
        (["--X=[1, 2]", "--X.0=5"], {"X": [5, 2]}),  # was {'X': {'0': 5}}
        (["--X.a=1", "--X=3"], {"X": 3}),  # the whole value given last wins, as for known names
        (["--X=none", "--X.a=1"], {"X": {"a": 1}}),  # None becomes a dict, as for known names
    ],
)
def test_new_name_items_are_set(argv: list[str], expected: dict[str, object]) -> None:
    assert parse_overrides(argv, {}, allow_new=True) == expected


# --- config files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a text under sweep: that is no sweep text was one config holding the text, as if not swept
        ("sweep:\n  LR: '0.1,0.2'\n", "Sweep values for 'LR' in"),
        ("sweep:\n  MODEL: mlp\n", "got 'mlp'. Write the alternatives as a list (MODEL: [a, b])"),
        ("sweep:\n  LR: 'uniform(0, 1)'\n", "must be a list or sweep text"),  # a range is for --samples only
        # an empty part of a dotted sweep name made a '' key
        ("sweep:\n  '': [1, 2]\n", "Invalid sweep name ''"),
        ("sweep:\n  OPT.: [1, 2]\n", "Invalid sweep name 'OPT.'"),
        ("sweep:\n  OPT..lr: [1, 2]\n", "Invalid sweep name 'OPT..lr'"),
        ("sweep:\n  .lr: [1, 2]\n", "a part between dots is empty"),
    ],
)
def test_sweep_entries_that_would_not_sweep_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sweep:\n  LR: 'choice(0.1, 0.2)'\n", [0.1, 0.2]),
        ("sweep:\n  LR: [0.1, 0.2]\n", [0.1, 0.2]),
        ("sweep:\n  LR: ['a,b']\n", ["a,b"]),  # one alternative, given as a list
    ],
)
def test_sweep_entries_that_sweep_still_load(tmp_path: Path, text: str, expected: list[object]) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    assert [c.globals_dict["LR"] for c in load_config(path)] == expected


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("extend", "names 'folder.yml', which is a folder, not a file"),  # said "Config file not found"
        ("include", "names 'folder.yml', which is a folder, not a file"),  # was accepted and recorded
    ],
)
def test_extend_or_include_naming_a_folder_is_refused(tmp_path: Path, key: str, message: str) -> None:
    (tmp_path / "folder.yml").mkdir()
    path = tmp_path / "c.yml"
    path.write_text(f"{key}: folder.yml\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)


def test_show_json_writes_values_json_has_no_type_for(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("parameters:\n  B: !!binary aGk=\n  D: 2026-01-01\n  S: !!set {b, a}\n")
    result = CliRunner().invoke(cli, ["config", "show", str(path), "-f", "json"])  # was a TypeError traceback
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["globals"] == {"B": "b'hi'", "D": "2026-01-01", "S": ["a", "b"]}


# --- the same through `runlab run` and `runlab config`, as real processes ---------------------------

EXPERIMENT = """\
MODEL: str = "mlp"
LR: float = 0.1
print("GOT", MODEL, LR)
"""


def _runlab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"RUNLAB_ROOT": str(cwd / "runs"), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "runlab", *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd, env=env)  # fmt: skip


@pytest.mark.parametrize(
    ("command", "config", "message"),
    [
        (["run", "exp.py", "-c"], "sweep:\n  MODEL: mlp,transformer\n", "Sweep values for 'MODEL'"),  # ran once
        (["run", "exp.py", "-c"], "parameters:\n  LR: logspace(-400, -1, 2)\n", "does not fit in a float"),
        (["config", "validate"], "sweep:\n  MODEL..x: [a]\n", "Invalid sweep name 'MODEL..x'"),
        (["config", "show"], "parameters:\n  LR: choice(1e400)\n", "the number 1e400 does not fit"),
    ],
)
def test_commands_refuse_with_one_line(tmp_path: Path, command: list[str], config: str, message: str) -> None:
    (tmp_path / "exp.py").write_text(EXPERIMENT)
    (tmp_path / "c.yml").write_text(config)
    done = _runlab(*command, "c.yml", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "runs").exists()
