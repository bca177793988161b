"""How runs start from files: bugs found in the experiment layer, each pinned by a test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli._main import _register, cli

from ..conftest import forget_stores

REPO = Path(__file__).resolve().parents[2]
RUNLAB = [sys.executable, "-m", "runlab"]

_register()


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def records(root: Path) -> list[runlab.RunRecord]:
    forget_stores()
    return list(runlab.runs(root=root)) if root.exists() else []


def test_an_async_main_function_is_run_to_its_end(tmp_path: Path) -> None:
    exp = runlab.Experiment(glob={"N": 3}, root=tmp_path / "s", namespace="async")

    @exp
    async def main(e: runlab.Experiment) -> int:
        import asyncio

        for i in range(e.N):
            await asyncio.sleep(0)
            e.track("x", i)
        e["done"] = True
        return 7

    run = exp.run()
    [rec] = records(tmp_path / "s")
    assert run.status == "completed" and rec.data == {"done": True, "x": [0, 1, 2]}  # tracked values join the data
    assert rec.metrics("x").values == [0, 1, 2]


def test_function_arguments_of_a_file_function_target_are_settable(tmp_path: Path) -> None:
    tools = write(
        tmp_path / "tools.py",
        """
        checkpoint = "global.pt"

        def evaluate(checkpoint: str = "last.pt", batch: int = 8):
            return f"{checkpoint}:{batch}"
        """,
    )
    root = tmp_path / "s"
    result = invoke("--root", str(root), "run", f"{tools}:evaluate", "-p", "checkpoint=best.pt", "--batch=16")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    [rec] = records(root)
    assert rec.data["result"] == "best.pt:16" and rec.params["checkpoint"] == "best.pt" and rec.params["batch"] == 16
    assert rec.metadata["origin"]["kwargs"] == {"checkpoint": "best.pt", "batch": 16}
    bad = CliRunner().invoke(cli, ["--root", str(root), "run", f"{tools}:evaluate", "--batch=many"])
    assert bad.exit_code == 2 and "batch" in bad.output
    helped = CliRunner().invoke(cli, ["run", "--help"]).output
    assert "tools.py:evaluate -p checkpoint=best.pt" in helped and "--allow-new" in helped


def test_a_name_given_to_runlab_run_inside_a_started_script_is_kept(tmp_path: Path) -> None:
    script = write(
        tmp_path / "ctx.py",
        """
        import runlab

        with runlab.run(params={"a": 1}, name="inner-name"):
            runlab.log_results({"a": runlab.get_param("a")})
        """,
    )
    root = tmp_path / "s"
    assert invoke("--root", str(root), "run", str(script)).exit_code == 0  # type: ignore[attr-defined]
    named = invoke("--root", str(root), "run", str(script), "--name", "cli-name")
    assert named.exit_code == 0  # type: ignore[attr-defined]
    assert sorted(r.name or "" for r in records(root)) == ["cli-name", "inner-name"]  # the command's name wins


@pytest.mark.parametrize("style", ["functional", "script"])
def test_a_config_namespace_applies_to_every_style(tmp_path: Path, style: str) -> None:
    config = write(tmp_path / "myconfig.yml", "namespace: from-config\nparameters:\n  {}: 3\n".format(
        "EPOCHS" if style == "functional" else "epochs"))  # fmt: skip
    root = tmp_path / "s"
    result = invoke("--root", str(root), "run", str(REPO / "examples" / "styles" / f"{style}.py"), "-c", str(config))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    [rec] = records(root)
    assert rec.namespace == "from-config"
    given = invoke("--root", str(root), "run", str(REPO / "examples/styles" / f"{style}.py"), "-c", str(config),
                   "-n", "x")  # fmt: skip
    assert given.exit_code == 0  # type: ignore[attr-defined]
    assert {r.namespace for r in records(root)} == {"from-config", "x"}


@pytest.mark.parametrize(
    ("script", "config"),
    [
        ("examples/scripts/train.py", "examples/configs/sweep_config.py"),
        ("examples/scripts/hello.py", "examples/configs/hello_config.py"),
        ("examples/styles/functional.py", None),
    ],
)
def test_config_check_knows_what_runlab_run_accepts(tmp_path: Path, script: str, config: str | None) -> None:
    if config is None:
        config_file = write(tmp_path / "c.yml", "parameters:\n  EPOCHS: 3\n  learning_rate: 0.1\n")
    else:
        config_file = REPO / config
    result = CliRunner().invoke(cli, ["config", "check", str(REPO / script), "-c", str(config_file)])
    if config is None:  # a functional experiment's parameters are its UPPERCASE globals
        assert result.exit_code == 1 and "'learning_rate' is not a parameter" in result.output
    else:
        assert result.exit_code == 0, result.output


def test_a_config_generator_is_asked_for_each_config_after_the_previous_run(tmp_path: Path) -> None:
    """KohakuEngine's resume pattern: each config reads the checkpoint the previous run wrote."""
    write(
        tmp_path / "gen.py",
        """
        from pathlib import Path
        from runlab import Config

        def config_gen():
            for _ in range(3):
                ckpt = Path("ckpt.txt")
                yield Config(globals_dict={"start": int(ckpt.read_text()) if ckpt.exists() else 0})
        """,
    )
    script = write(
        tmp_path / "resume.py",
        """
        from pathlib import Path
        start = 0

        def main():
            Path("ckpt.txt").write_text(str(start + 10))
            return start
        """,
    )
    root = tmp_path / "s"
    result = invoke("--root", str(root), "run", str(script), "-c", str(tmp_path / "gen.py"))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert sorted(r.params["start"] for r in records(root)) == [0, 10, 20]
    (tmp_path / "ckpt.txt").unlink()
    runs = runlab.run_script(script, str(tmp_path / "gen.py"), root=tmp_path / "s2", capture=False)
    assert [r.params["start"] for r in runs] == [0, 10, 20]


