"""Context-style parameters on the command line: the keys of ``runlab.run(params={...})`` are a script's parameters.

``runlab run ctx.py --lr=0.5`` records 0.5 in the run the command creates, and the ``with`` block,
which joins that run, reads it; sweeps and config files set them; the type is checked where the
value enters. ``params=`` given as a variable finds nothing (unchanged); a global of the same name
with another value is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli._main import _register, cli
from runlab.experiment import script_params

from ..conftest import forget_stores

_register()

CTX = """
import runlab

with runlab.run(params={"lr": 0.1, "layers": 2, "note": "x"}) as run:  # the block joins `runlab run`'s run
    run.data["seen"] = {"lr": run.params["lr"], "layers": runlab.get_param("layers")}
"""

NOT_LITERAL = {
    "variable": 'cfg = {"lr": 0.1}\nwith runlab.run(params=cfg) as run:\n',
    "kwargs": 'opts = {"params": {"lr": 0.1}}\nwith runlab.run(**opts) as run:\n',
    "unpacked": 'base = {"lr": 0.1}\nwith runlab.run(params={**base, "layers": 2}) as run:\n',
    "call": "with runlab.run(params=dict(lr=0.1)) as run:\n",
}


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def records(root: Path) -> list[runlab.RunRecord]:
    forget_stores()
    return sorted(runlab.runs(root=root), key=lambda r: r.params.get("lr", 0)) if root.exists() else []


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        pytest.param([], None, [(0.1, 2)], id="defaults"),
        pytest.param(["--lr=0.5"], None, [(0.5, 2)], id="override"),
        pytest.param(["-p", "layers=3", "--lr", "1"], None, [(1.0, 3)], id="override-typed"),
        pytest.param(["--sweep", "lr=0.2,0.3", "-x", "inline"], None, [(0.2, 2), (0.3, 2)], id="sweep"),
        pytest.param(["-c", "CONFIG"], "parameters:\n  lr: 0.3\n  layers: '4'\n", [(0.3, 4)], id="config-file"),
        pytest.param(
            ["-c", "CONFIG", "-x", "inline"], "sweep:\n  layers: ['5', '6']\n", [(0.1, 5), (0.1, 6)], id="config-sweep"
        ),
    ],
)
def test_values_reach_the_block_typed(
    tmp_path: Path, root: Path, args: list[str], config: str | None, expected: list[tuple[float, int]]
) -> None:
    script = write(tmp_path, "ctx.py", CTX)
    if config is not None:
        args = [str(write(tmp_path, "config.yml", config)) if a == "CONFIG" else a for a in args]
    result = invoke("--root", str(root), "run", str(script), *args)
    assert result.exit_code == 0, result.output
    runs = records(root)
    assert [(r.params["lr"], r.params["layers"]) for r in runs] == expected
    for run, (lr, layers) in zip(runs, expected, strict=True):
        assert run.status == "completed" and run.params["note"] == "x"
        assert run.data["seen"] == {"lr": lr, "layers": layers}  # what the block read
        assert type(run.data["seen"]["lr"]) is float and type(run.data["seen"]["layers"]) is int
        assert run.metadata["params"]["lr"]["type"] == "float"


@pytest.mark.parametrize(
    ("args", "name", "type_name"),
    [
        pytest.param(["--lr=abc"], "lr", "float", id="float"),
        pytest.param(["--layers=2.5"], "layers", "int", id="int"),
        pytest.param(["--sweep", "layers=1,x"], "layers", "int", id="sweep"),
    ],
)
def test_a_bad_value_is_exit_2_naming_the_parameter_and_type(
    tmp_path: Path, root: Path, args: list[str], name: str, type_name: str
) -> None:
    result = invoke("--root", str(root), "run", str(write(tmp_path, "ctx.py", CTX)), *args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {name!r}" in result.output and type_name in result.output
    assert records(root) == []


def test_the_real_cli_overrides_and_reruns(tmp_path: Path, root: Path) -> None:
    script = write(tmp_path, "ctx.py", CTX)
    out = subprocess.run(
        [sys.executable, "-m", "runlab", "run", str(script), "--lr=0.5", "--root", str(root)],
        capture_output=True, text=True, env={**os.environ, "RUNLAB_QUIET": "1"}, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    [run] = records(root)
    assert run.data["seen"] == {"lr": 0.5, "layers": 2}
    assert invoke("--root", str(root), "rerun", run.id, "--layers=7").exit_code == 0  # the block gets them back
    again = next(r for r in records(root) if r.id != run.id)
    assert again.data["seen"] == {"lr": 0.5, "layers": 7}


def test_keys_are_listed_as_the_scripts_parameters(tmp_path: Path) -> None:
    script = write(
        tmp_path,
        "ctx.py",
        """
        import runlab as rl
        from runlab import run as start

        steps = 3
        with rl.run({"lr": 0.1, "n": steps, "_private": 1, "not-a-name": 2}):
            pass

        def evaluate():
            with start(params={
                "split": "test",  # which data to score
                "lr": 0.9,  # a later call: the first call gives the default
            }):
                pass
        """,
    )
    params = script_params(script)
    assert {n: (p.type, p.default) for n, p in params.items()} == {
        "steps": (int, 3),
        "lr": (float, 0.1),
        "split": (str, "test"),
    }  # n is computed by the code; _private and not-a-name are no parameter names
    assert params["split"].description == "which data to score"


@pytest.mark.parametrize("case", sorted(NOT_LITERAL))
def test_params_not_given_literally_find_nothing(tmp_path: Path, root: Path, case: str) -> None:
    body = "    run.data['lr'] = run.params['lr']\n"
    script = write(tmp_path, "ctx.py", "import runlab\n" + NOT_LITERAL[case] + body)
    assert "lr" not in script_params(script)
    result = invoke("--root", str(root), "run", str(script), "--lr=0.5")
    assert result.exit_code == 2 and "Unknown parameter 'lr'" in result.output, result.output
    assert invoke("--root", str(root), "run", str(script)).exit_code == 0  # the block's own values, as before
    assert [r.data["lr"] for r in records(root)] == [0.1]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        pytest.param('lr = 0.1\nwith runlab.run(params={"lr": 0.1}) as run:\n', None, id="same-value"),
        pytest.param('lr = 0.1\nwith runlab.run(params={"lr": lr}) as run:\n', None, id="the-global-itself"),
        pytest.param(
            'lr: float = 0.1\nwith runlab.run(params={"lr": 0.2}) as run:\n',
            "the global lr = 0.1 (line 2) and params={'lr': 0.2} of runlab.run() (line 3)",
            id="different-value",
        ),
        pytest.param('lr = 1\nwith runlab.run(params={"lr": 1.0}) as run:\n', "two defaults", id="different-type"),
        pytest.param(
            'lr: float = float("0.1")\nwith runlab.run(params={"lr": 0.1}) as run:\n',
            "two defaults",
            id="computed-global",
        ),
    ],
)
def test_a_global_and_a_key_of_one_name(tmp_path: Path, root: Path, source: str, error: str | None) -> None:
    body = "    run.data['seen'] = [lr, run.params['lr']]\n"
    script = write(tmp_path, "ctx.py", "import runlab\n" + source + body)
    result = invoke("--root", str(root), "run", str(script), "--lr=0.3")
    if error is None:  # one parameter, the global's: the override sets the global and what the block reads
        assert result.exit_code == 0, result.output
        [run] = records(root)
        assert run.data["seen"] == [0.3, 0.3]
        return
    assert result.exit_code == 2, result.output
    assert "ctx.py gives 'lr' two defaults" in result.output and error in result.output
    assert "pass the global to the block" in result.output
    assert invoke("--root", str(root), "run", str(script)).exit_code == 2  # refused with or without overrides
    assert records(root) == []
