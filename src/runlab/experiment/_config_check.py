"""``runlab.check_config``: check config files against an experiment, with the results as values.

The checks ``runlab config check`` prints, for code (a test, a CI script, a notebook): every
name a config sets must be a parameter of the experiment (else an error, with a hint naming the
close parameters), and every value must fit the parameter's type (else an error); a value equal
to the parameter's default is a warning (the config changes nothing there). The experiment
file is read, not run; a Python config file is run to get its configs, as ``runlab run -c`` does.

Example:
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "train.py").write_text("import runlab\\nLR: float = 0.1\\nEPOCHS = 3\\n"
    ...                                 "experiment = runlab.Experiment(glob=globals())\\n")
    >>> _ = (d / "c.yml").write_text("parameters:\\n  LR: 0.1\\n  EPOHCS: 5\\n")
    >>> check = check_config(d / "train.py", d / "c.yml")
    >>> check.ok, [i.name for i in check.errors], [i.name for i in check.warnings], check.hints[0].message
    (False, ['EPOHCS'], ['LR'], "Did you mean 'EPOCHS'?")
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import ParameterError

__all__ = ["ConfigCheck", "ConfigIssue", "check_config"]


@value_class(frozen=True)
class ConfigIssue:
    """One finding: ``level`` is ``"error"``, ``"warning"`` or ``"hint"``; ``name`` the parameter concerned."""

    level: str
    name: str
    message: str


@value_class
class ConfigCheck:
    """What :func:`check_config` found; :attr:`ok` when there is no error."""

    experiment: Path
    configs: tuple[Path, ...]
    errors: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)
    hints: list[ConfigIssue] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """The names that are not parameters of the experiment (the other errors are values)."""

    @property
    def ok(self) -> bool:
        return not self.errors


def check_config(experiment: str | os.PathLike[str], *configs: str | os.PathLike[str]) -> ConfigCheck:
    """Check config files (merged left to right, as with ``runlab run -c``) against an experiment file.

    Raises:
        ExperimentNotFoundError, ValidationError: the experiment file is missing or not Python.
        ConfigError: a config file cannot be read (that is bad input, not a finding).
    """
    from ..params import SPECIAL_PARAMS, did_you_mean, load_config, scan_source
    from ._dispatch import file_kind
    from ._script_params import script_params

    script = Path(experiment)
    paths = tuple(Path(c) for c in configs)
    if not paths:
        raise ParameterError("Give at least one config file to check.")
    if file_kind(script) == "script":
        known: dict[str, Any] = {**SPECIAL_PARAMS, **script_params(script)}
    else:
        known = {**SPECIAL_PARAMS, **scan_source(script.read_text(encoding="utf-8"), str(script))}
    result = ConfigCheck(script, paths)
    seen: set[tuple[str, str]] = set()

    def add(target: list[ConfigIssue], level: str, name: str, message: str) -> None:
        if (level, name) not in seen:
            seen.add((level, name))
            target.append(ConfigIssue(level, name, message))

    for config in load_config(paths[0], *paths[1:]):
        mixins = _mixin_params(config.metadata, config.globals_dict) if file_kind(script) != "script" else {}
        for name, value in config.globals_dict.items():
            param = known.get(name) or mixins.get(name)
            if param is None:
                if name not in result.unknown:
                    result.unknown.append(name)
                add(result.errors, "error", name, f"{name!r} is not a parameter of {script}.")
                hint = did_you_mean(name, known).strip()
                if hint:
                    add(result.hints, "hint", name, hint)
                continue
            try:
                param.coerce(value)
            except ParameterError as exc:
                add(result.errors, "error", name, str(exc))
                continue
            if name in SPECIAL_PARAMS:
                continue
            try:
                same = value == param.default and type(value) is type(param.default)
            except Exception:  # a value whose == raises is not "the default"
                same = False
            if same:
                add(result.warnings, "warning", name,
                    f"{name!r} is set to its default {value!r}; the config changes nothing there.")  # fmt: skip
    return result


def _mixin_params(metadata: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of the mixins a config includes (``include:`` and ``__INCLUDE__``), read statically."""
    from ..params import SPECIAL_PARAMS, scan_source

    sources = metadata.get("sources") or []
    folder = Path(sources[-1]).parent if sources else Path.cwd()
    files = [Path(f) for f in metadata.get("include") or []]
    try:
        files += SPECIAL_PARAMS["__INCLUDE__"].coerce(values.get("__INCLUDE__") or [], base_dir=folder)
    except ParameterError:
        pass  # the loop reports the bad value
    found: dict[str, Any] = {}
    for file in files:
        try:
            found.update(scan_source(file.read_text(encoding="utf-8"), str(file)))
        except (OSError, ParameterError):
            continue  # a missing mixin is reported when the config runs
    return found
