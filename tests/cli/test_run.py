"""``runlab run`` and ``runlab rerun``: every experiment style, exit codes, bad input, reruns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import runlab
from runlab.cli._main import _register, cli

REPO = Path(__file__).resolve().parents[2]
STYLES = REPO / "examples" / "styles"
RUNLAB = [sys.executable, "-m", "runlab"]
LIFECYCLE = [
    "before_experiment_initialize",
    "after_experiment_initialize",
    "before_run",
    "after_run",
    "after_experiment_finalize",
]

_register()


def runlab_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUNLAB, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120
    )


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def all_runs(root: Path) -> list[runlab.RunRecord]:
    from tests.conftest import forget_stores

    forget_stores()
    return list(runlab.runs(root=root)) if root.exists() else []


@pytest.mark.parametrize("style", ["functional", "context", "script"])
def test_each_style_runs_and_prints_its_run(root: Path, style: str) -> None:
    out = runlab_cli("run", str(STYLES / f"{style}.py"), "--root", str(root), "--tag", "demo")
    assert out.returncode == 0, out.stderr
    [line] = [ln for ln in out.stdout.splitlines() if ln.startswith("run ")]
    _, run_id, status, folder = line.split(maxsplit=3)
    assert status == "completed" and Path(folder).is_dir()
    [record] = all_runs(root)
    assert record.id == run_id and "demo" in record.tags
    assert "fitted y = " in (Path(folder) / "out.log").read_text()
    if style == "functional":
        assert record.params["LEARNING_RATE"] == 0.5 and record.data["fit"]["w"] == pytest.approx(2, abs=0.05)
        assert record.summaries["loss"].count == 60
    elif style == "context":
        assert record.params["learning_rate"] == 0.5 and record.summaries["loss"].count == 60
    else:
        assert record.params["learning_rate"] == 0.5
        assert record.data["result"]["w"] == pytest.approx(2, abs=0.05)


def test_overrides_are_typed_for_each_style(root: Path) -> None:
    assert invoke("--root", str(root), "run", str(STYLES / "functional.py"), "--EPOCHS", "3").exit_code == 0
    assert (
        invoke("--root", str(root), "run", str(STYLES / "script.py"), "--epochs=4", "-p", "learning_rate=0.2").exit_code
        == 0
    )
    by_ns = {r.namespace: r for r in all_runs(root)}
    assert by_ns["functional"].params["EPOCHS"] == 3 and by_ns["functional"].summaries["loss"].count == 3
    assert by_ns["script"].params["epochs"] == 4 and by_ns["script"].params["learning_rate"] == 0.2


TRACE_PLUGIN = """
import os
from runlab.plugins import Plugin, hook

def _note(name, experiment):
    with open(os.environ["TRACE_FILE"], "a") as f:
        f.write(f"{name} {type(experiment).__name__}\\n")

class Trace(Plugin):
    version = "1"
""" + "".join(
    f"""
    @hook("{name}")
    def h_{name}(self, experiment=None):
        _note("{name}", experiment)
