"""What kind of file ``runlab run`` sees: read statically, so a plain script that reads experiments stays a script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runlab.experiment._dispatch import file_kind

FUNCTIONAL = [
    "from runlab import Experiment\nexperiment = Experiment(glob=globals())\n",
    "import runlab\nexperiment = runlab.Experiment(glob=globals())\n",
    "from runlab import Experiment\nexperiment = Experiment.extend('base.py', glob=globals())\n",
    "import runlab\nexperiment = runlab.Experiment.extend('base.py', glob=globals())\n",
    "from runlab import Experiment\nexperiment = Experiment.from_config('c.yml')\n",
    "from mine import experiment\nexperiment.run_if_main()\n",
]
SCRIPT = [
    "def main():\n    return 1\n",
    "from runlab import Experiment\n\n\ndef main():\n    return Experiment.load('runs/exp')\n",
    "from runlab import Experiment\nprint(Experiment.is_archive('runs/x'))\n",
    "from runlab import Experiment\nmeta = Experiment.load_metadata('runs/x')\n",
    "import runlab\n\n\ndef main():\n    return runlab.Experiment.import_from('other.py')\n",
]


@pytest.mark.parametrize(("source", "kind"), [(s, "functional") for s in FUNCTIONAL] + [(s, "script") for s in SCRIPT])
def test_a_file_is_functional_only_when_it_makes_or_runs_an_experiment(tmp_path: Path, source: str, kind: str) -> None:
    path = tmp_path / "f.py"
    path.write_text(source)
    assert file_kind(path) == kind


def test_an_analysis_script_reading_runs_runs_as_a_plain_script(tmp_path: Path) -> None:
    (tmp_path / "analyse.py").write_text(
        "from runlab import Experiment\n\n\ndef main():\n    return Experiment.is_archive('nowhere')\n"
    )
    done = subprocess.run([sys.executable, "-m", "runlab", "run", "analyse.py", "--root", "s"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr  # it was refused: "defines no experiment that runs"
    assert " completed " in done.stdout


def test_a_functional_file_given_as_a_script_target_is_refused_before_any_run(tmp_path: Path) -> None:
    import runlab
    from runlab.request import RunOptions, RunRequest, Target

    exp = tmp_path / "exp.py"
    exp.write_text(FUNCTIONAL[0] + "\n\n@experiment\ndef main(e):\n    pass\n\n\nexperiment.run_if_main()\n")
    root = tmp_path / "store"
    request = RunRequest(Target("script", exp), {}, RunOptions(root=str(root), capture=False))
    with pytest.raises(runlab.ValidationError, match=r"is a functional experiment.*Target\('functional'"):
        runlab.execute(request)
    assert not list(runlab.runs(root=root))  # it used to run the experiment, then fail calling main
    functional = RunRequest(Target("functional", exp), {}, RunOptions(root=str(root), capture=False))
    assert runlab.execute(functional).status is runlab.RunStatus.COMPLETED
