"""``runlab optimize`` and ``runlab study``: every trial a run, failures, pruning, bad input, results."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import optuna
import pytest
from click.testing import CliRunner

import runlab
from runlab.cli._main import _register, cli
from runlab.store import Store

_register()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "optimize"

QUAD = """\
import math
import runlab

XV = 0.0
YV = 1
OPT = "a"
MODE = "ok"
experiment = runlab.Experiment(namespace="quad", glob=globals())


@experiment
def main(e):
    if MODE == "fail" and XV > 0:
        raise ValueError(f"boom {XV}")
    if MODE == "nan":
        return math.nan
    if MODE == "none":
        return None
    value = (e.XV - 2) ** 2 + e.YV + (0.5 if e.OPT == "b" else 0)
    e.track("score", value)
    return value


experiment.run_if_main()
"""

CURVE = """\
import math
import runlab

RATE = 0.5
experiment = runlab.Experiment(namespace="curve", glob=globals())


@experiment
def main(e):
    loss = 1.0
    for step in range(20):
        loss = math.exp(-e.RATE * step / 5) + 0.01
        e.track("val_loss", loss)
    return loss


experiment.run_if_main()
"""

SPACE_FN = """\
import runlab

LR = 0.1
LAYERS = 1
experiment = runlab.Experiment(namespace="dbr", glob=globals())


@experiment.search_space
def space(e, trial):
    return {"LR": trial.suggest_float("LR", 1e-4, 1.0, log=True), "LAYERS": trial.suggest_int("LAYERS", 1, 3)}


@experiment
def main(e):
    runlab.log_results({"acc": 1 - abs(e.LR - 0.01) - 0.01 * e.LAYERS, "cost": e.LAYERS * 2.0})
    return e.LR


