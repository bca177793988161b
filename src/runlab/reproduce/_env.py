"""Rebuild a reproducible run's environment in a fresh virtual environment with uv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import UsageError
from ..lifecycle._reproducible import find_uv
from ..store._runfile import is_run_id

__all__ = [
    "ReproduceError",
    "RunEnvironment",
    "build_environment",
    "environment_folder",
    "read_dependencies",
    "shared_environment",
]


class ReproduceError(UsageError):
    """A run cannot be reproduced (recorded without reproducible mode, no uv, install failed)."""


@value_class(frozen=True)
class RunEnvironment:
    """A virtual environment rebuilt for one run.

    Attributes:
        path: the environment's folder.
        python: its interpreter.
        packages: the requirements installed (``name==version`` or a source archive path).
    """

    path: Path
    python: Path
    packages: tuple[str, ...]

    @property
    def activate(self) -> str:
        """The shell command that activates the environment."""
        return f"source {self.path / 'bin' / 'activate'}"


def read_dependencies(folder: Path, run_id: str) -> dict[str, Any]:
    """The reproducible dependency record of the run in ``folder``.

    Raises:
        ReproduceError: the run was recorded without reproducible mode, has not ended yet, or its
            record is damaged (missing, not JSON, or without its ``distributions``).

    Example:
        >>> import pathlib, tempfile
        >>> read_dependencies(pathlib.Path(tempfile.mkdtemp()), "3f2a9c1e")
        Traceback (most recent call last):
        ...
        runlab.reproduce._env.ReproduceError: Run 3f2a9c1e was recorded without reproducible mode: ...
    """
    path = folder / "env" / "dependencies.json"
    record: Any
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        record = exc
    if isinstance(record, dict) and isinstance(record.get("distributions"), dict):
        return record
    try:
        saved = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("reproducible")
    except (OSError, ValueError, AttributeError):
        saved = None
    if isinstance(saved, dict) and saved.get("pending"):  # dependencies are saved when the run ends
        raise ReproduceError(
            f"Run {run_id} was recorded in reproducible mode but has not ended (it is running, or its process "
            f"died before the end), so {path} does not list its dependencies yet. Wait until it finishes, or "
            "reproduce another run."
        )
    if saved is not None:  # recorded in reproducible mode and ended: the file was lost or changed since
        why = "it is missing" if isinstance(record, FileNotFoundError) else (
            f"{record}" if isinstance(record, Exception) else "it does not list 'distributions'")  # fmt: skip
        raise ReproduceError(
            f"Run {run_id}'s dependency record {path} is damaged ({why}); restore the run folder from a copy, "
            "or reproduce another run."
        )
    raise ReproduceError(
        f"Run {run_id} was recorded without reproducible mode: {path} does not list its dependencies "
        "with their origins, and editable packages' sources were not saved. Record runs you want to "
        "reproduce with --__REPRODUCIBLE__=True (functional experiments), 'runlab run --reproducible', "
        "or start_run(reproducible=True)."
    )


def _requirements(folder: Path, record: dict[str, Any]) -> list[str]:
    out = []
    for name, info in sorted(record["distributions"].items()):
        if not isinstance(info, dict) or not info.get("needed"):
            continue
        if info.get("archive"):
            archive = folder / "env" / str(info["archive"])
            if not archive.is_file():
                raise ReproduceError(
                    f"The saved source of the editable package {name} is missing: {archive}. Restore the run "
                    "folder from a copy; it cannot be installed without it."
                )
            out.append(str(archive))
        elif not isinstance(info.get("version"), str) or not info["version"].strip():
            raise ReproduceError(f"The dependency record {folder / 'env' / 'dependencies.json'} is damaged (package "
                                 f"{name} has no version: {info.get('version')!r}); restore the run folder from a "
                                 "copy, or reproduce another run.")  # fmt: skip
        elif info.get("editable"):
            raise ReproduceError(
                f"The editable package {name} was needed but its source was not saved "
                f"(see 'reproducible.problems' in {folder / 'run.json'}); it cannot be installed."
            )
        else:
            out.append(f"{name}=={info['version']}")
    return out


def _uv(args: list[str], what: str) -> None:
    uv = find_uv()
    if uv is None:
        raise ReproduceError("runlab reproduce needs uv. Install it with: pip install 'runlab[reproduce]'")
    done = subprocess.run([uv, *args], capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-6:]
        raise ReproduceError(f"Could not {what}:\n" + "\n".join(detail))


def build_environment(folder: Path, run_id: str, target: Path, python: str | None = None,
                      progress: Callable[[str], None] | None = None) -> RunEnvironment:  # fmt: skip
    """Create a virtual environment at ``target`` with the run's recorded dependencies.

    Nothing keeps two processes from building at one ``target``: ``runlab reproduce`` builds through
    :func:`shared_environment`, which makes building exclusive and reuses a finished build.

    Args:
        folder: the run's folder.
        run_id: the run's id (for messages).
        target: where the environment goes (replaced if it exists).
        python: the Python version to use (default: the run's own, then its major.minor).
        progress: called with a line per step.
    """
    record = read_dependencies(folder, run_id)
    return _build(run_id, target, record, _requirements(folder, record), python, progress or (lambda line: None))


def _build(run_id: str, target: Path, record: dict[str, Any], packages: list[str], python: str | None,
           say: Callable[[str], None]) -> RunEnvironment:  # fmt: skip
    recorded = str(record.get("python") or ".".join(map(str, sys.version_info[:3])))
    choices = [python] if python else [recorded, ".".join(recorded.split(".")[:2])]
    say(f"creating a virtual environment in {target} (Python {choices[0]})")
    for i, version in enumerate(choices):
        try:
            _uv(["venv", "--quiet", "--clear", "--python", str(version), "--python-preference", "only-system",
                 str(target)], f"create a Python {version} environment")  # fmt: skip
            break
        except ReproduceError:
            if i == len(choices) - 1:
                raise
            say(f"Python {version} is not installed; trying Python {choices[i + 1]}")
    interpreter = target / "bin" / "python"
    say(f"installing {len(packages)} packages")
    req_file = target / "runlab-requirements.txt"
    req_file.write_text("".join(f"{p}\n" for p in packages), encoding="utf-8")
    _uv(["pip", "install", "--quiet", "--python", str(interpreter), "-r", str(req_file)],
        f"install the dependencies of run {run_id}")  # fmt: skip
    return RunEnvironment(target, interpreter, tuple(packages))


_FINISHED = "runlab-env.json"  # written last, once a build has succeeded


def _finished_build(target: Path) -> dict[str, Any] | None:
    """What the finished build in ``target`` was made for (``python``, ``packages``); None when no build
    finished there (an interrupted one, one that failed, one by a runlab without the marker)."""
    try:
        marker = json.loads((target / _FINISHED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or not (target / "bin" / "python").exists():
        return None
    return marker


def shared_environment(root: Path, folder: Path, run_id: str, python: str | None = None,
                       progress: Callable[[str], None] | None = None, poll: float = 0.1) -> RunEnvironment:  # fmt: skip
    """The environment of run ``run_id`` (recorded in ``folder``) in ``<root>/.runlab/envs/<id>``, built
    there once and reused by later calls that ask for the same Python.

    Contract (several ``runlab reproduce`` of one run at once, in any processes):
        * Building is exclusive per environment folder: the builder holds the folder's lock (the store's
          :class:`~runlab.store._folder_locks.FolderLocks`, ``.runlab/locks/.runlab%envs%<id>.lock``) for
          the whole build. Another call waits for it (saying so through ``progress``, with the builder's
          pid), then reuses what it built.
        * ``runlab-env.json`` in the folder is written last, after a successful build: a folder without
          it (a build killed midway, or failed) or with one for another Python is rebuilt, never reused.
        * The lock is the process's: the system drops it when the builder dies, and the next waiter rebuilds.

    Raises:
        ReproduceError: the run cannot be reproduced (before anything is built or waited for), or the
            build failed (the folder is then left without its marker).
    """
    from ..store._files import atomic_write_bytes
    from ..store._folder_locks import FolderLocks

    say = progress or (lambda line: None)
    target = environment_folder(root, run_id)
    record = read_dependencies(folder, run_id)
    packages = _requirements(folder, record)  # refusals come before any wait
    locks = FolderLocks(Path(os.fspath(root)))
    waited = False
    while not locks.hold(target):
        if not waited:
            pid = locks.holder(target)
            say(f"waiting for another runlab reproduce building {target}{f' (pid {pid})' if pid else ''}…")
            waited = True
        time.sleep(poll)
    try:
        built = _finished_build(target)
        if built is not None and built.get("python") == python and built.get("packages") == packages:
            say(f"reusing the environment in {target}{', just built by the other one' if waited else ''}")
            return RunEnvironment(target, target / "bin" / "python", tuple(packages))
        if built is not None:
            was = f"Python {built['python']}" if built.get("python") else "the run's own Python"
            say(f"the environment in {target} was built for {was} or other packages; rebuilding it")
        elif target.exists():
            say(f"the environment in {target} is unfinished (its build was interrupted or failed); rebuilding it")
        (target / _FINISHED).unlink(missing_ok=True)
        env = _build(run_id, target, record, packages, python, say)
        marker = {"run_id": run_id, "python": python, "packages": packages, "built": time.time()}
        atomic_write_bytes(target / _FINISHED, json.dumps(marker, indent=1).encode())
        return env
    finally:
        locks.release(target)


def environment_folder(root: Path, run_id: str) -> Path:
    """Where ``runlab reproduce`` keeps a run's environment: ``<root>/.runlab/envs/<id>``.

    Raises:
        ReproduceError: ``run_id`` is not one plain folder name (a run folder copied in with an
            edited ``run.json``): the folder is cleared before the environment is made, so an id
            such as ``../../project/.venv`` would clear a folder outside the store.

    Example:
        >>> environment_folder(Path("/store"), "3f2a9c1e").as_posix()
        '/store/.runlab/envs/3f2a9c1e'
    """
    if not is_run_id(run_id):
        raise ReproduceError(
            f"Run id {run_id!r} cannot name an environment folder: expected letters, digits, '.', '_' and '-' "
            "(runlab's ids are 8 hex digits, such as 3f2a9c1e). Its run.json was edited or damaged; restore the "
            "run folder from a copy."
        )
    return Path(os.fspath(root)) / ".runlab" / "envs" / run_id
