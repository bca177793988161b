"""Executors by name, their options, and settings from ``[tool.runlab.executors.NAME]``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import UsageError
from ._base import Executor

__all__ = ["EXECUTORS", "ExecutorSpec", "executor_settings", "get_executor"]


@value_class(frozen=True)
class ExecutorSpec:
    """An executor's class (``module:Class``, imported on use) and its options (name -> type, help)."""

    target: str
    options: Mapping[str, tuple[type, str]]


_WORKERS = (int, "runs executing at once (-j N)")
EXECUTORS: dict[str, ExecutorSpec] = {
    "inline": ExecutorSpec("runlab.executors._inline:InlineExecutor", {}),
    "local": ExecutorSpec(
        "runlab.executors._local:LocalExecutor",
        {
            "workers": _WORKERS,
            "quiet": (bool, "runs' output to out.log only"),
            "grace": (float, "seconds a cancelled run gets before it is killed"),
            "fork": (bool, "fork runs from a warm process (False: a fresh interpreter per run)"),
        },
    ),
    "dask": ExecutorSpec(
        "runlab.executors._dask:DaskExecutor",
        {
            "workers": _WORKERS,
            "scheduler": (str, "scheduler address tcp://host:port (default: a LocalCluster)"),
            "timeout": (float, "seconds to wait for the scheduler"),
            "grace": (float, "seconds a cancelled run gets before it is killed"),
            "index": (bool, "runs write the SQLite index (False: folders only; the submitter indexes)"),
        },
    ),
    "slurm": ExecutorSpec(
        "runlab.executors._slurm:SlurmExecutor",
        {
            "workers": (int, "jobs of an array running at once"),
            "partition": (str, "SLURM partition"),
            "time": (float, "job time limit in minutes"),
            "cpus": (int, "CPUs per job"),
            "gpus": (int, "GPUs per job"),
            "mem": (float, "memory per job in GB"),
            "account": (str, "SLURM account"),
            "folder": (str, "job files and logs, on a shared filesystem"),
            "cluster": (str, "slurm, or local to run the jobs as local processes"),
            "poll": (float, "seconds between job state checks"),
            "signal_delay": (
                int,
                "seconds before the time limit that a job is signalled: its run ends cancelled, "
                "the job is requeued and resumes it",
            ),
            "index": (bool, "jobs write the SQLite index too (default False: the submitter indexes)"),
        },
    ),
}


def executor_settings(name: str, start: Path | None = None) -> dict[str, Any]:
    """Settings for executor ``name`` from ``[tool.runlab.executors.NAME]`` of the nearest pyproject.toml.

    Raises:
        UsageError: that section, or one above it, is not a table.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "pyproject.toml").write_text("[tool.runlab.executors.local]\\nworkers = 4\\n")
        >>> executor_settings("local", folder)
        {'workers': 4}
    """
    from ..store._root import find_pyproject, read_toml

    pyproject = find_pyproject(start)
    if pyproject is None:
        return {}
    text = pyproject.read_text(encoding="utf-8")
    if "executors" not in text:
        return {}
    table: Any = read_toml(pyproject, text)
    keys = ("tool", "runlab", "executors", name)
    for depth, key in enumerate(keys, 1):
        table = table.get(key, {})
        if not isinstance(table, dict):
            raise UsageError(f"Invalid [{'.'.join(keys[:depth])}] in {pyproject}: expected a table of options, "
                             f"got {table!r}.")  # fmt: skip
    return dict(table)


#: The smallest value of a numeric option and whether it must be above it (default: 0 or more).
_MINIMUM: dict[str, tuple[int, bool]] = {"workers": (1, False), "cpus": (1, False), "time": (0, True),
                                         "poll": (0, True), "timeout": (0, True)}  # fmt: skip


def _in_range(key: str, value: float) -> bool:
    """Whether a numeric option's value is finite and at least its minimum (``nan`` never is)."""
    low, positive = _MINIMUM.get(key, (0, False))
    return math.isfinite(value) and (value > low if positive else value >= low)


def _check(name: str, spec: ExecutorSpec, options: Mapping[str, Any], origins: Mapping[str, str]) -> dict[str, Any]:
    """``options`` checked; ``origins``: where the options that come from a settings file are set."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        origin = origins.get(key)
        if key not in spec.options:
            from ..params import did_you_mean

            valid = ", ".join(sorted(spec.options)) or "none"
            raise _invalid(f"Unknown option {key!r} for the {name} executor.{did_you_mean(key, spec.options)} "
                           f"Its options: {valid}.", origin)  # fmt: skip
        type_, help_ = spec.options[key]
        ok = isinstance(value, type_) and not (type_ is not bool and isinstance(value, bool))
        if type_ is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            article = "an" if type_.__name__[0] in "aeiou" else "a"
            raise _invalid(f"Invalid value for the {name} executor's {key!r}: {value!r} is not {article} "
                           f"{type_.__name__} ({help_}).", origin)  # fmt: skip
        if key == "workers" and value < 1:
            raise _invalid(f"Invalid number of workers {value}: give a whole number >= 1, e.g. -j 4.", origin)
        if type_ in (int, float) and not _in_range(key, value):
            low, positive = _MINIMUM.get(key, (0, False))
            raise _invalid(f"Invalid value for the {name} executor's {key!r}: {value!r} is not a number "
                           f"{'>' if positive else '>='} {low} ({help_}).", origin)  # fmt: skip
        if key == "scheduler":
            from ._dask import scheduler_problem

            problem = scheduler_problem(value)
            if problem is not None:
                fix = (
                    'write scheduler = "tcp://host:port" there, e.g. "tcp://10.0.0.5:8786", or remove the line'
                    if origin
                    else "give --dask-scheduler tcp://host:port, e.g. tcp://10.0.0.5:8786, or leave it out"
                )
                raise UsageError(f"Invalid Dask scheduler address {value!r}"
                                 f"{f' (scheduler in {origin})' if origin else ''}: {problem}. To run on a Dask "
                                 f"cluster, {fix} for a local cluster.")  # fmt: skip
        out[key] = value
    return out


def _invalid(message: str, origin: str | None) -> UsageError:
    """The error for a bad option, naming the settings file it is set in (``origin``), if any."""
    return UsageError(f"{message} It is set in {origin}." if origin else message)


def get_executor(name: str, settings: bool = True, **options: Any) -> Executor:
    """An executor by name: ``inline``, ``local``, ``dask`` or ``slurm``.

    Options given here override those in ``[tool.runlab.executors.NAME]`` of pyproject.toml
    (read when ``settings`` is true), so one command runs on a laptop and on a cluster.

    Raises:
        UsageError: an unknown executor, an unknown option or a value of the wrong type or out of
            range (a Dask scheduler address that is none); one from pyproject.toml names it.

    Example:
        >>> get_executor("local", workers=3).workers
        3
    """
    spec = EXECUTORS.get(name)
    if spec is None:
        from ..params import did_you_mean

        raise UsageError(f"Unknown executor {name!r}.{did_you_mean(name, EXECUTORS)} "
                         f"Choose one of: {', '.join(EXECUTORS)}.")  # fmt: skip
    configured = executor_settings(name) if settings else {}
    origins: dict[str, str] = {}
    if set(configured) - set(options):
        from ..store._root import find_pyproject

        origins = dict.fromkeys(set(configured) - set(options), f"[tool.runlab.executors.{name}] of {find_pyproject()}")
    checked = _check(name, spec, {**configured, **options}, origins)
    module, _, cls = spec.target.partition(":")
    factory: type[Executor] = getattr(import_module(module), cls)
    return factory(**checked)
