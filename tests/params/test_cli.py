"""``runlab config validate | show | check`` through CliRunner and as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import runlab.cli._config_cmd  # noqa: F401  (registers the `config` group until _register() imports it)
from runlab.cli import cli

from .test_files import BAD_FILES, EXAMPLES, write

SCRIPT = "LEARNING_RATE: float = 0.01  # step size\nBATCH_SIZE = 32\nMODEL_TYPE = 'mlp'\n"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def snapshot(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")}


def test_validate_and_show_examples() -> None:
    result = invoke("config", "validate", str(EXAMPLES / "sweep.yml"), str(EXAMPLES / "fast.toml"))
    assert result.exit_code == 0, result.output
    assert "8 configs" in result.output
    table = invoke("config", "show", str(EXAMPLES / "sweep_config.py"))
    assert table.exit_code == 0 and "learning_rate" in table.output and "lr0.1_bs64" in table.output
    assert len([line for line in table.output.splitlines() if "lr0" in line]) == 9
    records = json.loads(invoke("config", "show", str(EXAMPLES / "hello_config.py"), "-f", "json").output)
    assert records[0]["globals"] == {"name": "KohakuEngine", "greeting": "Welcome to"}
    assert records[0]["kwargs"] == {"excited": True} and len(records[0]["id"]) == 12


def test_show_table_flattens_nested_values(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yml", "parameters: {OPT: {lr: 'choice(0.1, 0.2)'}}\nkwargs: {dev: cpu}\nargs: [1]\n")
    result = invoke("config", "show", str(path))
    assert result.exit_code == 0
    assert "OPT.lr" in result.output and "kwargs.dev" in result.output and "args" in result.output


def test_check_reports_unknown_names_with_exit_1(tmp_path: Path) -> None:
    script = write(tmp_path / "train.py", SCRIPT)
    good = write(
        tmp_path / "good.yml", "parameters: {LEARNING_RATE: 0.1, __DEBUG__: true}\nsweep: {BATCH_SIZE: [1, 2]}\n"
    )
    assert invoke("config", "check", str(script), "-c", str(good)).exit_code == 0
    bad = write(tmp_path / "bad.yml", "parameters: {LEARNIG_RATE: 0.1, MODEL: x, ZZZ: 1}\n")
    result = invoke("config", "check", str(script), "-c", str(bad))
    assert result.exit_code == 1
    assert "'LEARNIG_RATE' is not a parameter" in result.output and "Did you mean 'LEARNING_RATE'?" in result.output
    assert "'MODEL'" in result.output and "'ZZZ'" in result.output


def test_check_wrong_type_is_exit_2(tmp_path: Path) -> None:
    script = write(tmp_path / "train.py", SCRIPT)
    bad = write(tmp_path / "bad.yml", "parameters: {BATCH_SIZE: many}\n")
    result = invoke("config", "check", str(script), "-c", str(bad))
    assert result.exit_code == 2
    assert "Invalid value for 'BATCH_SIZE': 'many' is not a valid int" in result.output


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_exit_2_one_line_nothing_written(case: str, tmp_path: Path) -> None:
    name, text, fragments = BAD_FILES[case]
    path = write(tmp_path / "in" / name, text)
    before = snapshot(tmp_path)
    for command in ("validate", "show"):
        result = invoke("config", command, str(path))
        assert result.exit_code == 2, (case, result.output)
        message = result.output.strip()
        assert message.startswith("Error: ") and "Traceback" not in message
        for fragment in fragments:
            assert fragment in message, (case, message)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "runs").exists()


def test_extend_cycle_and_missing_file_exit_2(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", "extend: b.yml\n")
    write(tmp_path / "b.yml", "extend: a.yml\n")
    result = invoke("config", "validate", str(tmp_path / "a.yml"))
    assert result.exit_code == 2 and "'extend' cycle: a.yml -> b.yml -> a.yml" in result.output
    assert invoke("config", "show", str(tmp_path / "nope.yml")).exit_code == 2


def _run(*args: str, registered: bool) -> subprocess.CompletedProcess[str]:
    if registered:
        command = [sys.executable, "-m", "runlab", *args]
    else:
        code = "import runlab.cli._config_cmd; from runlab.cli import main; main()"
        command = [sys.executable, "-c", code, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _is_registered() -> bool:
    import inspect

    from runlab.cli import _main

    return "_config_cmd" in inspect.getsource(_main._register)


@pytest.mark.parametrize("registered", [False, True], ids=["bootstrap", "python-m-runlab"])
def test_subprocess_show_json_and_bad_input(registered: bool, tmp_path: Path) -> None:
    if registered and not _is_registered():
        pytest.skip("runlab.cli._main._register() does not import _config_cmd yet")
    out = _run("config", "show", str(EXAMPLES / "sweep.yml"), "--format", "json", registered=registered)
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)) == 8
    bad = write(tmp_path / "bad.yml", "parameters:\n  A: 1\n B: 2\n")
    out = _run("config", "validate", str(bad), registered=registered)
    assert out.returncode == 2 and "Malformed YAML" in out.stderr and "line 3" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", ["validate", "show"])
def test_config_commands_say_when_they_run_a_python_config(tmp_path: Path, command: str) -> None:
    """Docs and behaviour agree: YAML/TOML/JSON are only read; a Python config's code runs, and the output says so."""
    marker = tmp_path / "ran.txt"
    py = write(
        tmp_path / "gen.py",
        f"""
        from pathlib import Path
        from runlab.params import Config
        Path({str(marker)!r}).write_text("ran")
        def config_gen():
            yield Config(globals_dict={{"LR": 0.1}})
        """,
    )
    yml = write(tmp_path / "c.yml", "parameters:\n  LR: 0.1\n")
    result = invoke("config", command, str(py))
    assert result.exit_code == 0, result.output
    assert "Python config: ran its code" in result.output and marker.read_text() == "ran"
    plain = invoke("config", command, str(yml))
    assert plain.exit_code == 0 and "ran its code" not in plain.output
    help_text = " ".join(invoke("config", command, "--help").output.split())
    assert "only read" in help_text and "Python config" in help_text
    docs = (REPO / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert "Python config file is code" in docs
    assert "without running anything" not in (REPO / "README.md").read_text(encoding="utf-8")
