"""Several ``runlab reproduce`` of one run at once, and after a build that was killed midway (real subprocesses,
real uv environments).

The run's recorded dependencies get one more package, ``gatepkg``, whose saved source builds with a backend that
waits for a gate file: a build stays in the middle of installing until the test opens the gate, so "at once" and
"killed midway" happen where the test says, not by luck of timing.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import runlab
from runlab.lifecycle._reproducible import find_uv

pytestmark = pytest.mark.skipif(find_uv() is None, reason="uv is not installed (pip install 'runlab[reproduce]')")

EXPERIMENT = """
from runlab import Experiment

SEED: int = 3

experiment = Experiment(glob=globals())

@experiment
def main(e):
    try:
        import gatepkg  # only in the rebuilt environment: the reproduced run ran with a complete one
    except ImportError:
        gatepkg = None
    e["gate"] = gatepkg.VALUE if gatepkg else 0
    e.track("y", 2 * e.SEED)

experiment.run_if_main()
"""

BACKEND = """
import base64, hashlib, os, time, zipfile
from pathlib import Path

STARTED, GATE = Path({started!r}), Path({gate!r})


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with STARTED.open("a") as f:
        f.write(f"{{os.getpid()}}\\n")
    deadline = time.monotonic() + 120
    while not GATE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    files = {{
        "gatepkg.py": b"VALUE = 1\\n",
        "gatepkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: gatepkg\\nVersion: 1.0\\n",
        "gatepkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    record = "".join(
        f"{{p}},sha256={{base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()}},{{len(d)}}\\n"
        for p, d in files.items()
    )
    files["gatepkg-1.0.dist-info/RECORD"] = (record + "gatepkg-1.0.dist-info/RECORD,,\\n").encode()
    name = "gatepkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return name
"""

PYPROJECT = """
[build-system]
requires = []
build-backend = "gate_backend"
backend-path = ["."]

[project]
name = "gatepkg"
version = "1.0"
"""

WAITING = "waiting for another runlab reproduce building"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store with one reproducible functional run (recorded once: saving its sources takes seconds)."""
    project = tmp_path_factory.mktemp("recorded")
    (project / "exp.py").write_text(EXPERIMENT)
    root = project / "store"
    args = ["run", "exp.py", "--__REPRODUCIBLE__=True", "--root", str(root)]
    done = subprocess.run([sys.executable, "-m", "runlab", *args], cwd=project, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [run_id] = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("run ")]
    return root, run_id


def _add_gated_package(folder: Path, started: Path, gate: Path) -> None:
    """Add ``gatepkg`` to the run's needed dependencies, as a saved source whose build waits for ``gate``."""
    archive = folder / "env" / "sources" / "gatepkg-1.0.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    members = {
        "pyproject.toml": PYPROJECT,
        "gate_backend.py": BACKEND.format(started=str(started), gate=str(gate)),
        "PKG-INFO": "Metadata-Version: 2.1\nName: gatepkg\nVersion: 1.0\n",
    }
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"gatepkg-1.0/{name}")
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
    deps = folder / "env" / "dependencies.json"
    record = json.loads(deps.read_text())
    record["distributions"]["gatepkg"] = {"version": "1.0", "editable": True, "needed": True, "imported": True,
                                          "archive": "sources/gatepkg-1.0.tar.gz"}  # fmt: skip
    deps.write_text(json.dumps(record))


def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


class Reproduce:
    """One ``runlab reproduce ID`` in its own process group (killed as a whole, as Ctrl-C or ``kill`` of a job)."""

    def __init__(self, run_id: str, root: Path, logs: Path) -> None:
        self.out, self.err = logs.with_suffix(".out"), logs.with_suffix(".err")
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "runlab", "reproduce", run_id, "--root", str(root)],
                                         cwd=logs.parent, stdout=out, stderr=err, start_new_session=True)  # fmt: skip

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def outcome(self) -> str:
        """What it did with the environment, from its progress lines."""
        err = self.stderr()
        what = ("rebuilt" if "is unfinished (its build was interrupted" in err
                else "built" if "creating a virtual environment" in err
                else "reused" if "reusing the environment" in err else "?")  # fmt: skip
        return ("waited, " if WAITING in err else "") + what

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