def test_runlab_fail_records_an_error_type(tmp_path: Path) -> None:
    with runlab.run(root=tmp_path / "s") as run:
        runlab.fail("diverged")
    [rec] = records(tmp_path / "s")
    assert run.status == "failed" and rec.metadata["error"]["type"] == "Failed"
    listed = CliRunner().invoke(cli, ["--root", str(tmp_path / "s"), "list", "-c", "id,error"]).output
    assert "Failed" in listed


def test_a_failed_run_shows_the_users_frames_only(tmp_path: Path) -> None:
    script = write(
        tmp_path / "boom.py",
        "def helper():\n    raise ValueError('bad value')\n\n\ndef main():\n    helper()\n",
    )
    out = subprocess.run([*RUNLAB, "run", str(script), "--root", str(tmp_path / "s")], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 1 and "ValueError: bad value" in out.stderr
    frames = [ln for ln in out.stderr.splitlines() if ln.strip().startswith("File ")]
    assert frames and all("boom.py" in ln for ln in frames), out.stderr
    debug = subprocess.run([*RUNLAB, "--debug", "run", str(script), "--root", str(tmp_path / "s")],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "runlab" + os.sep + "experiment" in debug.stderr  # all frames with --debug


def test_running_the_analysis_example_leaves_the_work_tree_clean(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    example = (REPO / "examples/functional/testing_analysis.py").read_text()
    (work / "testing_analysis.py").write_text(example)
    subprocess.run(["git", "-C", str(work), "add", "."], check=True)
    out = subprocess.run([sys.executable, "testing_analysis.py", "--__TESTING__=true"], cwd=work,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    status = subprocess.run(["git", "-C", str(work), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.strip() == "A  testing_analysis.py"  # run folders are ignored
    [analysis] = list((work / "runs").rglob("analysis.py"))
    ruff = Path(sys.executable).parent / "ruff"
    lint = subprocess.run([str(ruff), "check", "--no-respect-gitignore", "--config", str(REPO / "pyproject.toml"),
                           str(analysis)], capture_output=True, text=True)  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    assert "import random" not in analysis.read_text()  # imports the analysis does not use are left out


def test_rerun_of_one_run_of_a_config_sweep_makes_one_run(tmp_path: Path) -> None:
    """The rerun's request carries the run's own values (typed), not the whole sweep of its config file."""
    sweep = write(
        tmp_path / "sweep.yml",
        f"extend: {REPO / 'examples/styles/functional.py'}\nparameters:\n  POINTS: 5\nsweep:\n  EPOCHS: [2, 3]\n",
    )
    root = tmp_path / "s"
    assert invoke("--root", str(root), "run", str(sweep)).exit_code == 0  # type: ignore[attr-defined]
    first = next(r for r in records(root) if r.params["EPOCHS"] == 3)
    result = invoke("--root", str(root), "rerun", first.id, "--POINTS=7")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    [again] = [r for r in records(root) if r.metadata["rerun_of"] == first.id]
    assert len(records(root)) == 3 and again.params["EPOCHS"] == 3 and again.params["POINTS"] == 7
    assert again.metadata["origin"]["via"] == "runlab rerun" and again.metadata["origin"]["config"] == str(sweep)
