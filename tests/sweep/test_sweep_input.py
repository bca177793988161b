"""Sweep input refused before anything runs: sizes past the limit, parameters given twice, bad sweep text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli._main import _register, cli
from runlab.errors import UsageError
from runlab.params import sweep_argv
from runlab.store import Store
from runlab.sweep import build_requests

TRAIN = 'lr = 0.1\nbs = 16\nopt = "adam"\n\n\ndef main():\n    return lr\n'
HUGE = "99999999999999999999999"

_register()


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(TRAIN)
    return path


@pytest.mark.timeout(120)  # without the limit, these build billions of values
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "lr=linspace(1,2,100000000)"], "Sweep linspace(1, 2, 100000000) has 100,000,000 values"),
        (["--sweep", "bs=range(0,1000000000)"], "Sweep range(0, 1000000000) has 1,000,000,000 values"),
        (["--sweep", f"bs=range({HUGE})"], f"Sweep range({HUGE}) has"),
        (["-p", "lr=logspace(-9,-1,1000000)"], "has 1,000,000 values"),
        (["-p", "lr=uniform(1,2)", "--samples", "100000000"], "Too many samples: 100,000,000"),
        (["-p", "lr=uniform(1,2)", "--samples", HUGE], "Too many samples: 99,999,999,999,999,999,999,999"),
        (["--sweep", "bs=range(1000)", "--sweep", "lr=linspace(0,1,1000)"], "The sweep makes 1,000,000 runs"),
        (["--sweep", "lr=1,2", "--sweep", "lr=3,4"], "Parameter 'lr' is swept twice"),
        (["-p", "lr=choice(1,2)", "--sweep", "lr=3,4"], "Parameter 'lr' is swept twice"),
        (["--lr=1", "--sweep", "lr=2,3"], "Parameter 'lr' is both set (--lr=1)"),
        (["--lr=1", "-p", "lr=choice(2,3)"], "Parameter 'lr' is both set (--lr=1)"),
        (["-p", "lr=logspace(1,2,-3)"], "Invalid logspace(1, 2, -3)"),
        (["-p", "lr=logspace(1,1000,3)"], "does not fit in a float"),
        (["--sweep", "bs=range(0,10**9)"], "argument '10**9' is not a literal value"),
        (["--sweep", "opt='a,c"], "the quote ' at position 1 is not closed"),
        (["--sweep", "opt=[a,c"], "the '[' is not closed"),
    ],
)
def test_bad_sweep_input_exits_2_with_one_line_and_no_run(args: list[str], message: str, train: Path,
                                                         root: Path) -> None:  # fmt: skip
    for dry_run in (["--dry-run"], []):
        result = CliRunner().invoke(cli, ["--root", str(root), "run", str(train), *args, *dry_run])
        assert result.exit_code == 2, result.output
        assert message in result.output and "<ast." not in result.output
        assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output
        assert not root.exists() or (not Store(root).runs() and not (root / ".runlab" / "sweeps").exists())


@pytest.mark.skipif(sys.platform != "linux", reason="address-space limit (RLIMIT_AS) as on Linux")
@pytest.mark.parametrize("args", [["--sweep", "bs=range(0,1000000000)"], ["-p", "lr=linspace(1,2,100000000)"]])
def test_a_huge_sweep_is_refused_within_a_small_memory_limit(args: list[str], train: Path, root: Path) -> None:
    import resource

    def limit() -> None:  # 1.5 GB: the review's commands needed 6.6 GB and 24 GB
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))

    env = {**os.environ, "RUNLAB_ROOT": str(root)}
    done = subprocess.run([sys.executable, "-m", "runlab", "run", str(train), *args, "--dry-run"], env=env,
                          capture_output=True, text=True, preexec_fn=limit, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "more than the limit of 100,000 runs per sweep" in done.stderr and "MemoryError" not in done.stderr


SWEEP_YML = 'sweep:\n  lr: "linspace(0, 1, 1000)"\n'


@pytest.mark.parametrize(
    ("argvs", "message"),
    [
        (sweep_argv([], ["bs=range(101)"]), "The sweep makes 101,000 runs (configs from files: 1,000 x command-line"),
        (sweep_argv([], ["lr=1,2"]), "Parameter 'lr' is swept by"),
        ([["--lr=3"]], "Parameter 'lr' is swept by"),
        ([["-p", "lr=3"], ["-p", "lr=4"]], "also given on the command line (lr=3)"),
        ([["--allow-new", "--set", "lr.x=3"]], "Parameter 'lr.x' is swept by"),
    ],
)
def test_config_file_sweeps_and_the_command_line(argvs: list[list[str]], message: str, train: Path,
                                                 tmp_path: Path) -> None:  # fmt: skip
    config = tmp_path / "sweep.yml"
    config.write_text(SWEEP_YML)
    with pytest.raises(UsageError) as info:
        build_requests(train, argvs, [config])
    assert message in str(info.value)
    assert "configs from files" in message or str(config) in str(info.value)


def test_config_file_sweeps_and_other_command_line_values_multiply(train: Path, tmp_path: Path) -> None:
    config = tmp_path / "sweep.yml"
    config.write_text('sweep:\n  lr: "linspace(0, 1, 3)"\n')
    requests = build_requests(train, sweep_argv(["--opt=sgd"], ["bs=1,2"]), [config])
    assert [(r.params["lr"], r.params["bs"], r.params["opt"]) for _, r in requests] == [
        (lr, bs, "sgd") for lr in (0.0, 0.5, 1.0) for bs in (1, 2)
    ]


@pytest.mark.parametrize("dry", [True, False])
def test_a_swept_config_value_that_does_not_fit_a_scripts_global_is_refused(tmp_path: Path, train: Path,
                                                                             dry: bool) -> None:  # fmt: skip
    config = tmp_path / "sweep.yml"
    config.write_text("sweep:\n  lr: [abc, 0.1]\n")
    root = tmp_path / "runs"
    args = ["--root", str(root), "run", str(train), "-c", str(config), *(["--dry-run"] if dry else [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "Invalid value for 'lr': 'abc' is not a valid float" in result.output
    assert not root.exists() or Store(root).runs() == []


def test_a_sweep_over_an_entry_points_arguments_passes_and_records_them(tmp_path: Path) -> None:
    tools = tmp_path / "tools.py"
    tools.write_text('def evaluate(checkpoint="last.pt", k=1):\n    return f"{checkpoint}-{k}"\n')
    root = tmp_path / "runs"
    args = ["--root", str(root), "run", f"{tools}:evaluate", "--sweep", "k=1,2", "-p", "checkpoint=x.pt"]
    args += ["-x", "inline"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    runs = Store(root).runs()
    assert sorted((r.params["k"], r.data["result"]) for r in runs) == [(1, "x.pt-1"), (2, "x.pt-2")]
    assert {r.params["checkpoint"] for r in runs} == {"x.pt"}


@pytest.mark.parametrize(("sweep", "distinct"), [("X=1,1,2", 2), ("X=1,1.0", 1)])
def test_repeated_sweep_values_are_said_not_silently_merged(tmp_path: Path, sweep: str, distinct: int) -> None:
    """`--sweep X=1,1,2` ran 2 runs and said "2 run(s)" with no word about the repeated value."""
    (tmp_path / "e.py").write_text("X = 1\n\n\ndef main():\n    return X\n")
    out = subprocess.run([sys.executable, "-m", "runlab", "run", "e.py", "--sweep", sweep, "--dry-run", "--root", "r"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"{distinct} distinct configs, each run once" in out.stderr and f"{distinct} run(s)" in out.stdout
