"""``runlab run`` sweeps from the command line, ``runlab sweep list|show``, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runlab.cli._main import _register, cli
from runlab.store import Store

REPO = Path(__file__).resolve().parents[2]
FUNCTIONAL = REPO / "examples" / "styles" / "functional.py"

SCRIPT = """\
X = 1
MODE = "ok"

def main():
    import runlab
    if MODE == "fail":
        raise ValueError(f"boom {X}")
    runlab.log_results({"score": X * 10})
    return X
"""

_register()


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "exp.py"
    path.write_text(SCRIPT)
    return path


def test_sweep_from_the_command_line_is_recorded_and_shown(script: Path, root: Path) -> None:
    result = invoke("--root", str(root), "run", str(script), "--sweep", "X=1,2,3", "-p", "MODE=choice('ok', 'fail')",
                    "-j", "2")  # fmt: skip
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("run ")]  # type: ignore[attr-defined]
    assert [line[2] for line in lines] == ["completed"] * 3 + ["failed"] * 3  # -p axes first, then --sweep
    assert "failed (" in result.stderr and "ValueError: boom 1" in result.stderr  # type: ignore[attr-defined]
    runs = Store(root).runs()
    [sweep_id] = {r.sweep for r in runs}
    assert sweep_id and len(runs) == 6
    listed = json.loads(invoke("--root", str(root), "sweep", "list", "-f", "json").output)  # type: ignore[attr-defined]
    assert listed[0]["id"] == sweep_id and listed[0]["state"] == "failed" and listed[0]["total"] == 6
    shown = invoke("--root", str(root), "sweep", "show", sweep_id[:5], "--sort", "-score", "-f", "json")
    rows = json.loads(shown.output)  # type: ignore[attr-defined]
    completed = [row for row in rows if row["status"] == "completed"]
    assert [row["params.X"] for row in completed] == [3, 2, 1]  # sorted by the metric, best first
    assert [row["metrics.score"] for row in completed] == [30, 20, 10]
    where = invoke("--root", str(root), "list", "--where", f"sweep == '{sweep_id}'", "-f", "json")
    assert len(json.loads(where.output)) == 6  # type: ignore[attr-defined]
    table = invoke("--root", str(root), "sweep", "show", sweep_id).output  # type: ignore[attr-defined]
    assert f"sweep {sweep_id}" in table and "3 completed, 3 failed" in table and "X=1,2,3" in table


@pytest.mark.parametrize(("sort", "expected"), [
    ("-score", [30, 20, 10]),
    ("score", [10, 20, 30]),
    ("+metrics.score", [10, 20, 30]),
    ("-params.X", [30, 20, 10]),
    ("status", None),  # a run field, not a metric 'status'
    ("-", "Invalid sort '-'"),
    ("--score", "Invalid sort '--score'"),
    ("scroe", "No run here has the metric 'scroe' to sort by; they have: result, score"),
])  # fmt: skip
def test_sweep_show_sort_keys(script: Path, root: Path, sort: str, expected: object) -> None:
    assert invoke("--root", str(root), "run", str(script), "--sweep", "X=1,2,3").exit_code == 0  # type: ignore[attr-defined]
    [sweep_id] = {r.sweep for r in Store(root).runs()}
    shown = invoke("--root", str(root), "sweep", "show", sweep_id, "--sort", sort, "-f", "json")
    if isinstance(expected, str):
        assert shown.exit_code == 2 and expected in shown.output, shown.output  # type: ignore[attr-defined]
        return
    assert shown.exit_code == 0, shown.output  # type: ignore[attr-defined]
    rows = json.loads(shown.output)  # type: ignore[attr-defined]
    if expected is not None:
        assert [row["metrics.score"] for row in rows] == expected
    assert all(not key.startswith("metrics.status") for key in rows[0])


def test_the_same_command_again_resumes(script: Path, root: Path) -> None:
    args = ("--root", str(root), "run", str(script), "--sweep", "X=1,2")
    assert invoke(*args).exit_code == 0  # type: ignore[attr-defined]
    again = invoke(*args)
    assert again.exit_code == 0 and "0 run(s) (2 skipped: 2 already completed)" in again.stderr  # type: ignore[attr-defined]
    assert len(Store(root).runs()) == 2
    mixed = ("--root", str(root), "run", str(script), "--sweep", "X=1,2,3", "-p", "MODE=choice('ok', 'fail')")
    assert invoke(*mixed).exit_code == 1  # type: ignore[attr-defined]
    resumed = invoke(*mixed)  # X=1,2 ok were done by the first command too (the same configs)
    assert "0 run(s) (6 skipped: 3 already completed, 3 failed before; --retry-failed" in resumed.stderr  # type: ignore[attr-defined]


def test_random_sampling_and_dry_run(script: Path, root: Path) -> None:
    result = invoke("--root", str(root), "run", str(script), "-p", "X=randint(1, 1000)", "--samples", "5",
                    "--seed", "3", "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "5 run(s)" in result.output and "dry run" in result.output  # type: ignore[attr-defined]
    assert (not (root / ".runlab" / "sweeps").exists() and not root.exists()) or len(Store(root).runs()) == 0


def test_a_functional_experiment_sweeps_inline(root: Path) -> None:
    result = invoke("--root", str(root), "run", str(FUNCTIONAL), "--sweep", "LEARNING_RATE=0.1,0.5", "--EPOCHS=5",
                    "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    runs = Store(root).runs()
    assert sorted(r.params["LEARNING_RATE"] for r in runs) == [0.1, 0.5]
    assert {r.params["EPOCHS"] for r in runs} == {5} and len({r.sweep for r in runs}) == 1


def test_a_config_file_sweep_is_a_recorded_sweep(script: Path, tmp_path: Path, root: Path) -> None:
    config = tmp_path / "sweep.yml"
    config.write_text("sweep:\n  X: [1, 2]\n  MODE: [ok]\n")
    result = invoke("--root", str(root), "run", str(script), "-c", str(config))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    runs = Store(root).runs()
    assert sorted(r.params["X"] for r in runs) == [1, 2] and len({r.sweep for r in runs}) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sweep", "X="], "NAME=v1,v2"),
        (["--sweep", "X=1,,2"], "no empty values"),
        (["-p", "X=logspace(1)"], "logspace"),
        (["-p", "X=uniform(0, 1)"], "--samples N"),
        (["--sweep", "X=a,b"], "'X'"),
        (["--sweep", "NOPE=1,2"], "Unknown parameter 'NOPE'"),
        (["--sweep", "X=1,2", "-x", "locl"], "Did you mean 'local'"),
        (["--sweep", "X=1,2", "--sweep-mode", "zip", "--sweep", "MODE=a,b,c"], "equal length"),
        (["--sweep", "X=1,2", "-j", "0"], "-j"),
        (["--sweep", "X=1,2", "--dask-scheduler", "tcp://127.0.0.1:9"], "does not answer"),
        (["--sweep", "X=1,2", "--partition", "gpu"], "--partition applies to the slurm executor"),
        (["--sweep", "X=1,2", "-x", "slurm"], "needs SLURM's 'sbatch'"),
        (["--seed", "3"], "write -p seed=3"),
        (["--time", "5"], "--time applies to the slurm executor"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_run(args: list[str], message: str, script: Path, root: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    (tmp_path / "pyproject.toml").write_text("[tool.runlab.executors.dask]\ntimeout = 1\n")
    result = CliRunner().invoke(cli, ["--root", str(root), "run", str(script), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not root.exists() or len(Store(root).runs()) == 0


def test_sweep_show_of_an_unknown_sweep(root: Path) -> None:
    result = CliRunner().invoke(cli, ["--root", str(root), "sweep", "show", "nope"])
    assert result.exit_code == 2 and "No sweep 'nope'" in result.output


def test_a_sweep_on_slurm_through_submitit_local(script: Path, tmp_path: Path, root: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.runlab.executors.slurm]\ncluster = "local"\npoll = 0.2\n')
    result = invoke("--root", str(root), "run", str(script), "--sweep", "X=1,2", "-x", "slurm", "--time", "5",
                    "--cpus", "1")  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    runs = Store(root).runs()
    assert sorted(r.params["X"] for r in runs) == [1, 2] and len({r.sweep for r in runs}) == 1
    assert (root / ".runlab" / "slurm").is_dir()  # submitit's job files live with the store


@pytest.mark.parametrize("damage", [b"[]", b"{not json", b'{"entries": 3}'])
def test_a_damaged_sweep_record_is_named_and_the_others_listed(script: Path, root: Path, damage: bytes) -> None:
    import subprocess
    import sys

    assert invoke("--root", str(root), "run", str(script), "--sweep", "X=1,2").exit_code == 0  # type: ignore[attr-defined]
    [good] = list((root / ".runlab" / "sweeps").glob("*.json"))
    bad = good.with_name("0badc0de.json")
    bad.write_bytes(damage)
    out = subprocess.run([sys.executable, "-m", "runlab", "--root", str(root), "sweep", "list"], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0 and good.stem in out.stdout, out.stdout
    assert out.stderr.startswith(f"runlab: Skipped the sweep record {bad}: it cannot be read"), out.stderr
    assert out.stderr.count("\n") == 1  # one line: no Python warning location
    shown = invoke("--root", str(root), "sweep", "show", bad.stem)
    assert shown.exit_code == 2 and f"Sweep record {bad} cannot be read" in shown.output  # type: ignore[attr-defined]


def test_sweep_list_of_a_store_folder_that_does_not_exist_says_so(tmp_path: Path) -> None:
    result = invoke("--root", str(tmp_path / "nope"), "sweep", "list")
    assert result.exit_code == 2 and "does not exist" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "nope").exists()
