"""Start any experiment file the same way: what ``runlab run`` and ``runlab rerun`` do.

:func:`launch` takes a functional experiment file, a plain script or a config file whose
``extend`` names one of them, plus overrides and config files, and runs it: one run per
config. :func:`rerun` starts a recorded run again from its ``origin`` (how it was started)
with the same parameters plus overrides, as a new run linked to the original.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ExperimentNotFoundError, UsageError, ValidationError
from ..lifecycle import Run
from ..lifecycle._values import param_value
from ..store._api import get_store
from ..store._store import Store
from ._execute import run_config, run_file
from ._request import Links, Origin, RunOptions, RunRequest, RunResult, Target

if TYPE_CHECKING:
    from ..params import Config
    from ..store import RunRecord

__all__ = ["FileKind", "file_kind", "launch", "request_of_record", "rerun"]

FileKind = Literal["config", "functional", "script"]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ExperimentNotFoundError(f"No such file: {path}. Give an experiment .py file or a config file.")
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; give an experiment .py file or a config file inside it.")
    if path.suffix == ".py":
        return
    from ..params import CONFIG_SUFFIXES  # the config modules load only for config files

    if path.suffix not in CONFIG_SUFFIXES:
        raise ValidationError(
            f"Cannot run {path}: expected a Python file (.py) or a config file ({', '.join(CONFIG_SUFFIXES)})."
        )


def file_kind(path: str | os.PathLike[str]) -> FileKind:
    """What kind of experiment file ``path`` is, read statically (nothing is executed).

    ``"functional"`` when the file makes a :class:`runlab.Experiment`, ``"config"`` for
    YAML/TOML/JSON config files, else ``"script"``.

    Raises:
        ExperimentNotFoundError: the file does not exist.
        ValidationError: not a ``.py`` or config file, or a syntax error (file and line shown).
    """
    path = Path(path)
    _check_file(path)
    if path.suffix != ".py":  # a config file: _check_file accepts nothing else
        return "config"
    return _source_kind(path.read_bytes(), str(path))


@functools.lru_cache(maxsize=32)
def _source_kind(source: bytes, file: str) -> FileKind:
    """:func:`file_kind` of a Python file's text, remembered (a sweep asks once per run)."""
    from .._pyfile import parse_source

    for node in ast.walk(parse_source(source, Path(file))):
        if isinstance(node, ast.Call) and _makes_experiment(node.func):
            return "functional"
    return "script"


_MAKERS = frozenset({"extend", "from_config", "from_spec"})
"""``Experiment`` class methods that make a runnable experiment (``load``, ``import_from``,
``is_archive`` ... only read one: a script calling them is still a plain script)."""


def _makes_experiment(func: ast.expr) -> bool:
    """Whether a call of ``func`` makes or runs an experiment: ``x.run_if_main()``,
    ``Experiment(...)`` / ``runlab.Experiment(...)``, ``Experiment.extend(...)`` and the like."""
    if isinstance(func, ast.Attribute) and func.attr == "run_if_main":
        return True
    if isinstance(func, ast.Attribute) and func.attr in _MAKERS:
        func = func.value
    return (isinstance(func, ast.Name) and func.id == "Experiment") or (
        isinstance(func, ast.Attribute) and func.attr == "Experiment"
    )