"""
    for name in LIFECYCLE
)


def test_every_style_fires_the_same_hooks_in_the_same_order(tmp_path: Path, root: Path) -> None:
    project = tmp_path / "project"
    (project / ".runlab" / "plugins").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / ".runlab" / "plugins" / "trace.py").write_text(TRACE_PLUGIN)
    seen = {}
    for style in ("functional", "context", "script"):
        trace = tmp_path / f"{style}.trace"
        env = {"TRACE_FILE": str(trace), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
        out = runlab_cli("run", str(STYLES / f"{style}.py"), "--root", str(root), cwd=project, env=env)
        assert out.returncode == 0, out.stderr
        seen[style] = [line.split()[0] for line in trace.read_text().splitlines()]
    assert seen["functional"] == seen["context"] == seen["script"] == LIFECYCLE
    # a context block run by plain python fires them too
    trace = tmp_path / "plain.trace"
    plain = subprocess.run(
        [sys.executable, str(STYLES / "context.py")], capture_output=True, text=True, cwd=project,
        env={**os.environ, "TRACE_FILE": str(trace), "RUNLAB_ROOT": str(root), "XDG_CONFIG_HOME": str(tmp_path / "x")},
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert [line.split()[0] for line in trace.read_text().splitlines()] == LIFECYCLE


def test_exit_codes_follow_the_final_state(tmp_path: Path, root: Path) -> None:
    failing = tmp_path / "failing.py"
    failing.write_text("def main():\n    raise ValueError('diverged at step 3')\n")
    out = runlab_cli("run", str(failing), "--root", str(root))
    assert out.returncode == 1
    assert "ValueError: diverged at step 3" in out.stderr and "Traceback" in out.stderr
    assert " failed " in out.stdout
    cancelling = tmp_path / "cancelling.py"
    cancelling.write_text("import runlab\nwith runlab.run():\n    runlab.cancel('not needed')\n")
    out = runlab_cli("run", str(cancelling), "--root", str(root))
    assert out.returncode == 130 and " cancelled " in out.stdout
    states = sorted((r.namespace, r.status) for r in all_runs(root))
    assert states == [("cancelling", "cancelled"), ("failing", "failed")]


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    script = _write(tmp_path / "fit.py", "learning_rate = 0.1\nepochs = 3\ndef main():\n    return epochs\n")
    broken = _write(tmp_path / "broken.py", "x = 1\ndef main(:\n    pass\n")
    notes = _write(tmp_path / "notes.txt", "hello")
    plain = _write(tmp_path / "plain.py", "X = 1\n")
    sub = _write(
        tmp_path / "sub.py",
        f"""
        from runlab import Experiment
        experiment = Experiment.extend({str(plain)!r}, glob=globals())
        experiment.run_if_main()
        """,
    )
    return {
        "No such file": ["run", str(tmp_path / "missing.py")],
        "expected a Python file": ["run", str(notes)],
        "line 2": ["run", str(broken)],
        "Unknown parameter 'learning_rat'": ["run", str(script), "--learning_rat=0.1"],
        "epochs": ["run", str(script), "--epochs=many"],
        "nope": ["run", str(script), "--entrypoint", "nope"],
        "defines no experiment": ["run", str(sub)],
        "Unknown parameter 'EPOCH'": ["run", str(STYLES / "functional.py"), "--EPOCH=3"],
        "No run matches": ["rerun", "ffffffff"],
        "is not UTF-8 text (byte 0, line 1)": ["run", str(script), "-c", str(_bytes(tmp_path / "b.yml", b"\xff\xfe"))],
        "Invalid Dask scheduler address 'notaurl'": ["run", str(script), "--dask-scheduler", "notaurl"],
        "Invalid Dask scheduler address 'tcp://host:x'": ["run", str(script), "--dask-scheduler", "tcp://host:x"],
        "--dask-scheduler applies to the dask executor; -x inline": [
            *("run", str(script), "-x", "inline", "--dask-scheduler", "tcp://a:1")
        ],
    }


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("args", [["run", "fit.py"], ["list"], ["sweep", "list"], ["show", "abc"],
                                  ["run", "fit.py", "--sweep", "epochs=1,2"]])  # fmt: skip
@pytest.mark.parametrize("where", ["afile", "afile/sub"])
def test_a_store_root_that_is_a_file_is_refused_in_one_line(tmp_path: Path, args: list[str], where: str) -> None:
    _write(tmp_path / "fit.py", "epochs = 3\ndef main():\n    return epochs\n")
    (tmp_path / "afile").write_text("not a folder")
    out = runlab_cli("--root", str(tmp_path / where), *args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    expected = f"Error: The store folder {tmp_path / where} cannot be used: {tmp_path / 'afile'} is a file."
    assert out.stderr.startswith(expected) and out.stderr.count("\n") == 1, out.stderr
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_bad_input_exits_2_with_one_line_and_leaves_no_run(root: Path, bad_inputs: dict[str, list[str]]) -> None:
    for message, args in bad_inputs.items():
        result = CliRunner().invoke(cli, ["--root", str(root), *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (message, result.output)
        assert "Traceback" not in result.output
        assert [r.status for r in all_runs(root)] == [], args


def test_bad_input_as_a_subprocess(root: Path, bad_inputs: dict[str, list[str]]) -> None:
    out = runlab_cli(*bad_inputs["line 2"], "--root", str(root))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "line 2" in out.stderr


def test_rerun_keeps_the_parameters_applies_overrides_and_links_the_original(root: Path) -> None:
    assert (
        invoke(
            "--root", str(root), "run", str(STYLES / "functional.py"), "--EPOCHS=5", "--LEARNING_RATE=0.05"
        ).exit_code
        == 0
    )
    [first] = all_runs(root)
    result = invoke("--root", str(root), "rerun", first.id, "--EPOCHS=7")
    assert result.exit_code == 0, result.output
    second = next(r for r in all_runs(root) if r.id != first.id)
    assert second.params["EPOCHS"] == 7 and second.params["LEARNING_RATE"] == 0.05
    assert second.metadata["rerun_of"] == first.id and second.summaries["loss"].count == 7
    shown = invoke("--root", str(root), "show", second.id).output  # type: ignore[attr-defined]
    assert f"rerun of      {first.id}" in shown and "functional.py (functional)" in shown


@pytest.mark.parametrize(("style", "param"), [("script", "epochs"), ("context", "epochs")])
def test_rerun_of_scripts_and_context_blocks(root: Path, style: str, param: str) -> None:
    out = runlab_cli("run", str(STYLES / f"{style}.py"), "--root", str(root))
    assert out.returncode == 0, out.stderr
    [first] = all_runs(root)
    out = runlab_cli("rerun", first.id, f"--{param}=4", "--root", str(root))
    assert out.returncode == 0, out.stderr
    second = next(r for r in all_runs(root) if r.id != first.id)
    assert second.params[param] == 4 and second.params["learning_rate"] == 0.5
    assert second.metadata["rerun_of"] == first.id
    if style == "context":
        assert second.summaries["loss"].count == 4  # the block read the rerun's value


@pytest.mark.parametrize("style", ["script", "functional"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_float_parameter_survives_a_rerun(tmp_path: Path, root: Path, style: str, value: str) -> None:
    """``-p LR=nan`` was recorded as null: the run's record showed no value and a rerun ran with LR=None."""
    body = "print('LR', repr(LR))" if style == "script" else "print('LR', repr(e.LR))"
    code = (
        f"LR = 0.1\n\ndef main():\n    {body}\n"
        if style == "script"
        else "from runlab import Experiment\n\nLR = 0.1\nexperiment = Experiment(glob=globals())\n\n\n"
        f"@experiment\ndef main(e):\n    {body}\n\n\nexperiment.run_if_main()\n"
    )
    (tmp_path / "exp.py").write_text(code)
    first = runlab_cli("run", str(tmp_path / "exp.py"), "-p", f"LR={value}", "--root", str(root))
    assert first.returncode == 0 and f"LR {float(value)!r}" in first.stdout, first.stdout + first.stderr
    [record] = all_runs(root)
    assert record.metadata["params"]["LR"]["value"] == {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[value]
    again = runlab_cli("rerun", record.id, "--root", str(root))
    assert again.returncode == 0 and f"LR {float(value)!r}" in again.stdout, again.stdout + again.stderr


def test_rerun_of_a_run_without_an_experiment_file_is_refused(root: Path) -> None:
    with runlab.start_run(root=root, capture=False) as run:
        pass
    result = CliRunner().invoke(cli, ["--root", str(root), "rerun", run.id])
    assert result.exit_code == 2 and "cannot be rerun" in result.output


def test_a_sweep_config_gives_one_run_per_config(tmp_path: Path, root: Path) -> None:
    sweep = tmp_path / "sweep.yml"
    sweep.write_text("sweep:\n  learning_rate: [0.05, 0.1]\n  epochs: [2, 3]\n")
    result = invoke("--root", str(root), "run", str(STYLES / "script.py"), "-c", str(sweep))
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("run ") for line in result.output.splitlines()) == 4
    combos = sorted((r.params["learning_rate"], r.params["epochs"]) for r in all_runs(root))
    assert combos == [(0.05, 2), (0.05, 3), (0.1, 2), (0.1, 3)]