experiment.run_if_main()
"""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def quad(tmp_path: Path) -> Path:
    path = tmp_path / "quad.py"
    path.write_text(QUAD)
    return path


def trials(root: Path, name: str) -> list[Any]:
    return list(runlab.study(name, root=root).study.get_trials())


def test_every_trial_is_a_run_linked_to_its_study(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "6", "--search", "XV=float(-5,5)",
                    "--search", "YV=int(0,2)", "--search", "OPT=choice(a,b)", "--seed", "1",
                    "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "best trial" in result.stdout
    study, runs = runlab.study("quad", root=root)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 6
    record = json.loads((root / ".runlab" / "studies" / "quad.json").read_text())
    assert len(runs) == 6 and {r.metadata["study"] for r in runs} == {"quad"}
    by_trial = {r.metadata["trial"]: r for r in runs}
    for t in study.trials:
        run = by_trial[t.number]
        assert record["runs"][str(t.number)] == [run.id]
        assert {k: run.params[k] for k in ("XV", "YV", "OPT")} == t.params  # the run ran the trial's values
        assert t.value == pytest.approx((t.params["XV"] - 2) ** 2 + t.params["YV"] + 0.5 * (t.params["OPT"] == "b"))
    assert (root / ".runlab" / "studies" / "quad.log").is_file()  # Optuna's JournalFileBackend
    assert sorted(record["runs"]) == [str(i) for i in range(6)] and record["directions"] == ["minimize"]
    assert len(Store(root).runs(where="study == 'quad'")) == 6
    journal = optuna.load_study(study_name="quad", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(root / ".runlab/studies/quad.log"))))  # fmt: skip
    assert len(journal.trials) == 6  # plain Optuna (and optuna-dashboard) read it


def test_continuing_a_study_adds_trials_with_new_numbers(quad: Path, root: Path) -> None:
    args = ["--root", str(root), "optimize", str(quad), "-n", "3", "--search", "XV=float(-5,5)", "--seed", "1",
            "-x", "inline"]  # fmt: skip
    assert invoke(*args).exit_code == 0
    assert invoke(*args).exit_code == 0
    study, runs = runlab.study("quad", root=root)
    assert [t.number for t in study.trials] == list(range(6))
    assert len({t.params["XV"] for t in study.trials}) == 6  # the continued sampler does not repeat itself
    assert sorted(r.metadata["trial"] for r in runs) == list(range(6))


def test_trials_run_in_parallel_processes(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "4", "--search", "XV=float(-5,5)", "-j", "2",
                    "--objective", "metrics.score", "--direction", "minimize")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("quad", root=root)
    pids = {r.metadata["heartbeat"]["pid"] for r in runs}
    assert os.getpid() not in pids  # each trial ran in a process of its own
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4 and len(runs) == 4
    for t in study.trials:
        [run] = [r for r in runs if r.metadata["trial"] == t.number]
        assert t.value == pytest.approx(run.summaries["score"].last)


@pytest.mark.parametrize(
    ("mode", "state", "error"),
    [
        ("fail", "FAIL", "ValueError: boom"),
        ("nan", "FAIL", "the objective value is NaN"),
        ("none", "FAIL", "the experiment returned None"),
    ],
)
def test_failures_make_fail_trials_and_the_study_goes_on(
    quad: Path, root: Path, mode: str, state: str, error: str
) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), f"--MODE={mode}", "-n", "4",
                    "--search", "XV=float(0.5,5)", "-x", "inline")  # fmt: skip
    assert result.exit_code == 1, result.output  # no trial completed
    assert "trial 0 failed" in result.stderr and error in result.stderr
    ts = trials(root, "quad")
    assert [t.state.name for t in ts] == [state] * 4  # all four ran
    assert all(error in t.user_attrs["runlab.error"] for t in ts)
    runs = runlab.study("quad", root=root).runs
    assert sorted(r.metadata["trial"] for r in runs) == [0, 1, 2, 3]  # each is still a run in the store


def test_a_failing_run_among_good_ones(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "--MODE=fail", "-n", "8", "--search",
                    "XV=float(-5,5)", "--seed", "2", "-x", "inline")  # fmt: skip
    assert result.exit_code == 0
    states = {t.state.name for t in trials(root, "quad")}
    assert states == {"COMPLETE", "FAIL"}
    runs = Store(root).runs()
    assert {str(r.status) for r in runs} == {"completed", "failed"} and len(runs) == 8


def test_repeats_run_each_config_k_times_and_report_the_mean(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "2", "--repeats", "3", "--search",
                    "XV=float(-5,5)", "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("quad", root=root)
    assert len(runs) == 6
    for t in study.trials:
        assert sum(r.metadata["trial"] == t.number for r in runs) == 3
        assert t.value == pytest.approx((t.params["XV"] - 2) ** 2 + 1)


def test_define_by_run_space_and_multi_objective_pareto_front(tmp_path: Path, root: Path) -> None:
    path = tmp_path / "dbr.py"
    path.write_text(SPACE_FN)
    result = invoke("--root", str(root), "optimize", str(path), "-n", "6", "--objective", "metrics.acc",
                    "--objective", "metrics.cost", "--direction", "maximize", "--direction", "minimize",
                    "--seed", "0", "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "pareto front" in result.stdout
    study, runs = runlab.study("dbr", root=root)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"] and len(runs) == 6
    assert all(set(t.params) == {"LR", "LAYERS"} for t in study.trials)
    best = json.loads(invoke("--root", str(root), "study", "best", "dbr", "-f", "json").stdout)
    assert isinstance(best, list) and {b["trial"] for b in best} == {t.number for t in study.best_trials}
    report = invoke("--root", str(root), "study", "report", "dbr", "-o", str(tmp_path / "rep"))
    assert report.exit_code == 0 and "Pareto front" in (tmp_path / "rep" / "index.html").read_text()


def test_config_search_section(quad: Path, tmp_path: Path, root: Path) -> None:
    config = tmp_path / "search.yml"
    config.write_text(f"extend: {quad.name}\nparameters:\n  YV: 0\nsearch:\n  XV: {{float: [1, 3]}}\n"
                      "  OPT: {choice: [a, b]}\n")  # fmt: skip
    result = invoke("--root", str(root), "optimize", str(config), "-n", "3", "-x", "inline")
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("search", root=root)
    assert all(1 <= t.params["XV"] <= 3 and t.params["OPT"] in ("a", "b") for t in study.trials)
    assert {r.params["YV"] for r in runs} == {0}
    ran = invoke("--root", str(root), "run", str(config))
    assert ran.exit_code == 2 and "runlab optimize" in ran.stderr
    assert len(Store(root).runs()) == 3  # runlab run made no run


def test_median_pruner_prunes_a_learning_curve(root: Path) -> None:
    path = EXAMPLES / "learning_curve.py"
    result = invoke("--root", str(root), "optimize", str(path), "-n", "30", "--search", "RATE=float(0.01,1)",
                    "--pruner", "median", "--objective", "metrics.val_loss", "--sampler", "random", "--seed", "3",
                    "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("learning_curve", root=root)
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert len(study.trials) == 30 and len(pruned) >= 9  # at least 30%
    by_trial = {r.metadata["trial"]: r for r in runs}
    for t in pruned:
        run = by_trial[t.number]
        assert str(run.status) == "pruned" and "pruned at step" in (run.metadata["error"] or {}).get("message", "")
        assert run.summaries["val_loss"].count < 20 and t.intermediate_values  # stopped early, values reported
    assert len(Store(root).runs(where="status == 'pruned'")) == len(pruned)
    shown = invoke("--root", str(root), "study", "show", "learning_curve", "-f", "json")
    assert sum(row["state"] == "pruned" for row in json.loads(shown.stdout)) == len(pruned)
    store = Store(root)
    store.rebuild_index()  # the index rebuilt from the folders knows the state too
    assert len(store.runs(status="pruned")) == len(pruned)


def test_pruning_reaches_runs_in_other_processes(tmp_path: Path, root: Path) -> None:
    path = tmp_path / "curve.py"
    path.write_text(CURVE)
    result = invoke("--root", str(root), "optimize", str(path), "-n", "10", "--search", "RATE=float(0.01,1)",
                    "--pruner", "median", "--objective", "metrics.val_loss", "--sampler", "random", "--seed", "3",
                    "-j", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("curve", root=root)
    assert any(t.state.name == "PRUNED" for t in study.trials)
    assert {str(r.status) for r in runs} <= {"completed", "pruned"}


def _snapshot(root: Path) -> dict[str, bytes]:
    folder = root / ".runlab" / "studies"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


BAD_INPUT = [
    (["--search", "XV=float(1,"], "Invalid --search 'XV=float(1,'"),
    (["--search", "NOPE=float(1,2)"], "Cannot search 'NOPE'"),
    (["--search", "XV=float(-5,6)"], "another search space"),
    (["--search", "XV=float(-5,5)", "--direction", "maximize"], "direction(s) minimize"),
    (["--search", "XV=float(-5,5)", "--objective", "metrics.score"], "optimises value"),
    (["--search", "XV=float(-5,5)", "--objective", "loss"], "Invalid --objective 'loss'"),
    (["--search", "XV=float(-5,5)", "--sampler", "annealing"], "Invalid value for '--sampler'"),
    (["--search", "XV=float(-5,5)", "--pruner", "early"], "Invalid value for '--pruner'"),
    (["--search", "XV=float(-5,5)", "--study", "a/b"], "Invalid study name 'a/b'"),
    (["--search", "XV=float(-5,5)", "--XV=abc"], "XV"),
    (["--search", "XV=float(-5,5)", "--sampler", "grid"], "--sampler grid cannot enumerate XV"),
    (
        [
            "--search",
            "YV=int(0,3)",
            "--objective",
            "value",
            "--objective",
            "metrics.score",
            "--pruner",
            "median",
            "--direction",
            "minimize",
        ],
        "Pruning needs one objective",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_and_leaves_the_study_unchanged(
    quad: Path, root: Path, args: list[str], message: str
) -> None:
    assert invoke("--root", str(root), "optimize", str(quad), "-n", "2", "--search", "XV=float(-5,5)",
                  "-x", "inline").exit_code == 0  # fmt: skip
    before, runs = _snapshot(root), len(Store(root).runs())
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "2", "-x", "inline", *args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in result.stderr, result.stderr
    assert _snapshot(root) == before and len(Store(root).runs()) == runs


def test_an_objective_metric_no_run_logs_exits_2(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "5", "--search", "XV=float(-5,5)",
                    "--objective", "metrics.acc", "-x", "inline")  # fmt: skip
    assert result.exit_code == 2
    assert "--objective metrics.acc" in result.stderr and "it logged: score" in result.stderr
    assert len(Store(root).runs()) == 1  # stopped after the first trial
    assert not list((root / ".runlab" / "studies").iterdir())  # the new study is gone again


def test_no_search_space_is_a_usage_error(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "2")
    assert result.exit_code == 2 and "declares no search space" in result.stderr
    assert not (root / ".runlab" / "studies").exists()


def test_study_list_show_best_report(quad: Path, root: Path, tmp_path: Path) -> None:
    assert invoke("--root", str(root), "optimize", str(quad), "-n", "5", "--search", "XV=float(-5,5)",
                  "--search", "OPT=choice(a,b)", "-x", "inline", "--seed", "4").exit_code == 0  # fmt: skip
    listed = json.loads(invoke("--root", str(root), "study", "list", "-f", "json").stdout)
    assert listed[0]["name"] == "quad" and listed[0]["trials"] == 5 and listed[0]["complete"] == 5
    study = runlab.study("quad", root=root).study
    shown = invoke("--root", str(root), "study", "show", "quad")
    assert f"best {study.best_value:.6g}" in shown.stdout and "XV" in shown.stdout
    best = invoke("--root", str(root), "study", "best", "quad", "-f", "json")
    assert json.loads(best.stdout)["params"] == study.best_params
    out = tmp_path / "report"
    assert invoke("--root", str(root), "study", "report", "quad", "-o", str(out)).exit_code == 0
    page = (out / "index.html").read_text()
    for title in ("Optimisation history", "Parameter importances", "Parallel coordinates", "Slices", "Contour"):
        assert f"<h2>{title}</h2>" in page
    assert "<script src" not in page and "Plotly.newPlot" in page  # plotly.js embedded, no CDN
    missing = invoke("--root", str(root), "study", "show", "nope")
    assert missing.exit_code == 2 and "No study named 'nope'" in missing.stderr and "quad" in missing.stderr


def test_reading_a_study_whose_trials_file_is_gone_creates_nothing(quad: Path, root: Path) -> None:
    assert invoke("--root", str(root), "optimize", str(quad), "-n", "2", "--search", "XV=float(-5,5)",
                  "-x", "inline").exit_code == 0  # fmt: skip
    [journal] = (root / ".runlab" / "studies").glob("quad*.log")
    journal.unlink()
    for args in (["show", "quad"], ["best", "quad"]):
        result = invoke("--root", str(root), "study", *args)
        assert result.exit_code == 2 and "has no trials file" in result.stderr, result.stderr
    listed = json.loads(invoke("--root", str(root), "study", "list", "-f", "json").stdout)
    assert listed[0]["name"] == "quad" and "unreadable" in str(listed[0]["best"])
    with pytest.raises(runlab.UsageError, match="has no trials file"):
        runlab.study("quad", root=root)
    assert not journal.exists()  # before, each read made an empty journal: a study with no trials


def test_runlab_study_returns_the_optuna_study_and_its_runs(quad: Path, root: Path) -> None:
    assert invoke("--root", str(root), "optimize", str(quad), "-n", "3", "--search", "XV=float(-5,5)",
                  "-x", "inline").exit_code == 0  # fmt: skip
    optuna_study, runs = runlab.study("quad", root=str(root))
    assert isinstance(optuna_study, optuna.Study) and isinstance(runs, runlab.RunSet)
    assert [r.metadata["trial"] for r in runs] == [0, 1, 2]
    assert math.isfinite(optuna_study.best_value)


def test_any_optuna_storage_url(quad: Path, root: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "3", "--search", "XV=float(-5,5)",
                    "--storage", url, "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert not (root / ".runlab" / "studies" / "quad.log").exists() and (tmp_path / "studies.db").is_file()
    study, runs = runlab.study("quad", root=root)
    assert len(study.trials) == 3 == len(runs)
    assert len(optuna.load_study(study_name="quad", storage=url).trials) == 3


def test_progress_shows_the_best_value_so_far() -> None:
    import io

    from rich.console import Console

    from runlab.sweep import StudyProgress, TrialOutcome

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="demo")
    out = io.StringIO()
    progress = StudyProgress(console=Console(file=out, force_terminal=True, width=150))
    progress.study_start(study, 2)
    for number, value in enumerate((3.0, 1.5)):
        trial = study.ask()
        study.tell(trial, value)
        progress.trial_done(study, TrialOutcome(number, "complete", [value]), 0)
    assert "best 1.5 (trial 1)" in progress._progress.tasks[0].fields["best"]
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    progress.trial_done(study, TrialOutcome(2, "fail", error="run x failed: boom"), 0)
    progress.study_end(study)
    text = out.getvalue()
    assert "trial 2 failed" in text and "boom" in text and "2 complete, 1 fail" in text


@pytest.mark.slow
def test_trials_on_a_dask_cluster(tmp_path: Path, root: Path) -> None:
    path = tmp_path / "curve.py"
    path.write_text(CURVE)
    result = invoke("--root", str(root), "optimize", str(path), "-n", "8", "--search", "RATE=float(0.01,1)",
                    "--pruner", "median", "--objective", "metrics.val_loss", "--sampler", "random", "--seed", "3",
                    "-x", "dask", "-j", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("curve", root=root)
    assert len(study.trials) == 8 == len(runs)
    assert {t.state.name for t in study.trials} <= {"COMPLETE", "PRUNED"}
    assert all(str(r.status) in ("completed", "pruned") for r in runs)


def test_the_example_config_searches_the_svc(root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(EXAMPLES / "search.yml"), "-n", "2", "--objective",
                    "metrics.val_acc", "--direction", "maximize", "-x", "inline", "--seed", "0")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("search", root=root)
    assert len(runs) == 2 and set(study.best_params) == {"C", "GAMMA"} and 0 < study.best_value <= 1


def test_a_malformed_search_section_exits_2(quad: Path, tmp_path: Path, root: Path) -> None:
    config = tmp_path / "bad.yml"
    config.write_text(f"extend: {quad.name}\nsearch:\n  XV: {{float: [3, 1]}}\n")
    result = invoke("--root", str(root), "optimize", str(config), "-n", "2", "-x", "inline")
    assert result.exit_code == 2 and "Invalid search: entry" not in result.stderr
    assert "low 3.0 is above high 1.0" in result.stderr and "'XV'" in result.stderr
    assert not (root / ".runlab" / "studies").exists() and not Store(root).runs()


def test_a_plain_script_is_optimised_too(tmp_path: Path, root: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text("x = 0.0\nlayers = 1\n\ndef main():\n    return (x - 1) ** 2 + layers\n")
    result = invoke("--root", str(root), "optimize", str(script), "-n", "3", "--search", "x=float(-2,2)",
                    "--search", "layers=int(1,3)", "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("plain", root=root)
    for t in study.trials:
        [run] = [r for r in runs if r.metadata["trial"] == t.number]
        assert run.params["x"] == t.params["x"]
        assert t.value == pytest.approx((t.params["x"] - 1) ** 2 + t.params["layers"])


def test_grid_sampler_enumerates_the_space(quad: Path, root: Path) -> None:
    result = invoke("--root", str(root), "optimize", str(quad), "-n", "20", "--sampler", "grid", "--search",
                    "YV=int(0,2)", "--search", "OPT=choice(a,b)", "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    study = runlab.study("quad", root=root).study  # 6 trials: the grid is done before -n 20
    assert sorted((t.params["YV"], t.params["OPT"]) for t in study.trials) == [
        (y, o) for y in range(3) for o in ("a", "b")
    ]


@pytest.mark.parametrize(("other_driver_alive", "failed"), [(False, True), (True, False)])
def test_a_running_trial_without_its_driver_is_failed_when_no_other_optimize_may_run(
    quad: Path, root: Path, other_driver_alive: bool, failed: bool
) -> None:
    import socket

    from runlab.sweep import open_study, plan_study, recover_trials

    spec, _ = plan_study(str(quad), root=root, search=["XV=float(-5,5)"])
    study, record = open_study(spec, str(quad))
    orphan = study.ask()  # as if a process died right after asking, before naming itself
    if other_driver_alive:
        record.drivers.append({"host": socket.gethostname(), "pid": os.getppid()})
    assert recover_trials(study, record) == ([orphan.number] if failed else [])
    state = study.trials[orphan.number].state.name
    assert state == ("FAIL" if failed else "RUNNING")


def test_a_plain_script_is_pruned_through_log_results(tmp_path: Path, root: Path) -> None:
    script = tmp_path / "plainc.py"
    script.write_text("import math\nimport runlab\n\nrate = 0.5\n\ndef main():\n    loss = 1.0\n"
                      "    for step in range(20):\n        loss = math.exp(-rate * step / 5)\n"
                      "        runlab.log_results({'val_loss': loss}, step=step)\n    return loss\n")  # fmt: skip
    result = invoke("--root", str(root), "optimize", str(script), "-n", "14", "--search", "rate=float(0.01,1)",
                    "--pruner", "median", "--sampler", "random", "--seed", "3", "-x", "inline")  # fmt: skip
    assert result.exit_code == 0, result.output
    study, runs = runlab.study("plainc", root=root)
    pruned = {t.number for t in study.trials if t.state.name == "PRUNED"}
    assert pruned and pruned == {r.metadata["trial"] for r in runs if str(r.status) == "pruned"}