def _tags(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    return (tags,) if isinstance(tags, str) else tuple(tags or ())


def _with_metadata(options: RunOptions, metadata: Mapping[str, Any]) -> RunOptions:
    """``options`` with a config's ``namespace``/``name``/``description`` where the command set none."""
    changes = {
        key: metadata[key]
        for key in ("namespace", "name", "description")
        if getattr(options, key) is None and isinstance(metadata.get(key), str) and metadata[key]
    }
    return replace(options, **changes) if changes else options


def launch(
    path: str | os.PathLike[str],
    argv: Sequence[str] = (),
    configs: Sequence[str | os.PathLike[str]] = (),
    *,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    namespace: str | None = None,
    root: str | os.PathLike[str] | Store | None = None,
    entrypoint: str | None = None,
    links: Mapping[str, Any] | None = None,
    via: str = "runlab run",
    resume: str | None = None,
    reproducible: bool = False,
) -> list[Run]:
    """Run an experiment file with overrides: one run per config, in order.

    Each run is a :class:`~runlab.request.RunRequest` built here (parameters parsed once:
    a plain script's against its globals, a functional experiment's by the experiment, whose
    parameters exist once its file ran) and executed as :func:`runlab.execute` would.

    Args:
        path: a functional experiment, a plain script (``file.py:function`` names its entry
            point) or a config file whose ``extend`` names one of them.
        argv: parameter overrides (``["--LR=0.1"]``, ``-p NAME=VALUE``, ``--set a.b=1``).
        configs: config files applied before ``argv`` (a sweep gives one run per config).
        name, tags, description, namespace, root: run options (the file's own settings otherwise).
        entrypoint: a plain script's function to call.
        links: links in each run's record (``{"sweep": ID}``).
        via: the entry point recorded as ``origin.via``.
        resume: continue a crashed or cancelled run (its ID or name, or ``"auto"``) instead of
            creating one; one config only.
        reproducible: save what ``runlab reproduce`` needs (docs/reproduce.md).

    Returns:
        The finished runs. The user's exception propagates once its run is recorded as failed.

    Raises:
        UsageError: a bad path, override, config or entry point; no run is created.

    Example:
        >>> import runlab, tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "hello.py").write_text("name = 'World'\\ndef main():\\n    return 'Hello ' + name\\n")
        >>> [run] = launch(folder / "hello.py", ["--name=runlab"], root=folder / "runs")
        >>> run.status, runlab.load(run.id, root=folder / "runs").data["result"]
        ('completed', 'Hello runlab')
    """
    from ._loader import split_target

    text, function = split_target(path)
    file = Path(text)
    entrypoint = entrypoint or function
    kind = file_kind(file)
    base = RunRequest(
        Target("functional", file),
        options=RunOptions(
            name, _tags(tags), description, namespace, _root(root), resume=resume, reproducible=reproducible
        ),
        links=Links.from_mapping(links),
        origin=Origin(via, tuple(argv)),
    )
    if resume is not None and (len(configs) > 1 or kind == "config"):
        raise ValidationError("--resume continues one run; it cannot be combined with a sweep or a config file.")
    if kind == "config":
        return _launch_config(file, base, list(argv), list(configs), entrypoint)
    if kind == "functional":
        if entrypoint:
            raise ValidationError(f"--entrypoint applies to plain scripts; {file} is a functional experiment.")
        if not configs:  # one run with the file's own parameters: no Config to make
            return [_finish(run_file(base, list(argv)))]
        runs: list[Run] = []
        for config in _config_list(configs):
            request = replace(base, params=config.globals_dict, options=_with_metadata(base.options, config.metadata))
            runs.append(_finish(run_file(request, list(argv))))
        return runs
    target = Target("script", file, entrypoint)
    return _launch_script(replace(base, target=target), list(argv), _config_list(configs) if configs else None)


def _root(root: str | os.PathLike[str] | Store | None) -> str | None:
    if root is None:
        return None
    return str(root.root) if isinstance(root, Store) else os.fspath(root)


def _config_list(configs: Sequence[str | os.PathLike[str]]) -> Iterable[Config]:
    """The configs of the ``-c`` files (one at least), lazily: a ``config_gen()`` is asked for each next after a run."""
    from ..params import iter_configs  # the config-file modules load only for -c files

    first, *more = map(Path, configs)
    return iter_configs(first, *more)[0]


def _finish(result: RunResult) -> Run:
    """The run of ``result``; its exception propagates (the CLI reports it, a sweep stops)."""
    if result.exception is not None:
        raise result.exception
    assert result.run is not None
    return result.run


def _launch_script(base: RunRequest, argv: list[str], configs: Iterable[Config] | None) -> list[Run]:
    """Run a plain script once per config; ``argv`` is parsed here, against the script's globals."""
    from ..params import Config, parse_overrides
    from ._script import Script, ScriptExecutor
    from ._script_params import script_settable, script_values, split_values

    target = base.target
    file = target.path
    assert file is not None
    settable = script_settable(file, target.entrypoint) if argv or configs is not None else ({}, {})
    overrides: dict[str, Any] = {}
    arguments: dict[str, Any] = {}
    if argv:  # a named entry point's arguments are settable too (they win over a global of the same name)
        overrides, arguments = split_values(file, parse_overrides(argv, {**settable[0], **settable[1]}), settable)
    if arguments:
        target = replace(target, kwargs={**target.kwargs, **arguments})
        base = replace(base, target=target, recorded={**base.recorded, **arguments})
    script = Script(file, entrypoint=target.entrypoint, run_as_main=target.run_as_main)
    options = base.options
    executor = ScriptExecutor(script, root=options.root, capture=options.capture)
    runs: list[Run] = []
    for config in configs if configs is not None else [Config()]:
        values, _ = script_values(file, config.globals_dict, (settable[0], {}), unknown_ok=True)  # as -p values
        request = replace(
            base,
            target=replace(target, args=tuple(config.args), kwargs={**config.kwargs, **arguments})
            if configs is not None
            else target,
            params={**base.params, **values, **overrides} if target.kind == "script" else base.params,
            options=_with_metadata(options, config.metadata),
        )
        runs.append(_finish(executor.execute_request(request, metadata=config.metadata)))
    return runs


def _launch_config(
    file: Path, base: RunRequest, argv: list[str], configs: list[str | os.PathLike[str]], entrypoint: str | None
) -> list[Run]:
    from ..params import load_spec

    spec = load_spec(file, *map(Path, configs))
    if spec.extend is None:
        raise ValidationError(
            f"{file} names no experiment: add 'extend: path/to/experiment.py' to it, or run "
            f"'runlab run EXPERIMENT.py -c {file}'."
        )
    options = _with_metadata(base.options, {"namespace": spec.namespace, "name": spec.name,
                                            "description": spec.description})  # fmt: skip
    if options.root is None and spec.root is not None:
        options = replace(options, root=_root(spec.root))
    base = replace(base, options=options)
    if file_kind(spec.extend) == "functional":
        if entrypoint:
            raise ValidationError(f"--entrypoint applies to plain scripts; {spec.extend} is a functional experiment.")
        runs: list[Run] = []
        for config in spec.to_configs():
            request = replace(base, target=Target("config", file), params=config.globals_dict)
            runs.append(_finish(run_config(request, argv)))
        return runs
    return _launch_script(replace(base, target=Target("script", spec.extend, entrypoint)), argv, spec.to_configs())


def request_of_record(record: RunRecord, argv: Sequence[str] = (), code_dir: Path | None = None) -> RunRequest:
    """The request that starts recorded run ``record`` again (``rerun_of`` it), from its ``origin``.

    With ``code_dir`` (the run's archived ``code/`` folder, as ``runlab reproduce`` uses it) the
    experiment and config files are taken from there, by name, instead of where they were.

    Raises:
        UsageError: the run was not started from an experiment file, or its file is gone.
    """
    meta = record.metadata
    origin = meta.get("origin")
    if not origin or not origin.get("path"):
        raise UsageError(
            f"Run {record.id} cannot be rerun: it was not started from an experiment file "
            "(runlab.start_run records no origin). Start it again from your code."
        )

    def located(file: str) -> Path:
        return code_dir / Path(file).name if code_dir is not None else Path(file)

    path = located(origin["path"])
    if not path.exists():
        raise ExperimentNotFoundError(
            f"Run {record.id} was started from {path}, which no longer exists. Restore the file "
            f"(the run's code/ folder holds a snapshot: {record.path / 'code'})."
        )
    values = {k: param_value(v) for k, v in meta["params"].items() if v.get("usable", True)}
    style = origin.get("style")
    if style == "functional":
        config = origin.get("config")
        use_config = bool(config) and located(config).exists()
        target = Target("config", located(config)) if use_config else Target("functional", path)
    elif style == "script":
        args = tuple(origin.get("args") or ())
        target = Target("script", path, origin.get("entrypoint"), args, dict(origin.get("kwargs") or {}))
    elif style == "context":
        target = Target("context", path)
    else:
        raise UsageError(f"Run {record.id} has an unknown origin style {style!r}; it cannot be rerun.")
    options = RunOptions(
        tags=tuple(meta.get("tags") or ()), description=meta.get("description"), namespace=meta.get("namespace")
    )
    return RunRequest(target, values, options, Links(rerun_of=record.id), Origin("runlab rerun", tuple(argv)))


def rerun(
    ref: str,
    argv: Sequence[str] = (),
    *,
    root: str | os.PathLike[str] | Store | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
) -> list[Run]:
    """Start run ``ref`` again with its parameters plus ``argv`` overrides, as a new linked run.

    The new run records ``rerun_of`` (the original's id) and keeps the original's namespace
    and tags unless given.

    Raises:
        RunNotFoundError, AmbiguousRunError: ``ref`` does not name one run.
        UsageError: the run was not started from an experiment file, or its file is gone.
    """
    store = get_store(root)
    request = request_of_record(store.load(ref), argv)
    changes: dict[str, Any] = {"root": str(store.root), "name": name}
    if tags:
        changes["tags"] = _tags(tags)
    if description is not None:
        changes["description"] = description
    request = request.with_options(**changes)
    kind = request.target.kind
    if kind == "functional":
        return [_finish(run_file(request, list(argv)))]
    if kind == "config":
        return [_finish(run_config(request, list(argv)))]
    if kind == "context":  # recorded values, overrides on top: globals are injected, the block reads the rest
        from ..params import Param, parse_overrides

        known = {k: Param(k, type(v) if v is not None else Any, v) for k, v in request.params.items()}
        request = request.with_params(parse_overrides(list(argv), known))
        argv = ()
    return _launch_script(request, list(argv), None)
