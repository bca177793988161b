"""Workflow files: YAML with steps, their scripts and dependencies (``runlab workflow run FILE``).

::

    name: fit-and-evaluate        # optional
    executor: local               # optional: inline, local (default), dask
    workers: 2                    # optional: runs at a time
    steps:
      prep:
        script: prep.py           # relative to this file
        params: {n_points: 50}    # as `runlab run prep.py -p n_points=50`: checked and typed
      train:
        script: train.py
        config: configs/lr.yml    # a config file; its sweep gives several runs of this step
        after: [prep]
      evaluate:
        script: evaluate.py:score # file.py:function names the entry point
        params: {checkpoint: best.pt}  # an argument of score() (or a global)
        after: [train]

The file is read as config files are (:func:`runlab.params.read_file`); a key given twice in one
mapping (a step name above all) is refused there, since YAML would keep only the last one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UsageError
from ._flows import Pipeline
from ._graph import Step

__all__ = ["load_workflow_file", "typed_configs"]

_TOP = ("name", "executor", "workers", "steps")
_STEP = ("script", "params", "config", "after", "entrypoint")


def typed_configs(script: Any, configs: Iterable[Any]) -> list[Any]:
    """The configs read from config files for a step's ``script``, typed as ``runlab run SCRIPT -c FILE``
    types them (see :func:`runlab.experiment._script_params.typed_file_configs`)."""
    from ..experiment._script_params import typed_file_configs

    return list(typed_file_configs(script.file, script.entrypoint, configs, "a workflow"))


def _fail(path: Path, message: str, line: int | None = None) -> ConfigError:
    return ConfigError(f"Invalid workflow file {path}: {message}", str(path), line)


def load_workflow_file(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None,
                       executor: str | None = None, workers: int | None = None) -> Pipeline:  # fmt: skip
    """A :class:`Pipeline` from a YAML workflow file (see the module docstring for the format).

    ``executor`` and ``workers`` override the file's. A step's ``params`` are checked and typed
    as ``runlab run SCRIPT -p NAME=VALUE`` does: globals of the script, or arguments of its
    named entry point (``file.py:function``), which are passed to it and recorded.

    Raises:
        ConfigError: an unreadable, non-UTF-8 or malformed file (with its line), a key given
            twice, an unknown key, a bad script (missing, a folder, a syntax error), an unknown
            parameter or a value of the wrong type; ValidationError: a cycle or a dependency on
            an unknown step (nothing is run).
    """
    from ..experiment import Script
    from ..experiment._script_params import script_settable, script_values
    from ..params import Config, read_file

    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "does not exist"
        raise ConfigError(f"Cannot read workflow file {file}: it {what}. Give a YAML workflow file.", str(file))
    try:
        data = read_file(file, "name, steps, ...")  # one line, with the line: non-UTF-8, malformed, a key twice
    except OSError as exc:
        raise ConfigError(f"Cannot read workflow file {file}: {exc.strerror or exc}.", str(file)) from None
    if not isinstance(data.get("steps"), dict) or not data["steps"]:
        raise _fail(file, "expected a mapping with 'steps': {name: {script: FILE, after: [...]}}.")
    for key in data:
        if key not in _TOP:
            raise _fail(file, f"unknown key {key!r}; keys are {', '.join(_TOP)}.")
    for key in ("name", "executor"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise _fail(file, f"{key!r} must be a text, got {data[key]!r}.")
    count = data.get("workers")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise _fail(file, f"'workers' must be a whole number >= 1 (runs at a time), got {count!r}.")
    steps = []
    for name, spec in data["steps"].items():
        if not isinstance(name, str):
            raise _fail(file, f"step names must be texts, got {name!r}; give a name (quote a number: '1':).")
        if isinstance(spec, str):
            spec = {"script": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("script"), str):
            raise _fail(file, f"step {name!r} needs 'script: FILE' (the path of a .py file).")
        for key in spec:
            if key not in _STEP:
                raise _fail(file, f"unknown key {key!r} in step {name!r}; keys are {', '.join(_STEP)}.")
        for key in ("config", "entrypoint"):
            if spec.get(key) is not None and not isinstance(spec[key], str):
                raise _fail(file, f"step {name!r}: {key!r} must be a text, got {spec[key]!r}.")
        after = spec.get("after") or []
        if isinstance(after, str):
            after = [after]
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise _fail(file, f"step {name!r}: 'after' must be a list of step names.")
        params = spec.get("params") or {}
        if not isinstance(params, dict):
            raise _fail(file, f"step {name!r}: 'params' must be a mapping of names to values.")
        try:
            script = Script(file.parent / str(spec["script"]), entrypoint=spec.get("entrypoint"))
            values, arguments = script_values(script.file, params, script_settable(script.file, script.entrypoint))
            config: Any = Config(globals_dict=values) if values else None
            if spec.get("config"):
                from ..params import load_config

                config = typed_configs(script, load_config(file.parent / str(spec["config"])))
                for c in config:
                    c.globals_dict.update(values)  # the step's params win over the file's
            if config is not None:
                script = Script(script.file, config=config, entrypoint=script.entrypoint)
        except UsageError as exc:
            raise _fail(file, f"step {name!r}: {exc}") from None
        steps.append(Step(str(name), script, after, arguments=arguments))
    return Pipeline(steps, root=root, executor=executor or data.get("executor") or "local",
                    workers=workers or data.get("workers"), name=data.get("name") or file.stem)  # fmt: skip
