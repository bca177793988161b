"""Functional experiments (PyComex style): :class:`Experiment`.

An experiment file declares its parameters as UPPERCASE globals, makes an ``Experiment``
from its ``globals()``, decorates its main function and ends with ``run_if_main()``::

    \"\"\"Train a tiny model.\"\"\"            # the run's description
    from runlab import Experiment

    LEARNING_RATE: float = 0.01        # step size (becomes the parameter's description)
    EPOCHS: int = 3

    experiment = Experiment(glob=globals())

    @experiment
    def main(e):
        for epoch in range(e.EPOCHS):
            e.track("loss", 1.0 / (epoch + 1))
        e["results/final"] = 0.33

    experiment.run_if_main()

``python train.py --LEARNING_RATE=0.1 --__DEBUG__=true`` runs it with overrides (``--help``
lists the parameters); ``experiment.run(EPOCHS=1)`` runs it from a notebook or a test.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExperimentContextError, ExperimentNotFoundError, ValidationError
from ..hooks import get_registry
from ..hooks._specs import BEFORE_EXPERIMENT_PARAMETERS, EXPERIMENT_CONSTRUCTED
from ..lifecycle import Run, RunData
from ..params import SPECIAL_PARAMS, Param, did_you_mean, discover_params, is_usable
from ..store._store import Store
from ._base import DEFAULT_NAME_FORMAT, SAFE_NAME
from ._hooks import HookMap
from ._mixin import ExperimentMixin
from ._modules import find_instance, load_module, resolve_file
from ._runner import ExperimentRunner

if TYPE_CHECKING:
    from ..params import ConfigSpec
    from ..params._config import Config
    from ..store import RunRecord


__all__ = ["Experiment"]

_NAME_FIELDS = re.compile(r"\{(date|time|id)\}")
_OPTIONS = ("root", "base_path", "debug", "name_format", "console_width", "name", "description", "tags", "notify")


def _merge_param(old: Param | None, new: Param, annotated: bool) -> Param:
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


def _check_name_format(name_format: str) -> str:
    if not isinstance(name_format, str) or "{id}" not in name_format:
        raise ValidationError(
            f"Invalid name_format {name_format!r}: it must contain '{{id}}' (and may use '{{date}}' and "
            "'{time}'), e.g. '{date}_{time}_{id}'."
        )
    rest = _NAME_FIELDS.sub("", name_format)
    if not SAFE_NAME.match(rest):
        raise ValidationError(
            f"Invalid name_format {name_format!r}: besides {{date}}, {{time}} and {{id}} use only letters, digits, "
            "'_', '-' and '.'."
        )
    return name_format


class Experiment(ExperimentRunner):
    """A functional experiment: parameters from a module's UPPERCASE globals, a main function, hooks.

    The experiment object is also what the main function, hooks and testing and analysis
    functions receive (``e``): ``e.PARAM`` reads and writes parameters (actionable types
    honoured), ``e["a/b"] = v`` stores nested data, ``e.log()``, ``e.track()`` and
    ``e.commit_*()`` record output of the run, ``e.path`` is the run's folder.

    Special parameters: ``__DEBUG__`` writes the run to ``<namespace>/debug`` (replacing the
    previous debug run; the run is tagged ``debug``), ``__TESTING__`` calls the
    ``@experiment.testing`` functions first (tag ``testing``), ``__PREFIX__`` prefixes the
    run's folder and name, ``__REPRODUCIBLE__`` packages actionable parameters (``CopiedPath``).

    One experiment object runs one run at a time.

    Args:
        namespace: where runs go in the store (default: the file's name without ``.py``).
        glob: the module's ``globals()``; its UPPERCASE names are the parameters, its
            docstring the run description.
        root: the store (default: ``RUNLAB_ROOT``, ``[tool.runlab] root`` or ``./runs``).
        debug: default of ``__DEBUG__``.
        name_format: the run folder's name; ``{date}``, ``{time}`` and ``{id}`` (required).
        console_width: width of ``log_parameters()`` and ``--help`` output.
        base_path: PyComex's name for ``root``.
        name: the runs' name (``runlab.load(name)`` finds the latest).
        description: the runs' description (default: the module docstring).
        tags: tags every run gets.
        notify: default of ``__NOTIFY__`` (the notification plugin's switch).

    Example:
        >>> import tempfile
        >>> exp = Experiment(glob={"EPOCHS": 2, "__doc__": "Demo."}, root=tempfile.mkdtemp(), namespace="demo")
        >>> @exp
        ... def main(e):
        ...     e["results/epochs"] = e.EPOCHS
        >>> run = exp.run(EPOCHS=3)  # doctest: +ELLIPSIS
        20... | run ... of demo started in .../demo/...
        >>> run.status, run.params["EPOCHS"], exp["results/epochs"]
        ('completed', 3, 3)
    """

    def __init__(
        self,
        namespace: str | None = None,
        glob: Mapping[str, Any] | None = None,
        root: str | os.PathLike[str] | Store | None = None,
        debug: bool = False,
        name_format: str = DEFAULT_NAME_FORMAT,
        console_width: int = 100,
        *,
        base_path: str | os.PathLike[str] | None = None,
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        notify: bool | None = None,
    ) -> None:
        self._setup(
            namespace=namespace,
            glob=glob,
            root=root,
            debug=debug,
            name_format=name_format,
            console_width=console_width,
            base_path=base_path,
            name=name,
            description=description,
            tags=tags,
            notify=notify,
        )

    # -- construction -----------------------------------------------------------------
    def _setup(
        self,
        *,
        namespace: str | None = None,
        glob: Mapping[str, Any] | None = None,
        root: str | os.PathLike[str] | Store | None = None,
        debug: bool | None = None,
        name_format: str | None = None,
        console_width: int | None = None,
        base_path: str | os.PathLike[str] | None = None,
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        notify: bool | None = None,
        base: Experiment | None = None,
    ) -> None:
        self._blank()
        if glob is not None and not isinstance(glob, Mapping):
            raise ValidationError(f"Invalid glob {type(glob).__name__}: pass the module's globals(), a dict.")
        if root is not None and base_path is not None:
            raise ValidationError("Give root or base_path (its PyComex name), not both.")
        self.glob = glob if glob is not None else {}
        file = self.glob.get("__file__")
        self.file = Path(file).resolve() if isinstance(file, str) and file.endswith(".py") else None
        self.base = base
        self.namespace = namespace or (self.file.stem if self.file else (base.namespace if base else None))
        self.root = root if root is not None else base_path if base_path is not None else (base.root if base else None)
        self.debug = bool(debug) if debug is not None else (base.debug if base else False)
        self.name_format = _check_name_format(name_format or (base.name_format if base else DEFAULT_NAME_FORMAT))
        self.console_width = int(console_width or (base.console_width if base else 100))
        self.run_name = name if name is not None else (base.run_name if base else None)
        doc = self.glob.get("__doc__")
        own_doc = doc.strip() if isinstance(doc, str) and doc.strip() else None
        self.description = description if description is not None else own_doc or (base.description if base else None)
        self.tags = list(tags or (base.tags if base else []))
        self._hooks = HookMap(origin=str(self.file) if self.file else "<experiment>")
        if base is not None:
            base._refresh()
            self.func = base.func
            self._base_entries = base.hook_entries()
            self._testing = list(base._testing)
            self._analyses = list(base._analyses)
            self._globs = list(base._globs)
            self._files = [*base._files, *([base.file] if base.file else [])]
            self._files += [m.path for m in base._included if m.path is not None]
            self._inherited = {n: dataclasses.replace(p, default=base._defaults[n]) for n, p in base._defs.items()}
        else:
            self._inherited = dict(SPECIAL_PARAMS)
        if glob is not None:
            self._globs.append(self.glob)
        self._defs = dict(self._inherited)
        self._defaults = {n: p.default for n, p in self._inherited.items()}
        self._discover()
        self._fire_parameters_hook()
        if debug:
            self._set_default("__DEBUG__", True)
        if notify is not None:
            self._set_default("__NOTIFY__", bool(notify))
        get_registry().apply(EXPERIMENT_CONSTRUCTED, experiment=self)

    def _discover(self) -> None:
        """(Re)read the module's UPPERCASE globals over the inherited parameters (explicit settings win)."""
        if not self.glob:
            return
        annotated = set(self.glob.get("__annotations__") or {})
        for pname, param in discover_params(self.glob).items():
            if pname in self._explicit:
                continue
            if pname in self._own and self._defaults.get(pname) is param.default:
                continue
            self._defs[pname] = _merge_param(self._inherited.get(pname), param, pname in annotated)
            self._defaults[pname] = param.default
            self._own.add(pname)

    def _refresh(self) -> None:
        """Pick up globals the module defined after the experiment was made (before a run)."""
        if self._archive is None:
            self._discover()

    def _fire_parameters_hook(self) -> None:
        mapping = dict(self._defaults)
        get_registry().apply(BEFORE_EXPERIMENT_PARAMETERS, experiment=self, parameters=mapping)
        for pname, value in mapping.items():
            if pname in self._defaults and self._defaults[pname] is value:
                continue
            old = self._defs.get(pname) or SPECIAL_PARAMS.get(pname)
            self._defs[pname] = (
                dataclasses.replace(old, default=value, usable=is_usable(value))
                if old is not None
                else Param(pname, Any if value is None else type(value), value, "Added by a plugin.", is_usable(value))
            )
            self._defaults[pname] = value

    @classmethod
    def extend(
        cls,
        path: str | os.PathLike[str] | None = None,
        namespace: str | None = None,
        glob: Mapping[str, Any] | None = None,
        *,
        experiment_path: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> Experiment:
        """A new experiment that inherits parameters, hooks, main, testing and analysis functions of a file.

        The base file is loaded as a module (not as ``__main__``, so its ``run_if_main()`` does
        nothing). The extending module's UPPERCASE globals override the base's parameters, as
        does ``experiment.PARAM = value`` afterwards; its hooks run after the base's.

        Args:
            path: the base experiment file (relative paths start at the extending file's folder).
            namespace: as for :class:`Experiment` (default: the extending file's name).
            glob: the extending module's ``globals()``.
            experiment_path: PyComex's name for ``path``.
            **options: ``root``/``base_path``, ``debug``, ``name_format``, ``console_width``,
                ``name``, ``description``, ``tags`` (default: the base experiment's).

        Raises:
            ValidationError: the file is missing, is not a ``.py`` file, or an option is unknown.
            ExperimentNotFoundError: the file defines no :class:`Experiment`.
        """
        target = path if path is not None else experiment_path
        if target is None or (path is not None and experiment_path is not None):
            raise ValidationError("Give the base experiment's file once: Experiment.extend('base_experiment.py', ...).")
        unknown = [k for k in options if k not in _OPTIONS]
        if unknown:
            raise ValidationError(
                f"Unknown option {unknown[0]!r} for Experiment.extend.{did_you_mean(unknown[0], _OPTIONS)} "
                f"Options: {', '.join(_OPTIONS)}."
            )
        file = resolve_file(target, glob, "base experiment")
        module = load_module(file, "experiment")
        base = find_instance(module, Experiment, "experiment")
        if base is None:
            raise ExperimentNotFoundError(
                f"{file} defines no experiment to extend: make one there with "
                "'experiment = Experiment(glob=globals())'."
            )
        obj = cls.__new__(cls)
        obj._setup(namespace=namespace, glob=glob, base=base, **options)
        return obj

    def include(self, paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Experiment:
        """Add the :class:`ExperimentMixin` of each file (in order; a file included twice counts once).

        Mixin parameters are added (the experiment file's own values win); mixin hooks run after
        the base experiment's and before this file's.

        Raises:
            ValidationError: a file is missing or is not a ``.py`` file.
            ExperimentNotFoundError: a file defines no ``ExperimentMixin``.
        """
        items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        for item in items:
            file = resolve_file(item, self.glob, "mixin")
            if any(m.path == file for m in self._included) or file in self._files:
                continue
            module = load_module(file, "mixin")
            mixin = find_instance(module, ExperimentMixin, "mixin")
            if mixin is None:
                raise ExperimentNotFoundError(
                    f"{file} defines no mixin to include: make one there with "
                    "'mixin = ExperimentMixin(glob=globals())'."
                )
            self._add_mixin(mixin)
        return self

    def _add_mixin(self, mixin: ExperimentMixin) -> None:
        annotated = mixin.annotated()
        for pname, param in mixin.parameters().items():
            merged = _merge_param(self._inherited.get(pname), param, pname in annotated)
            self._inherited[pname] = merged
            if pname in self._own or pname in self._explicit:
                own = self._defs[pname]
                self._defs[pname] = dataclasses.replace(own, description=own.description or merged.description)
                continue
            self._defs[pname] = merged
            self._defaults[pname] = merged.default
        self._included.append(mixin)
        self._globs.append(mixin.glob)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str]) -> Experiment:
        """An experiment from a YAML/TOML/JSON config: ``extend`` (the experiment file), ``parameters``,
        ``include``, ``namespace``, ``name``, ``description``, ``root`` (or ``base_path``).

        Raises:
            ConfigError: the file is malformed (see :func:`runlab.params.load_spec`).
            ValidationError: the config names no experiment, or expands to several configs (a sweep).
            ParameterError: a parameter the experiment does not have, or a value of the wrong type.
        """
        from ..params import load_spec

        spec = load_spec(Path(path))
        configs = spec.to_configs()
        if len(configs) != 1:
            raise ValidationError(
                f"{path} expands to {len(configs)} configs (a sweep); Experiment.from_config builds one experiment. "
                f"Run the sweep with 'runlab run {path}' (one run per config), or remove the sweep."
            )
        return cls.from_spec(spec, configs[0], config_path=Path(path))

    @classmethod
    def from_spec(
        cls, spec: ConfigSpec, config: Config, *, config_path: str | os.PathLike[str] | None = None
    ) -> Experiment:
        """The experiment of one expanded config of ``spec`` (see :meth:`from_config`)."""
        if spec.extend is None:
            raise ValidationError(
                f"{config_path or 'The config'} names no experiment: add 'extend: path/to/experiment.py' to it."
            )
        cfg = Path(config_path).resolve() if config_path is not None else (spec.sources[-1] if spec.sources else None)
        obj = cls.extend(
            spec.extend,
            namespace=spec.namespace or (cfg.stem if cfg else None),
            glob={"__name__": "__runlab_config__"},
            root=spec.root,
            name=spec.name,
            description=spec.description,
        )
        object.__setattr__(obj, "_config_path", cfg)
        obj.include(spec.include)
        where = f" (in {cfg})" if cfg else ""
        for pname, value in config.globals_dict.items():
            param = obj._known(pname, where)
            obj._set_default(pname, param.coerce(value, base_dir=cfg.parent if cfg else None))
        return obj

    def __call__(self, func: Callable[[Experiment], Any]) -> Experiment:
        """``@experiment`` on ``def main(e)``: register the main function (returns the experiment)."""
        if not callable(func):
            raise ValidationError(f"@experiment decorates the main function; got {func!r}.")
        self.func = func
        return self

    # -- archives and analysis --------------------------------------------------------
    @classmethod
    def load(cls, ref: str | os.PathLike[str], root: str | os.PathLike[str] | Store | None = None) -> Experiment:
        """A read-only experiment view of an archived run: its folder, ID, ID prefix or name.

        ``e.PARAM`` gives the run's parameters, ``e["a/b"]`` its data, ``e.metrics()`` its
        metric history, ``e.path`` its folder, ``e.metadata`` its record.

        Raises:
            RunNotFoundError: no run matches (``AmbiguousRunError``: several do).
        """
        from ..store._files import read_json
        from ._archive import find_archive

        folder, store = find_archive(ref, root)
        meta = read_json(folder / "run.json")
        obj = cls.__new__(cls)
        obj._blank()
        set_ = object.__setattr__
        try:
            data = read_json(folder / "data.json")
        except FileNotFoundError:
            data = {}
        source = meta.get("source")
        for key, value in (
            ("namespace", meta.get("namespace")), ("run_name", meta.get("name")), ("root", store.root),
            ("description", meta.get("description")), ("tags", list(meta.get("tags") or [])),
            ("file", Path(source) if source else None), ("_archive", folder), ("_store", store),
            ("_data", RunData(data if isinstance(data, dict) else {})),
        ):  # fmt: skip
            set_(obj, key, value)
        for pname, rec in (meta.get("params") or {}).items():
            value = rec.get("value") if isinstance(rec, dict) else rec
            description = (rec.get("description") if isinstance(rec, dict) else "") or ""
            obj._defs[pname] = Param(pname, Any, value, description, bool(rec.get("usable", True)))
            obj._defaults[pname] = value
        return obj

    def analyse(self, target: Run | RunRecord | str | os.PathLike[str] | None = None) -> Any:
        """Call the ``@experiment.analysis`` functions with an archived run; returns the last result.

        Args:
            target: a run, a record, a run folder, ID or name (default: this archived run, or
                the last run of this experiment).
        """
        if target is None:
            if self._archive is not None:
                view = self
            elif self._run is not None:
                view = Experiment.load(self._run.path)
            else:
                raise ExperimentContextError("Nothing to analyse yet: run the experiment, or pass a run.")
        elif isinstance(target, (str, os.PathLike)):
            view = Experiment.load(target, root=self.root)
        else:
            view = Experiment.load(target.path)
        result = None
        for fn in self._analyses:
            value = fn(view)
            if value is not None:
                result = value
        return result
