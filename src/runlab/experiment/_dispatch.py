"""Start any experiment file the same way: what ``runlab run`` and ``runlab rerun`` do.

:func:`launch` takes a functional experiment file, a plain script or a config file whose
``extend`` names one of them, plus overrides and config files, and runs it: one run per
config. :func:`rerun` starts a recorded run again from its ``origin`` (how it was started)
with the same parameters plus overrides, as a new run linked to the original.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import ExperimentNotFoundError, UsageError, ValidationError
from ..lifecycle import Run
from ..params import CONFIG_SUFFIXES, Config, format_override, load_config, load_spec
from ..store._api import get_store
from ..store._store import Store

__all__ = ["FileKind", "file_kind", "launch", "rerun"]

FileKind = Literal["config", "functional", "script"]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ExperimentNotFoundError(f"No such file: {path}. Give an experiment .py file or a config file.")
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; give an experiment .py file or a config file inside it.")
    if path.suffix != ".py" and path.suffix not in CONFIG_SUFFIXES:
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
    if path.suffix in CONFIG_SUFFIXES:
        return "config"
    from ._loader import parse_file

    for node in ast.walk(parse_file(path)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "run_if_main":
                return "functional"
            target = func.value if isinstance(func, ast.Attribute) else func
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
            if name == "Experiment":
                return "functional"
    return "script"


def _override_args(values: Mapping[str, Any]) -> list[str]:
    return [format_override(name, value) for name, value in values.items()]


def _tags(tags: Iterable[str] | str | None) -> list[str]:
    return [tags] if isinstance(tags, str) else list(tags or [])


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
    params: Mapping[str, Any] | None = None,
) -> list[Run]:
    """Run an experiment file with overrides: one run per config, in order.

    Args:
        path: a functional experiment, a plain script (``file.py:function`` names its entry
            point) or a config file whose ``extend`` names one of them.
        argv: parameter overrides (``["--LR=0.1"]``, ``-p NAME=VALUE``, ``--set a.b=1``).
        configs: config files applied before ``argv`` (a sweep gives one run per config).
        name, tags, description, namespace, root: run options (the file's own settings otherwise).
        entrypoint: a plain script's function to call.
        links: extra links in each run's record (``{"rerun_of": ID}``).
        params: run parameters recorded but not injected (a context-style script's).

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

    target, function = split_target(path)
    file = Path(target)
    entrypoint = entrypoint or function
    kind = file_kind(file)
    options: dict[str, Any] = {"name": name, "tags": _tags(tags), "description": description, "namespace": namespace}
    if kind == "config":
        return _launch_config(file, list(argv), list(configs), root, options, dict(links or {}))
    store = get_store(root)
    if kind == "functional":
        if entrypoint:
            raise ValidationError(f"--entrypoint applies to plain scripts; {file} is a functional experiment.")
        config_list = load_config(*map(Path, configs)) if configs else [Config()]
        runs: list[Run] = []
        for config in config_list:
            runs += _launch_functional(file, _override_args(config.globals_dict) + list(argv), store, options, links)
        return runs
    return _launch_script(file, list(argv), list(configs), store, options, entrypoint, links, params)


def _launch_functional(
    file: Path, argv: list[str], store: Store, options: Mapping[str, Any], links: Mapping[str, Any] | None
) -> list[Run]:
    from ._launch import Launch, launching
    from ._loader import exec_file

    request = Launch(argv=argv, root=store, links=dict(links or {}), **options)
    with launching(request):
        exec_file(file, as_main=True, argv=[str(file), *argv])
    if not request.claimed:
        raise ExperimentNotFoundError(
            f"{file} defines no experiment that runs: end it with 'experiment.run_if_main()' (or run it as a script)."
        )
    return list(request.runs)


def _launch_script(
    file: Path,
    argv: list[str],
    configs: list[str | os.PathLike[str]],
    store: Store,
    options: Mapping[str, Any],
    entrypoint: str | None,
    links: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    base: Sequence[Config] | None = None,
) -> list[Run]:
    from ..params import parse_overrides
    from ._script import run_script, script_params

    overrides = parse_overrides(argv, script_params(file)) if argv else {}
    config_list = list(base) if base is not None else (load_config(*map(Path, configs)) if configs else [])
    if not config_list and (overrides or params is not None or links):
        config_list = [Config()]
    for config in config_list:
        config.globals_dict.update(overrides)
    result = run_script(
        file,
        config=config_list or None,
        entrypoint=entrypoint,
        root=store,
        params=params,
        links=dict(links or {}) or None,
        **options,
    )
    return result if isinstance(result, list) else [result]


def _launch_config(
    file: Path,
    argv: list[str],
    configs: list[str | os.PathLike[str]],
    root: str | os.PathLike[str] | Store | None,
    options: dict[str, Any],
    links: dict[str, Any],
) -> list[Run]:
    spec = load_spec(file, *map(Path, configs))
    if spec.extend is None:
        raise ValidationError(
            f"{file} names no experiment: add 'extend: path/to/experiment.py' to it, or run "
            f"'runlab run EXPERIMENT.py -c {file}'."
        )
    for key in ("namespace", "name", "description"):
        if options.get(key) is None:
            options[key] = getattr(spec, key)
    store = get_store(root if root is not None else spec.root)
    configs_out = spec.to_configs()
    if file_kind(spec.extend) == "functional":
        from ._functional import Experiment

        runs: list[Run] = []
        for config in configs_out:
            experiment = Experiment.from_spec(spec, config)
            runs += experiment.launch(_override_args(config.globals_dict) + argv, root=store, links=links, **options)
        return runs
    return _launch_script(spec.extend, argv, [], store, options, None, links, None, base=configs_out)


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
    record = store.load(ref)
    meta = record.metadata
    origin = meta.get("origin")
    if not origin or not origin.get("path"):
        raise UsageError(
            f"Run {record.id} cannot be rerun: it was not started from an experiment file "
            "(runlab.start_run records no origin). Start it again from your code."
        )
    path = Path(origin["path"])
    if not path.exists():
        raise ExperimentNotFoundError(
            f"Run {record.id} was started from {path}, which no longer exists. Restore the file "
            f"(the run's code/ folder holds a snapshot: {record.path / 'code'})."
        )
    values = {k: v["value"] for k, v in meta["params"].items() if v.get("usable", True)}
    options: dict[str, Any] = {
        "name": name,
        "tags": _tags(tags) or list(meta.get("tags") or []),
        "description": description if description is not None else meta.get("description"),
        "namespace": meta.get("namespace"),
        "root": store,
        "links": {"rerun_of": record.id},
    }
    style = origin.get("style")
    if style == "functional":
        config = origin.get("config")
        target = Path(config) if config and Path(config).exists() else path
        return launch(target, _override_args(values) + list(argv), **options)
    if style == "script":
        base = Config(values, list(origin.get("args") or []), dict(origin.get("kwargs") or {}))
        return _launch_script(
            path, list(argv), [], store, _opts(options), origin.get("entrypoint"), options["links"], None, [base]
        )
    if style == "context":  # the block's params come from the run; overrides change them
        from ..params import Param, parse_overrides

        known = {k: Param(k, type(v) if v is not None else Any, v) for k, v in values.items()}
        values.update(parse_overrides(list(argv), known))
        return _launch_script(path, [], [], store, _opts(options), None, options["links"], values)
    raise UsageError(f"Run {record.id} has an unknown origin style {style!r}; it cannot be rerun.")


def _opts(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: options[k] for k in ("name", "tags", "description", "namespace")}
