"""A functional experiment's parameters: definitions, defaults and the running run's values.

:class:`ParameterSet` is the parameter collaborator of :class:`runlab.Experiment`. It knows
each parameter's :class:`~runlab.params.Param` (type, description, default), where a
default came from (inherited from a base experiment or a mixin, discovered in the module's
UPPERCASE globals, or set explicitly), and the values of the run in progress.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError, RunFinishedError
from ..params import SPECIAL_PARAMS, Param, did_you_mean, discover_params, is_inherit, is_usable
from ._names import is_actionable

if TYPE_CHECKING:
    from ._mixin import ExperimentMixin

__all__ = ["ParameterSet", "merge_param"]


def merge_param(old: Param | None, new: Param, annotated: bool) -> Param:
    """``new`` over an inherited ``old``: the value is new; type and description are kept unless given."""
    if old is None:
        return new
    return Param(
        new.name,
        new.type if annotated else old.type,
        new.default,
        new.description or old.description,
        is_usable(new.default),
    )


def _guess(name: str, value: Any, description: str = "") -> Param:
    return Param(name, Any if value is None else type(value), value, description, is_usable(value))


class ParameterSet:
    """The parameters of one experiment.

    Attributes:
        defs: every parameter's definition, by name.
        defaults: the default values (what a run starts from).
        inherited: definitions from the base experiment and the mixins.
        explicit: names set explicitly (``experiment.LR = 0.1`` before a run, a config file);
            rediscovering the module's globals does not change them.
        own: names discovered in the experiment's own module.
        active: the running run's values (None between runs).

    Example:
        >>> ps = ParameterSet()
        >>> ps.discover({"LR": 0.1, "lower": 1})
        >>> ps.coerce({"LR": "0.5"}, "demo"), sorted(n for n in ps.defs if not n.startswith("__"))
        ({'LR': 0.5}, ['LR'])
    """

    def __init__(self, inherited: Mapping[str, Param] | None = None) -> None:
        self.inherited: dict[str, Param] = dict(inherited if inherited is not None else SPECIAL_PARAMS)
        self.defs: dict[str, Param] = dict(self.inherited)
        self.defaults: dict[str, Any] = {n: p.default for n, p in self.inherited.items()}
        self.explicit: set[str] = set()
        self.own: set[str] = set()
        self.active: dict[str, Any] | None = None

    @property
    def values(self) -> dict[str, Any]:
        """The running run's values, else the defaults (a live dict)."""
        return self.active if self.active is not None else self.defaults

    def set_default(self, name: str, value: Any) -> None:
        """Set a default explicitly (defining the parameter when it is new)."""
        if name not in self.defs:
            self.defs[name] = _guess(name, value)
        self.defaults[name] = value
        self.explicit.add(name)

    def set_active(self, name: str, value: Any) -> Param:
        """Set a value of the running run (defining the parameter when it is new); returns its definition."""
        assert self.active is not None
        param = self.defs.get(name)
        if param is None:
            param = self.defs[name] = _guess(name, value)
        self.active[name] = value
        return param

    def discover(self, glob: Mapping[str, Any]) -> None:
        """(Re)read a module's UPPERCASE globals over the inherited parameters (explicit settings win).

        A global set to ``INHERIT`` / ``INHERIT(fn)`` takes the inherited value (transformed); the
        module's global is set to that value, as the run will see it.

        Raises:
            InheritError: ``INHERIT`` for a parameter the base lacks, or a failing transform.
        """
        if not glob:
            return
        annotated = set(glob.get("__annotations__") or {})
        for name, param in discover_params(glob).items():
            if name in self.explicit:
                continue
            if name in self.own and self.defaults.get(name) is param.default:
                continue
            if is_inherit(param.default):
                param = self.inherit(param, name in annotated)
                if isinstance(glob, MutableMapping):
                    glob[name] = param.default
            self.defs[name] = merge_param(self.inherited.get(name), param, name in annotated)
            self.defaults[name] = param.default
            self.own.add(name)

    def apply_changes(self, changed: Mapping[str, Any]) -> None:
        """Take the defaults a ``before_experiment_parameters`` plugin added or changed."""
        for name, value in changed.items():
            if name in self.defaults and self.defaults[name] is value:
                continue
            old = self.defs.get(name) or SPECIAL_PARAMS.get(name)
            self.defs[name] = (
                dataclasses.replace(old, default=value, usable=is_usable(value))
                if old is not None
                else _guess(name, value, "Added by a plugin.")
            )
            self.defaults[name] = value

    def inherit(self, param: Param, annotated: bool) -> Param:
        """``param`` (set to ``INHERIT`` or ``INHERIT(fn)``) with the inherited value as its default.

        Raises:
            InheritError: no inherited parameter of that name, or a failing transform.
        """
        value = param.default.resolve(param.name, self.inherited.get(param.name), self.inherited)
        return Param(param.name, param.type if annotated else Any, value, param.description, is_usable(value))

    def add_mixin(self, mixin: ExperimentMixin) -> None:
        """Add a mixin's parameters (the experiment's own values win; their descriptions fill gaps)."""
        annotated = mixin.annotated()
        for name, param in mixin.parameters().items():
            if is_inherit(param.default):
                param = self.inherit(param, name in annotated)
            merged = merge_param(self.inherited.get(name), param, name in annotated)
            self.inherited[name] = merged
            if name in self.own or name in self.explicit:
                own = self.defs[name]
                self.defs[name] = dataclasses.replace(own, description=own.description or merged.description)
                continue
            self.defs[name] = merged
            self.defaults[name] = merged.default

    def known(self, name: str, label: str | None, where: str = "") -> Param:
        """The definition of ``name``.

        Raises:
            ParameterError: no such parameter (the message suggests a close name and lists them).
        """
        param = self.defs.get(name)
        if param is None:
            raise ParameterError(
                f"Unknown parameter {name!r}{where}.{did_you_mean(name, self.defs)} "
                f"Parameters of {label or 'this experiment'}: "
                f"{', '.join(n for n in self.defs if not n.startswith('__')) or 'none'}.",
                name,
            )
        return param

    def coerce(self, values: Mapping[str, Any], label: str | None) -> dict[str, Any]:
        """``values`` validated and converted to their parameters' types.

        Raises:
            ParameterError: an unknown name or a value of the wrong type.
        """
        return {str(k): self.value_of(str(k), v, label) for k, v in values.items()}

    def value_of(self, name: str, value: Any, label: str | None, where: str = "", base_dir: Path | None = None) -> Any:
        """One value given for ``name`` (an override, a config's), validated and converted to its type.

        ``INHERIT(fn)`` transforms the current default; relative paths resolve against ``base_dir``.

        Raises:
            ParameterError: an unknown name or a value of the wrong type.
        """
        param = self.known(name, label, where)
        if is_inherit(value):
            value = value.resolve(name, dataclasses.replace(param, default=self.defaults.get(name, param.default)))
        return param.coerce(value, base_dir=base_dir)

    @staticmethod
    def info(param: Param, value: Any) -> dict[str, Any]:
        """What ``run.json`` records about a parameter besides its value."""
        return {"type": param.type_name, "description": param.description, "usable": is_usable(value)}

    def describe(self, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """:meth:`info` of each of ``values`` that has a definition."""
        return {n: self.info(self.defs[n], v) for n, v in values.items() if n in self.defs}

    def read(self, owner: Any, name: str, value: Any) -> Any:
        """``e.NAME``: the value, through its actionable type (``CopiedPath`` ...) when it has one."""
        param = self.defs.get(name)
        if param is not None and is_actionable(param.type):
            has_folder = owner.archive is not None or owner.current_run is not None
            return param.type.get(owner if has_folder else None, value)
        return value

    def write(self, owner: Any, name: str, value: Any) -> None:
        """``e.NAME = value``: a default between runs; during a run, the run's value (recorded at once).

        Raises:
            RunFinishedError: ``owner`` is an archived run.
        """
        if owner.archive is not None:
            raise RunFinishedError(f"Cannot set {name}: this is an archived run ({owner.archive}), which is read-only.")
        param = self.defs.get(name)
        if param is not None and is_actionable(param.type):
            value = param.type.set(owner, value)
        if self.active is None:
            self.set_default(name, value)
            return
        param = self.set_active(name, value)
        run = owner.current_run
        if run is not None and run.status == "running":
            run.log_params({name: value}, {name: self.info(param, value)})

    def value_lines(self, width: int, names: Iterable[str] | None = None) -> list[str]:
        """``e.log_parameters()``'s lines: every value (special ones last) or ``names``', cut to ``width``.

        Raises:
            ParameterError: a name is not a parameter.
        """
        values = self.values
        ordered = sorted(values, key=lambda n: (n.startswith("__"), n))
        if names is not None:
            wanted = [names] if isinstance(names, str) else list(names)
            for name in wanted:
                if name not in values:
                    raise ParameterError(f"No parameter {name!r} to log.{did_you_mean(name, values)}", name)
            ordered = wanted
        pad = max((len(n) for n in ordered), default=0)
        lines = ["parameters:"]
        for name in ordered:
            try:
                text = repr(values[name])
            except Exception as exc:  # a value whose repr raises is still logged
                text = f"<{type(values[name]).__name__}: repr failed: {type(exc).__name__}: {exc}>"
            room = max(width - pad - 30, 10)
            if len(text) > room:
                text = text[: room - 3] + "..."
            lines.append(f"  {name:<{pad}} = {text}")
        return lines

    def help_lines(self, width: int) -> list[str]:
        """The parameter sections of ``--help``."""
        lines: list[str] = []
        for title, special in (("Parameters:", False), ("Special parameters:", True)):
            names = [n for n in self.defs if n.startswith("__") == special]
            if not names:
                continue
            lines.append(title)
            for name in names:
                param = self.defs[name]
                default = repr(self.defaults.get(name))
                if len(default) > width // 2:
                    default = default[: width // 2 - 3] + "..."
                lines.append(f"  --{name}  ({param.type_name}, default {default})")
                if param.description:
                    lines.append(f"      {param.description}")
            lines.append("")
        return lines
