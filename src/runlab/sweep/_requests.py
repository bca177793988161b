"""Run requests for a sweep: one per config and override list, validated before anything runs.

The overrides of each run are parsed here, against the experiment's parameters: a plain
script's globals (read statically) or a functional experiment's parameters (its file is
loaded, not run). A bad value raises before any run exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ExperimentNotFoundError, ValidationError
from ..params import Config, check_sweep_size, load_config, load_spec, parse_overrides
from ..request import Origin, RunOptions, RunRequest, Target

__all__ = ["build_requests", "load_experiment"]


def load_experiment(file: Path) -> Any:
    """The :class:`runlab.Experiment` a functional experiment file makes (the file is loaded, not run).

    Raises:
        ExperimentNotFoundError: the file makes no experiment.
    """
    from ..experiment import Experiment
    from ..experiment._loader import exec_file

    module = exec_file(file, as_main=False)
    found = [v for v in vars(module).values() if isinstance(v, Experiment)]
    if not found:
        raise ExperimentNotFoundError(
            f"{file} makes no runlab.Experiment at module level; a sweep cannot read its parameters. "
            "Assign it to a global, e.g. 'experiment = Experiment(...)'."
        )
    return found[-1]


def _with_metadata(options: RunOptions, metadata: dict[str, Any]) -> RunOptions:
    changes = {k: metadata[k] for k in ("namespace", "name", "description")
               if getattr(options, k) is None and isinstance(metadata.get(k), str) and metadata[k]}  # fmt: skip
    return replace(options, **changes) if changes else options


def _check_file_sweeps(configs: Sequence[Config], argvs: Sequence[Sequence[str]]) -> None:
    """Refuse an override of a parameter that a config file sweeps: it would replace every swept value."""
    swept: dict[str, list[str]] = {}  # dotted name -> the files that sweep it
    for config in configs:
        for name in config.metadata.get("sweep_values") or {}:
            swept.setdefault(name, [str(s) for s in config.metadata.get("sources", [])])
    if not swept:
        return
    from ..params._overrides import _tokens

    seen: set[str] = set()
    for argv in argvs:
        for name, text in _tokens([a for a in argv if a != "--allow-new"]):
            if name in seen:
                continue
            seen.add(name)
            for dotted, files in swept.items():
                if name == dotted or name.startswith(dotted + ".") or dotted.startswith(name + "."):
                    where = ", ".join(files) or "the config file"
                    raise ValidationError(f"Parameter {name!r} is swept by {where} and also given on the command "
                                          f"line ({name}={text}): it would replace the file's values. Give it "
                                          "once: drop it from the file's sweep, or from the command line.")  # fmt: skip


def build_requests(
    path: str | os.PathLike[str],
    argvs: Sequence[Sequence[str]],
    configs: Sequence[str | os.PathLike[str]] = (),
    *,
    options: RunOptions | None = None,
    entrypoint: str | None = None,
    via: str = "runlab sweep",
) -> list[tuple[list[str], RunRequest]]:
    """``(argv, request)`` for every config of ``configs`` (config files, expanded) times every ``argvs`` item.

    Args:
        path: a functional experiment, a plain script (``file.py:function``) or a config file
            whose ``extend`` names one.
        argvs: override lists, one per run (see :func:`runlab.params.sweep_argv`).
        configs: config files applied before the overrides (their sweeps expand).
        options: run options of every run.
        entrypoint: a plain script's function.

    Raises:
        UsageError: a bad path, config, override or value, or more runs than
            :data:`runlab.params._sweep.MAX_SWEEP_RUNS` (no run exists).

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "t.py"
        >>> _ = f.write_text("lr = 0.1\\ndef main():\\n    return lr\\n")
        >>> [(argv, r.params) for argv, r in build_requests(f, [["--lr=0.5"], ["--lr=1"]])]
        [(['--lr=0.5'], {'lr': 0.5}), (['--lr=1'], {'lr': 1.0})]
    """
    from ..experiment._dispatch import file_kind
    from ..experiment._loader import split_target

    text, function = split_target(path)
    file = Path(text).resolve()
    entrypoint = entrypoint or function
    options = options or RunOptions()
    kind = file_kind(file)
    base_configs: list[Config] = load_config(*map(Path, configs)) if configs else [Config()]
    config_target: Path | None = None
    if kind == "config":
        spec = load_spec(file, *map(Path, configs))
        if spec.extend is None:
            raise ValidationError(f"{file} names no experiment: add 'extend: path/to/experiment.py' to it, or run "
                                  f"'runlab run EXPERIMENT.py -c {file}'.")  # fmt: skip
        options = _with_metadata(options, {"namespace": spec.namespace, "name": spec.name,
                                           "description": spec.description})  # fmt: skip
        if options.root is None and spec.root is not None:
            options = replace(options, root=os.fspath(spec.root))
        base_configs, config_target, file = spec.to_configs(), file, Path(spec.extend).resolve()
        kind = file_kind(file)
    _check_file_sweeps(base_configs, argvs)
    if len(base_configs) > 1 and len(argvs) > 1:  # each part is within the limit; their product may not be
        check_sweep_size({"configs from files": len(base_configs), "command-line combinations": len(argvs)},
                         split="one command per config file, or fewer --sweep values")  # fmt: skip
    out: list[tuple[list[str], RunRequest]] = []
    if kind == "functional":
        if entrypoint:
            raise ValidationError(f"--entrypoint applies to plain scripts; {file} is a functional experiment.")
        experiment = load_experiment(file)
        params_info = experiment.parameter_info
        target = Target("config", config_target) if config_target else Target("functional", file)
        for config in base_configs:
            for argv in argvs:
                values = {**config.globals_dict, **parse_overrides(list(argv), params_info)}
                request = experiment.request(values, via=via, options=_with_metadata(options, config.metadata))
                out.append((list(argv), replace(request, target=target, origin=Origin(via, tuple(argv)))))
        return out
    from ..experiment._script import Script
    from ..experiment._script_params import check_call, script_settable, script_values, split_values

    script = Script(file, entrypoint=entrypoint)  # checked as a single run's: syntax, entry point
    settable = script_settable(file, entrypoint)  # the file is read once for every config and override
    names = {**settable[0], **settable[1]}
    for config in base_configs:
        typed, _ = script_values(file, config.globals_dict, (settable[0], {}), unknown_ok=True)  # as -p values
        for argv in argvs:
            parsed, arguments = split_values(file, parse_overrides(list(argv), names) if argv else {}, settable)
            target = Target("script", file, entrypoint, tuple(config.args), {**config.kwargs, **arguments})
            opts = _with_metadata(options, config.metadata)
            values = {**typed, **parsed}
            check_call(script.info, entrypoint, values, target.args, target.kwargs)  # before any run exists
            out.append((list(argv), RunRequest(target, values, opts, origin=Origin(via, tuple(argv)),
                                               recorded=arguments)))  # fmt: skip
    return out
