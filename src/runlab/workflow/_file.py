"""Workflow files: YAML with steps, their scripts and dependencies (``runlab workflow run FILE``).

::

    name: fit-and-evaluate        # optional
    executor: local               # optional: inline, local (default), dask
    workers: 2                    # optional: runs at a time
    steps:
      prep:
        script: prep.py           # relative to this file
        params: {n_points: 50}    # globals injected into the script
      train:
        script: train.py
        config: configs/lr.yml    # a config file; its sweep gives several runs of this step
        after: [prep]
      evaluate:
        script: evaluate.py:score # file.py:function names the entry point
        after: [train]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._flows import Pipeline
from ._graph import Step

__all__ = ["load_workflow_file"]

_TOP = ("name", "executor", "workers", "steps")
_STEP = ("script", "params", "config", "after", "entrypoint")


def _fail(path: Path, message: str) -> ConfigError:
    return ConfigError(f"Invalid workflow file {path}: {message}", str(path))


def load_workflow_file(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
                       executor: str | None = None, workers: int | None = None) -> Pipeline:  # fmt: skip
    """A :class:`Pipeline` from a YAML workflow file (see the module docstring for the format).

    ``executor`` and ``workers`` override the file's.

    Raises:
        ConfigError: unreadable YAML, an unknown key, a missing script; ValidationError: a cycle
            or a dependency on an unknown step (nothing is run).
    """
    import yaml

    from ..experiment import Script
    from ..params import Config

    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read workflow file {file}: {exc.strerror or exc}.", str(file)) from None
    except yaml.YAMLError as exc:
        raise _fail(file, f"not valid YAML ({exc}).") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), dict) or not data["steps"]:
        raise _fail(file, "expected a mapping with 'steps': {name: {script: FILE, after: [...]}}.")
    for key in data:
        if key not in _TOP:
            raise _fail(file, f"unknown key {key!r}; keys are {', '.join(_TOP)}.")
    steps = []
    for name, spec in data["steps"].items():
        if isinstance(spec, str):
            spec = {"script": spec}
        if not isinstance(spec, dict) or "script" not in spec:
            raise _fail(file, f"step {name!r} needs 'script: FILE'.")
        for key in spec:
            if key not in _STEP:
                raise _fail(file, f"unknown key {key!r} in step {name!r}; keys are {', '.join(_STEP)}.")
        target = str(spec["script"])
        script_file, _, function = target.partition(":")
        resolved = (file.parent / script_file).resolve()
        if not resolved.is_file():
            raise _fail(file, f"step {name!r}: no such script {resolved}.")
        after = spec.get("after") or []
        if isinstance(after, str):
            after = [after]
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise _fail(file, f"step {name!r}: 'after' must be a list of step names.")
        params = spec.get("params") or {}
        if not isinstance(params, dict):
            raise _fail(file, f"step {name!r}: 'params' must be a mapping of names to values.")
        config: Any = Config(globals_dict=params) if params else None
        if spec.get("config"):
            from ..params import load_config

            configs = load_config(file.parent / str(spec["config"]))
            for c in configs:
                c.globals_dict.update(params)
            config = configs
        script = Script(f"{resolved}:{function}" if function else resolved, config=config,
                        entrypoint=spec.get("entrypoint"))  # fmt: skip
        steps.append(Step(str(name), script, after))
    return Pipeline(steps, root=root, executor=executor or data.get("executor") or "local",
                    workers=workers or data.get("workers"), name=data.get("name") or file.stem)  # fmt: skip
