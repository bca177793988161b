"""Review of the commands that start runs: option combinations that were silently dropped or
contradicted each other, the entry point of a config file, the sweep dry run, and shell completion.

Every bad combination exits 2 with one ``Error:`` line and leaves no store behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner, Result

import runlab
from runlab.cli._main import _register, cli

_register()

FILES = {
    "script.py": "lr = 0.1\nseed = 0\n\n\ndef main():\n    return lr\n",
    "tools.py": (
        'checkpoint = "last.pt"\n\n\ndef evaluate(checkpoint: str = "best.pt", k: int = 3):\n'
        '    return f"evaluate {checkpoint} {k}"\n\n\ndef main():\n    return "main"\n'
    ),
    "func.py": (
        "from runlab import Experiment\n\nLR: float = 0.1\n\nexperiment = Experiment(glob=globals())\n\n\n"
        "@experiment\ndef main(e):\n    return e.LR\n\n\nexperiment.run_if_main()\n"
    ),
    "tools.yml": "extend: tools.py\n",
    "func.yml": "extend: func.py\n",
}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def invoke(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)


BAD = [
    # a 0 (equal to False) was taken for an option not given: the run went ahead and dropped it
    (["run", "script.py", "--seed", "0"], "--seed 0 applies to random sampling"),
    (["run", "script.py", "--gpus", "0"], "--gpus applies to the slurm executor"),
    (["run", "script.py", "--mem", "0"], "--mem applies to the slurm executor"),
    # random mode without a number of runs: one run, the mode (and --seed) ignored
    (["run", "script.py", "--sweep-mode", "random"], "--sweep-mode random draws a number of runs"),
    (["run", "script.py", "--sweep-mode", "random", "--seed", "3"], "add --samples N"),
    # the inline executor runs one at a time: -j 4 was dropped without a word
    (["run", "script.py", "-x", "inline", "-j", "4"], "-j 4 needs an executor that runs several at once"),
    (["run", "script.py", "--sweep", "lr=1,2", "-x", "inline", "-j", "2"], "-x inline runs one at a time"),
    (["optimize", "func.py", "-n", "1", "--search", "LR=float(0.01,1)", "-x", "inline", "-j", "2"],
     "-j 2 needs an executor"),
    # a local Dask cluster of 190 workers or more timed out at start, after a minute of full CPU
    (["run", "script.py", "--sweep", "lr=1,2", "-x", "dask", "-j", "200"], "more workers than a local Dask cluster"),
    # two different entry points: -e won silently
    (["run", "tools.py:evaluate", "-e", "main"], "names the entry point 'evaluate' and -e names 'main'"),
    (["run", "tools.py:evaluate", "-e", "main", "--sweep", "k=1,2"], "give it once"),
    # a config extending a functional experiment: -e was ignored (refused for the .py itself)
    (["run", "func.yml", "-e", "main"], "--entrypoint applies to plain scripts"),
    # a fixed override of a searched parameter: every trial replaced it
    (["optimize", "func.py", "-n", "1", "--search", "LR=float(0.01,1)", "--LR=0.5", "-x", "inline"],
     "'LR' is both fixed (LR=0.5) and searched"),
    (["optimize", "func.py", "-n", "1", "--search", "LR=float(0.01,1)", "-p", "LR=0.5", "-x", "inline"],
     "Give it once"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_contradictory_or_dropped_options_exit_2_in_one_line_and_create_no_store(
    files: Path, args: list[str], message: str
) -> None:
    root = files / "store"
    result = invoke(root, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert not root.exists()


ENTRY = [
    (["tools.yml", "-e", "evaluate"], "evaluate best.pt 3"),  # -e was ignored: main ran
    (["tools.yml:evaluate", "-p", "k=5"], "evaluate best.pt 5"),  # so was FILE:FUNCTION (and k was unknown)
    (["tools.py:evaluate", "-e", "evaluate", "-p", "k=4"], "evaluate best.pt 4"),  # the same one twice is fine
]


@pytest.mark.parametrize(("args", "result"), ENTRY, ids=[" ".join(a) for a, _ in ENTRY])
def test_the_entry_point_given_with_a_config_file_is_called(files: Path, args: list[str], result: str) -> None:
    root = files / "store"
    out = invoke(root, "run", *args)
    assert out.exit_code == 0, (out.stdout, out.stderr)
    [run] = runlab.runs(root=root)
    assert run.data["result"] == result


DRY = [
    (["tools.py:evaluate", "--sweep", "k=1,2", "-p", "checkpoint=a"], ["checkpoint='a' k=1", "checkpoint='a' k=2"]),
    (["tools.py", "-e", "evaluate", "--sweep", "k=7,8"], ["k=7", "k=8"]),
]


@pytest.mark.parametrize(("args", "shown"), DRY, ids=[" ".join(a) for a, _ in DRY])
def test_a_dry_run_shows_the_entry_points_arguments(files: Path, args: list[str], shown: list[str]) -> None:
    root = files / "store"
    result = invoke(root, "run", *args, "--dry-run")
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("   ")]
    assert len(rows) == len(shown)
    for row, values in zip(rows, shown, strict=True):
        assert row.endswith(values), row
    assert not root.exists()


COMPLETE = [
    (["run"], "scr", "file", None),  # the experiment file: the shell completes file names
    (["optimize"], "fu", "file", None),
    (["rerun"], "first-", "plain", "first-run"),  # a run's name, as for show
    (["rerun"], "", "plain", "ID"),  # nothing typed: the run IDs
]


@pytest.mark.parametrize(("args", "incomplete", "kind", "value"), COMPLETE,
                         ids=[f"{a[0]} {i!r}" for a, i, _, _ in COMPLETE])  # fmt: skip
def test_completion_of_the_experiment_file_and_of_rerun_ids(
    files: Path, args: list[str], incomplete: str, kind: str, value: str | None
) -> None:
    root = files / "store"
    assert invoke(root, "run", "script.py", "--name", "first-run").exit_code == 0
    completer = ShellComplete(cli, {}, "runlab", "_RUNLAB_COMPLETE")
    items = completer.get_completions(["--root", str(root), *args], incomplete)
    assert items and all(item.type == kind for item in items)
    if value is None:
        assert [item.value for item in items] == [incomplete]
    else:
        [run] = runlab.runs(root=root)
        assert (run.id if value == "ID" else value) in [item.value for item in items]


EMPTY = [
    # an empty value quietly meant "not given": the default namespace, the default study, the discovered function
    (["run", "script.py", "-n", ""], "Invalid value for '--namespace' / '-n': '' is empty"),
    (["run", "script.py", "--namespace", " "], "' ' is empty: give a value, or leave the option out"),
    (["optimize", "func.py", "-n", "1", "--search", "LR=float(0.01,1)", "--study", ""], "'--study': '' is empty"),
    (["run", "script.py:"], "Invalid target 'script.py:': nothing follows ':'"),
    (["run", "tools.py:", "--sweep", "k=1,2"], "Name the function"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), EMPTY, ids=[" ".join(a) for a, _ in EMPTY])
def test_an_empty_value_is_refused_not_taken_for_the_default(files: Path, args: list[str], message: str) -> None:
    root = files / "store"
    result = invoke(root, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert not root.exists()