def test_json_listing_after_runs(root: Path) -> None:
    assert invoke("--root", str(root), "run", str(STYLES / "script.py")).exit_code == 0
    listed = json.loads(CliRunner().invoke(cli, ["--root", str(root), "list", "-f", "json"]).output)
    assert [r["namespace"] for r in listed] == ["script"]


def test_ctrl_c_cancels_the_run_and_exits_130(tmp_path: Path, root: Path) -> None:
    import signal
    import time

    script = _write(
        tmp_path / "sleepy.py", "import time\ndef main():\n    print('sleeping', flush=True)\n    time.sleep(60)\n"
    )
    # the child handles Ctrl-C also when this test runs as a background job (SIGINT inherited as ignored)
    proc = subprocess.Popen([*RUNLAB, "run", str(script), "--root", str(root)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "sleeping"  # the run is under way
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130 and " cancelled " in out
    assert [r.status for r in all_runs(root)] == ["cancelled"]


def test_a_runlab_error_raised_in_the_users_code_fails_its_run_with_exit_1(tmp_path: Path, root: Path) -> None:
    """Exit 2 means nothing ran: a runlab error inside a run (runlab.inputs() outside a workflow) is the
    run's failure, reported with the run line."""
    script = _write(tmp_path / "inp.py", "import runlab\ndef main():\n    return runlab.inputs()\n")
    out = runlab_cli("--root", str(root), "run", str(script))
    assert out.returncode == 1, out.stderr
    [run] = all_runs(root)
    assert run.status == "failed" and out.stdout.startswith(f"run {run.id} failed")
    assert "runlab.inputs() reads a workflow step's dependencies" in out.stderr


def test_rerun_of_a_run_whose_record_is_damaged_says_so_in_one_line(tmp_path: Path, root: Path) -> None:
    script = _write(tmp_path / "fit.py", "epochs = 3\ndef main():\n    return epochs\n")
    assert runlab_cli("--root", str(root), "run", str(script)).returncode == 0
    [run] = all_runs(root)
    record = run.path / "run.json"
    record.write_bytes(record.read_bytes()[:100])
    out = runlab_cli("--root", str(root), "rerun", run.id)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1 and f"The record (run.json) of run {run.id} is damaged" in out.stderr
    assert len(all_runs(root)) == 1


@pytest.mark.parametrize(("file", "namespace"), [("a b.py", "a_b"), ("é.py", "e"), (".hidden.py", "_hidden"),
                                                 ("exp:v2.py", "exp_v2")])  # fmt: skip
@pytest.mark.parametrize("style", ["script", "functional"])
def test_a_file_name_that_is_no_namespace_still_names_the_runs_folder(tmp_path: Path, root: Path, file: str,
                                                                       namespace: str, style: str) -> None:  # fmt: skip
    text = (STYLES / "functional.py").read_text() if style == "functional" else "x = 1\ndef main():\n    return x\n"
    path = tmp_path / file
    path.write_text(text)
    out = runlab_cli("--root", str(root), "run", str(path))
    assert out.returncode == 0, out.stderr
    [run] = all_runs(root)
    assert run.namespace == namespace and run.path.parent == root / namespace


@pytest.mark.parametrize(("config", "expected"), [
    ("parameters:\n  lr: abc\n", "Invalid value for 'lr': 'abc' is not a valid float"),
    ("parameters:\n  lr: '0.25'\n  bs: 3\n", {"lr": 0.25, "bs": 3}),
    ("parameters:\n  bs: 2.5\n", "Invalid value for 'bs': 2.5 is not a valid int"),
    ("extend: fit.py\nparameters:\n  lr: abc\n", "Invalid value for 'lr'"),
])  # fmt: skip
def test_a_config_sets_a_plain_scripts_globals_typed_as_p_does(tmp_path: Path, root: Path, config: str,
                                                                expected: object) -> None:  # fmt: skip
    script = _write(tmp_path / "fit.py", "lr = 0.1\nbs = 16\ndef main():\n    return lr * bs\n")
    path = _write(tmp_path / "c.yml", config)
    args = ["run", str(path)] if config.startswith("extend") else ["run", str(script), "-c", str(path)]
    result = CliRunner().invoke(cli, ["--root", str(root), *args])
    if isinstance(expected, str):
        assert result.exit_code == 2 and expected in result.output, result.output
        assert all_runs(root) == []  # refused before the run was made
        return
    assert result.exit_code == 0, result.output
    [run] = all_runs(root)
    assert {k: run.params[k] for k in expected} == expected  # type: ignore[attr-defined]
    assert run.data["result"] == 0.75


def test_bad_input_found_after_a_run_is_one_line_after_that_runs_line(tmp_path: Path, root: Path) -> None:
    """A config generator's second config is bad: the first run stands (listed), the error is one line, exit 2."""
    script = _write(tmp_path / "fit.py", "lr = 0.1\ndef main():\n    return lr\n")
    gen = _write(tmp_path / "gen.py", """
        from runlab.params import Config
        def config_gen():
            yield Config(globals_dict={"lr": 0.2})
            yield Config(globals_dict={"lr": "abc"})
        """)  # fmt: skip
    out = runlab_cli("--root", str(root), "run", str(script), "-c", str(gen))
    assert out.returncode == 2, (out.stdout, out.stderr)
    [run] = all_runs(root)
    assert run.status == "completed" and out.stdout.startswith(f"run {run.id} completed")
    assert out.stderr.startswith("Error: Invalid value for 'lr': 'abc'") and "Traceback" not in out.stderr