@pytest.mark.parametrize(
    ("at_once", "kill_builder", "then", "outcomes"),
    [
        # was: both built into one folder at once (each cleared it, then installed into it), and both runs passed
        # their request and result through one env/request.json and env/result.json
        pytest.param(2, False, 0, ["built", "waited, reused"], id="two-at-once"),
        # was: every reproduce rebuilt the environment from scratch ("built", "built")
        pytest.param(1, False, 1, ["built", "reused"], id="built-then-again"),
        # a folder whose build was killed midway (no marker) is rebuilt, and says why; was: rebuilt without a word
        pytest.param(1, True, 1, ["rebuilt"], id="killed-midway-then-again"),
        # the waiter gets the lock the killed builder's process held, finds its half-built folder and rebuilds it;
        # was: nobody waited, a second build ran alongside the one killed
        pytest.param(2, True, 0, ["waited, rebuilt"], id="killed-midway-while-another-waits"),
    ],
)  # fmt: skip
def test_one_build_per_environment_and_an_interrupted_build_is_never_reused(
    at_once: int, kill_builder: bool, then: int, outcomes: list[str], recorded: tuple[Path, str], tmp_path: Path
) -> None:
    root, run_id = tmp_path / "store", recorded[1]
    shutil.copytree(recorded[0], root)
    [folder] = root.glob(f"*/*_{run_id}")
    started, gate = tmp_path / "started", tmp_path / "gate"
    _add_gated_package(folder, started, gate)
    env = root / ".runlab" / "envs" / run_id

    procs = [Reproduce(run_id, root, tmp_path / f"at-once-{i}") for i in range(at_once)]
    try:
        assert _until(started.exists, 120), [p.stderr() for p in procs]  # a build is installing gatepkg
        # the others wait for it (old code: nobody waits; go on after a few seconds and fail below)
        _until(lambda: sum(WAITING in p.stderr() for p in procs) == at_once - 1, 15)
        [builder] = [p for p in procs if WAITING not in p.stderr()][:1]
        survivors = list(procs)
        if kill_builder:
            builder.kill()
            survivors = [p for p in procs if p is not builder]
            assert not (env / "runlab-env.json").exists()  # the killed build left its folder unfinished
        gate.touch()
        for p in survivors:
            p.proc.wait(timeout=120)
        for i in range(then):
            survivors.append(Reproduce(run_id, root, tmp_path / f"then-{i}"))
            survivors[-1].proc.wait(timeout=120)
    finally:
        for p in procs:
            p.kill()

    assert sorted(p.outcome() for p in survivors) == sorted(outcomes), [p.stderr() for p in survivors]
    for p in procs:
        if p is not builder:  # names the folder and who builds it
            assert f"{WAITING} {env} (pid {builder.proc.pid})…" in p.stderr()
    new_ids = []
    for p in survivors:
        assert p.proc.returncode == 0, p.stderr()
        out = p.out.read_text()
        assert f"Reproduced run {run_id} as " in out, out + p.stderr()
        new_ids.append(out.split(f"Reproduced run {run_id} as ")[1].split()[0])
    assert len(set(new_ids)) == len(survivors)  # each reported its own run, not the other's result
    for new_id in new_ids:
        new = runlab.load(new_id, root=root)
        assert new.status == "completed" and new.metadata["rerun_of"] == run_id
        assert new.data["gate"] == 1  # ran with gatepkg installed: a complete environment
        assert new.metadata["env"]["python"]["executable"] == str(env / "bin" / "python")
    marker = json.loads((env / "runlab-env.json").read_text())
    assert any(p.endswith("gatepkg-1.0.tar.gz") for p in marker["packages"])  # written once the build finished
    assert not list((root / ".runlab" / "locks").glob(".runlab%envs%*.lock"))  # let go, and removed
    assert not list(env.glob("request-*.json")) and not list(env.glob("result-*.json"))
