"""Edge cases found by an attacker review: early ends, generator mains, hand-edited request files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import runlab
from runlab.request import RunOptions, RunRequest, Target

from ..conftest import forget_stores

FUNCTIONAL = """\
import runlab
from runlab import Experiment

N: int = 1
experiment = Experiment(glob=globals())


@experiment
def main(e):
    e["before"] = 1
    e.track("loss", 0.5)
    {call}
    e["after"] = 1


experiment.run_if_main()
"""


SWALLOWED = 'try:\n        runlab.fail("diverged")\n    except Exception:\n        pass'


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNLAB_ROOT": str(cwd / "store")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def _only_record(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record (``run.json``) and the data of the one run in ``root``."""
    forget_stores()
    (record,) = runlab.Store(root).runs()
    return record.metadata, json.loads((record.path / "data.json").read_text())


@pytest.mark.parametrize(
    ("call", "code", "status", "error"),
    [
        ('runlab.fail("diverged")', 1, "failed", ("Failed", "diverged")),
        ('runlab.cancel("stopped")', 130, "cancelled", ("Cancelled", "stopped")),
        ("runlab.completed()", 0, "completed", None),
        (SWALLOWED, 1, "failed", ("Failed", "diverged")),
    ],
)
def test_runlab_fail_cancel_completed_end_a_functional_run_with_that_state(
    tmp_path: Path, call: str, code: int, status: str, error: tuple[str, str] | None
) -> None:
    (tmp_path / "exp.py").write_text(FUNCTIONAL.format(call=call))
    out = _python("exp.py", cwd=tmp_path)
    assert out.returncode == code, out.stderr
    assert "EndRun" not in out.stderr and "Traceback" not in out.stderr
    meta, data = _only_record(tmp_path / "store")
    assert meta["status"] == status
    assert (meta["error"] and (meta["error"]["type"], meta["error"]["message"])) == error
    assert data["before"] == 1 and "after" not in data  # what was logged stays; the code stopped there


@pytest.mark.parametrize(
    ("end", "status"),
    [(lambda: runlab.fail("diverged"), "failed"), (lambda: runlab.cancel("stop"), "cancelled")],
)
def test_an_except_exception_in_the_block_does_not_swallow_an_early_end(root: Path, end: Any, status: str) -> None:
    reached = []
    with runlab.run(root=root) as run:
        try:
            end()
        except Exception:  # user code guarding its own errors
            reached.append("swallowed")
        reached.append("after")
    assert run.status == status and reached == []


@pytest.mark.parametrize(
    ("source", "runner", "expected"),
    [
        (  # functional: a main that yields
            "from runlab import Experiment\nN: int = 3\nexperiment = Experiment(glob=globals())\n"
            "@experiment\ndef main(e):\n    for i in range(e.N):\n        e.track('m', float(i))\n        yield i\n"
            "    e['done'] = True\nexperiment.run_if_main()\n",
            "functional",
            {"m": [0.0, 1.0, 2.0], "done": True},
        ),
        (  # plain script: a generator main; its return value is the result
            "n = 2\ndef main():\n    for i in range(n):\n        yield i\n    return {'acc': 0.5}\n",
            "script",
            {"result": {"acc": 0.5}},
        ),
        (  # plain script: an async generator main
            "import runlab\nn = 2\nasync def main():\n    for i in range(n):\n"
            "        runlab.log_results({'seen': f'step {i}'}, step=i)\n        yield i\n",
            "script",
            {"results": {"0": {"seen": "step 0"}, "1": {"seen": "step 1"}}},
        ),
    ],
)
def test_a_generator_main_runs_to_its_end(tmp_path: Path, source: str, runner: str, expected: dict[str, Any]) -> None:
    (tmp_path / "gen.py").write_text(source)
    args = ["gen.py"] if runner == "functional" else ["-m", "runlab", "run", "gen.py"]
    out = _python(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    meta, data = _only_record(tmp_path / "store")
    assert meta["status"] == "completed" and data == expected


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["target"].update(args="xy"), "Invalid args 'xy': expected a list"),
        (lambda d: d["target"].update(entrypoint=5), "Invalid entry point 5"),
        (lambda d: d["target"].update(run_as_main="no"), "Invalid run_as_main 'no': expected true or false"),
        (lambda d: d["options"].update(capture="no"), "Invalid capture option 'no': expected true or false"),
        (lambda d: d["origin"].update(argv="--x=1"), "Invalid origin argv '--x=1'"),
        (lambda d: d.update(parmas={"x": 2}), "Unknown field 'parmas' in the run request"),
        (lambda d: d["target"].update(entry_point="main"), "Unknown field 'entry_point' in the request's target"),
    ],
)
def test_a_hand_edited_request_file_is_refused_before_any_run(tmp_path: Path, edit: Any, message: str) -> None:
    script = tmp_path / "s.py"
    script.write_text("x = 1\ndef main(*args):\n    return x\n")
    data = RunRequest(Target("script", script), {"x": 2}, RunOptions(capture=False)).to_dict()
    edit(data)
    (tmp_path / "req.json").write_text(json.dumps(data))
    out = _python("-m", "runlab.execute", "req.json", cwd=tmp_path)
    assert out.returncode == 2 and f"req.json: {message}" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("source", "args", "message"),
    [
        ("def main(data, epochs):\n    pass\n", ["s.py"], "no value for its argument 'data'"),
        ("def main(data, epochs):\n    pass\n", ["s.py:main", "-p", "data=d"], "no value for its argument 'epochs'"),
        ("import runlab\n@runlab.entrypoint\ndef fit(*, k):\n    pass\n", ["s.py"], "argument 'k'"),
        ("def main(data, /):\n    pass\n", ["s.py"], "argument 'data'"),
    ],
)
def test_an_entry_point_without_its_required_arguments_is_refused_before_any_run(
    tmp_path: Path, source: str, args: list[str], message: str
) -> None:
    (tmp_path / "s.py").write_text(source)
    out = _python("-m", "runlab", "run", *args, cwd=tmp_path)
    assert out.returncode == 2 and message in out.stderr and "runlab run s.py:" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    ("source", "args"),
    [
        ("def main(data, epochs=1):\n    return data\n", ["s.py:main", "-p", "data=d"]),
        ("import sys\ndef main(argv):\n    return 1\nif __name__ == '__main__':\n    main(sys.argv)\n", ["s.py"]),
        ("def main(*args, **kwargs):\n    return 1\n", ["s.py"]),
    ],
)
def test_an_entry_point_given_its_arguments_still_runs(tmp_path: Path, source: str, args: list[str]) -> None:
    (tmp_path / "s.py").write_text(source)
    out = _python("-m", "runlab", "run", *args, cwd=tmp_path)
    assert out.returncode == 0 and " completed " in out.stdout, out.stderr
