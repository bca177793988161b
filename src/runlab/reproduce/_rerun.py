"""Run a recorded run's archived code again, in its rebuilt environment."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ..errors import RunlabError
from ..experiment._dispatch import request_of_record
from ..request import Origin, RunRequest
from ..store import RunRecord
from ._env import ReproduceError, RunEnvironment

__all__ = ["archived_request", "run_in_environment"]


def archived_request(record: RunRecord, root: Path) -> RunRequest:
    """The request that runs ``record`` again from the code archived in its folder.

    The new run goes to the same store, links to the original (``rerun_of``) and records
    ``runlab reproduce`` as its origin.
    """
    code = record.path / "code"
    if not code.is_dir():
        raise ReproduceError(f"Run {record.id} has no archived code ({code} is missing); it cannot be reproduced.")
    origin = record.metadata.get("origin")
    path = origin.get("path") if isinstance(origin, dict) else None
    if not path:
        raise ReproduceError(
            f"Run {record.id} was started with runlab.start_run, which records no experiment file to run again. "
            f"'runlab reproduce {record.id} --env-only' rebuilds its environment; run your code there."
        )
    if not (code / Path(path).name).is_file():
        raise ReproduceError(
            f"Run {record.id}'s archived experiment file {code / Path(path).name} is missing; restore the run "
            "folder from a copy, or reproduce another run."
        )
    request = request_of_record(record, (), code_dir=code)
    options = dataclasses.replace(request.options, root=str(root))
    return dataclasses.replace(request, options=options, origin=Origin("runlab reproduce", ()))


def run_in_environment(request: RunRequest, env: RunEnvironment, workdir: Path) -> dict[str, Any]:
    """Execute ``request`` with the environment's interpreter (``python -m runlab.execute``).

    The run's output streams to this terminal. Returns the run result as JSON values
    (``run_id``, ``status``, ``folder``, ``value``, ``error``). Several may run in one environment at
    once: each passes its request and result through files of its own (``request-<pid>.json``),
    removed once the result is read.
    """
    request_file = env.path / f"request-{os.getpid()}.json"
    result_file = env.path / f"result-{os.getpid()}.json"
    request.write(request_file)
    result_file.unlink(missing_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    environ["VIRTUAL_ENV"] = str(env.path)
    done = subprocess.run([str(env.python), "-m", "runlab.execute", str(request_file), "--result", str(result_file)],
                          cwd=workdir, env=environ, check=False)  # fmt: skip
    try:
        result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        # not bad input: the new run's process died (killed, out of memory, os._exit) -> exit code 1
        raise RunlabError(
            f"The reproduced run's process ended with exit status {done.returncode} without reporting a result "
            f"(see the output above; a run it started is shown as crashed by 'runlab list'). Request: {request_file}"
        ) from None
    request_file.unlink(missing_ok=True)
    result_file.unlink(missing_ok=True)
    return result
