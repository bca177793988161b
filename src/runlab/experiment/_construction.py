"""Building functional experiments: the constructor, ``Experiment.extend``, ``include`` and config files.

The base experiment and the mixins are loaded with :mod:`runlab._pyfile` (never as
``__main__``); a config file's experiment extends the file its ``extend`` names, includes
its ``include`` files and takes its parameter values as defaults.
"""

from __future__ import annotations

import dataclasses
import os
import types
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import _pyfile as pyfile
from ..errors import ExperimentNotFoundError, ValidationError
from ..hooks import get_registry
from ..hooks._specs import BEFORE_EXPERIMENT_PARAMETERS, EXPERIMENT_CONSTRUCTED
from ..params import did_you_mean
from ..store._store import Store, namespace_of
from ._hooks import HookMap
from ._mixin import ExperimentMixin
from ._names import DEFAULT_NAME_FORMAT, check_name_format
from ._parameters import ParameterSet

T = TypeVar("T")

if TYPE_CHECKING:
    from ..params import ConfigSpec
    from ..params._config import Config
    from ._functional import Experiment

__all__ = [
    "OPTIONS",
    "experiment_from_config",
    "experiment_from_spec",
    "extend_file",
    "find_instance",
    "include_files",
    "include_param",
    "load_module",
    "resolve_file",
    "setup",
]

OPTIONS = ("root", "base_path", "debug", "name_format", "console_width", "name", "description", "tags", "notify")
"""The options ``Experiment.extend`` passes on to the new experiment."""


def setup(
    exp: Experiment,
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
    resume: str | None = None,
) -> None:
    """Set every attribute of ``exp`` from its options (see :class:`runlab.Experiment`); ``base`` is
    the experiment it extends: its main, hooks, testing and analysis functions and parameters carry over.

    Fires ``before_experiment_parameters`` (plugins may add or change defaults) and
    ``experiment_constructed``.
    """
    exp._blank()
    if glob is not None and not isinstance(glob, Mapping):
        raise ValidationError(f"Invalid glob {type(glob).__name__}: pass the module's globals(), a dict.")
    if root is not None and base_path is not None:
        raise ValidationError("Give root or base_path (its PyComex name), not both.")
    exp.glob = glob if glob is not None else {}
    file = exp.glob.get("__file__")
    exp.file = Path(file).resolve() if isinstance(file, str) and file.endswith(".py") else None
    exp.base = base
    exp.namespace = namespace or (namespace_of(exp.file.stem) if exp.file else (base.namespace if base else None))
    exp.root = root if root is not None else base_path if base_path is not None else (base.root if base else None)
    exp.name_format = check_name_format(name_format or (base.name_format if base else DEFAULT_NAME_FORMAT))
    exp.console_width = int(console_width or (base.console_width if base else 100))
    exp.run_name = name if name is not None else (base.run_name if base else None)
    exp.resume = resume  # continue a crashed or cancelled run (an ID, a name or "auto")
    doc = exp.glob.get("__doc__")
    own_doc = doc.strip() if isinstance(doc, str) and doc.strip() else None
    exp.description = description if description is not None else own_doc or (base.description if base else None)
    exp.tags = list(tags or (base.tags if base else []))
    exp.hook_map = HookMap(origin=str(exp.file) if exp.file else "<experiment>")
    if base is not None:
        base.refresh()
        exp.func = base.func
        exp.base_entries = base.hook_entries()
        exp.testing_functions = list(base.testing_functions)
        exp.analyses = list(base.analyses)
        exp.globs = list(base.globs)
        exp.files = [*base.files, *([base.file] if base.file else [])]
        exp.files += [m.path for m in base.included if m.path is not None]
        inherited = {n: dataclasses.replace(p, default=base.params.defaults[n]) for n, p in base.params.defs.items()}
        exp.params = ParameterSet(inherited)
    if glob is not None:
        exp.globs.append(exp.glob)
    exp.params.discover(exp.glob)
    changed = dict(exp.params.defaults)
    get_registry().apply(BEFORE_EXPERIMENT_PARAMETERS, experiment=exp, parameters=changed)
    exp.params.apply_changes(changed)
    if "__INCLUDE__" in exp.params.own:  # the module's __INCLUDE__ global (a base's mixins carry over above)
        include_param(exp, exp.params.defaults["__INCLUDE__"])
    if debug:
        exp.params.set_default("__DEBUG__", True)
    if notify is not None:
        exp.params.set_default("__NOTIFY__", bool(notify))
    get_registry().apply(EXPERIMENT_CONSTRUCTED, experiment=exp)


def extend_file(
    cls: type[Experiment],
    target: str | os.PathLike[str] | None,
    namespace: str | None,
    glob: Mapping[str, Any] | None,
    options: Mapping[str, Any],
) -> Experiment:
    """A new ``cls`` experiment inheriting from the experiment of file ``target`` (see ``Experiment.extend``)."""
    from ._functional import Experiment

    if target is None:
        raise ValidationError("Give the base experiment's file once: Experiment.extend('base_experiment.py', ...).")
    unknown = [k for k in options if k not in OPTIONS]
    if unknown:
        raise ValidationError(
            f"Unknown option {unknown[0]!r} for Experiment.extend.{did_you_mean(unknown[0], OPTIONS)} "
            f"Options: {', '.join(OPTIONS)}."
        )
    file = resolve_file(target, glob, "base experiment")
    module = load_module(file, "experiment")
    base = find_instance(module, Experiment, "experiment")
    if base is None:
        raise ExperimentNotFoundError(
            f"{file} defines no experiment to extend: make one there with 'experiment = Experiment(glob=globals())'."
        )
    obj = cls.__new__(cls)
    setup(obj, namespace=namespace, glob=glob, base=base, **options)
    return obj


def include_files(experiment: Experiment, paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> None:
    """Add the :class:`ExperimentMixin` of each file to ``experiment`` (see ``Experiment.include``)."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for item in items:
        file = resolve_file(item, experiment.glob, "mixin")
        if any(m.path == file for m in experiment.included) or file in experiment.files:
            continue
        module = load_module(file, "mixin")
        mixin = find_instance(module, ExperimentMixin, "mixin")
        if mixin is None:
            raise ExperimentNotFoundError(
                f"{file} defines no mixin to include: make one there with 'mixin = ExperimentMixin(glob=globals())'."
            )
        experiment.params.add_mixin(mixin)
        experiment.included.append(mixin)
        experiment.globs.append(mixin.glob)


def include_param(experiment: Experiment, value: Any, base_dir: Path | None = None) -> list[Path]:
    """Include the mixins a ``__INCLUDE__`` value names (a path, ``"a.py,b.py"`` or a list of paths).

    ``value`` is validated as ``list[Path]``; relative paths are taken from ``base_dir``, else
    the folder of the experiment's file (of its config file for a config-based experiment). The
    experiment's ``__INCLUDE__`` default becomes every file it included this way, so later runs
    record them too. Returns the files, absolute.

    Raises:
        ParameterError: not a list of paths, or a file that does not exist or is not a ``.py`` file.
        ExperimentNotFoundError: a file makes no ``ExperimentMixin``.
    """
    from ..params import SPECIAL_PARAMS, ParameterError

    paths: list[Path] = SPECIAL_PARAMS["__INCLUDE__"].coerce(value, base_dir=base_dir)  # a config's: absolute
    if not paths:
        return []
    here = experiment.file or experiment.config_path or experiment.source_file
    folder = base_dir or (here.parent if here is not None else Path.cwd())
    files: list[Path] = []
    for path in paths:
        file = (folder / Path(os.path.expanduser(path))).resolve()
        if not file.is_file() or file.suffix != ".py":
            problem = "is not a Python file (.py)" if file.is_file() else f"does not exist (looked for {file})"
            raise ParameterError(
                f"Invalid value for '__INCLUDE__': the mixin file {str(path)!r} {problem}. Give the path of a .py "
                f"file that makes an ExperimentMixin, relative to {folder}.",
                "__INCLUDE__",
            )
        files.append(file)
    include_files(experiment, files)
    known = [Path(p) for p in experiment.params.defaults.get("__INCLUDE__") or []]
    resolved = {(folder / p).resolve() for p in known}
    added: list[Path] = []
    for path, file in zip(paths, files, strict=True):
        if file not in resolved:
            resolved.add(file)
            added.append(path)
    if added:
        experiment.params.set_default("__INCLUDE__", [*known, *added])
    return files


def experiment_from_spec(
    cls: type[Experiment], spec: ConfigSpec, config: Config, config_path: str | os.PathLike[str] | None
) -> Experiment:
    """The experiment of one expanded config of ``spec`` (see ``Experiment.from_config``)."""
    if spec.extend is None:
        raise ValidationError(
            f"{config_path or 'The config'} names no experiment: add 'extend: path/to/experiment.py' to it."
        )
    cfg = Path(config_path).resolve() if config_path is not None else (spec.sources[-1] if spec.sources else None)
    obj = cls.extend(
        spec.extend,
        namespace=spec.namespace or (namespace_of(cfg.stem) if cfg else None),
        glob={"__name__": "__runlab_config__"},
        root=spec.root,
        name=spec.name,
        description=spec.description,
    )
    obj.config_path = cfg
    obj.include(spec.include)
    where = f" (in {cfg})" if cfg else ""
    folder = cfg.parent if cfg else None
    values = dict(config.globals_dict)
    if "__INCLUDE__" in values:  # first: the mixins' parameters may be set below
        include_param(obj, values.pop("__INCLUDE__"), folder)
    for name, value in values.items():
        obj.params.set_default(name, obj.params.value_of(name, value, obj.namespace, where, folder))
    return obj


def experiment_from_config(cls: type[Experiment], path: str | os.PathLike[str]) -> Experiment:
    """The experiment of a config file that expands to one config (see ``Experiment.from_config``)."""
    from ..params import load_spec

    spec = load_spec(Path(path))
    configs = spec.to_configs()
    if len(configs) != 1:
        raise ValidationError(
            f"{path} expands to {len(configs)} configs (a sweep); Experiment.from_config builds one experiment. "
            f"Run the sweep with 'runlab run {path}' (one run per config), or remove the sweep."
        )
    return experiment_from_spec(cls, spec, configs[0], Path(path))


# -- the files extend and include load ------------------------------------------------
_loading: ContextVar[tuple[Path, ...]] = ContextVar("runlab_loading_experiment_files", default=())


def resolve_file(path: str | os.PathLike[str], glob: Mapping[str, Any] | None, what: str) -> Path:
    """An existing ``.py`` file; a relative ``path`` is taken from the folder of ``glob['__file__']``.

    Raises:
        ValidationError: the file does not exist or is not a Python file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(f"Invalid {what} path {path!r}: expected the path of a .py file.")
    target = Path(os.path.expanduser(os.fspath(path)))
    if not target.is_absolute():
        here = (glob or {}).get("__file__")
        base = Path(here).resolve().parent if isinstance(here, str) and here else Path.cwd()
        target = base / target
    target = target.resolve()
    if not target.is_file():
        raise ValidationError(f"Cannot find the {what} file {path!r} (looked for {target}). Check the path.")
    if target.suffix != ".py":
        raise ValidationError(f"Invalid {what} file {target}: expected a Python file ending in .py.")
    return target


def load_module(path: Path, what: str) -> types.ModuleType:
    """Execute ``path`` as a fresh module (its ``__name__`` is not ``"__main__"``) with :mod:`runlab._pyfile`.

    Its folder is on ``sys.path`` while it runs, so it imports its neighbours as with
    ``python file.py``. Each call loads the file anew; the module stays in ``sys.modules``
    (so what it defines pickles).

    Raises:
        ValidationError: the file takes part in an ``extend`` / ``include`` cycle, or has a syntax error.
    """
    chain = _loading.get()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain[chain.index(path) :], path))
        verb = "include" if what == "mixin" else "extend"
        raise ValidationError(f"{what.capitalize()} cycle: {cycle}. A file cannot {verb} itself, directly or "
                              f"through others: remove one of these {verb}s.")  # fmt: skip
    code = pyfile.compile_file(path)  # a syntax error: ValidationError with file and line
    token = _loading.set((*chain, path))
    try:
        module = pyfile.load_module(path, pyfile.module_name(path, f"_runlab_{what}"), code=code)
    finally:
        _loading.reset(token)
    return module


def find_instance(module: types.ModuleType, cls: type[T], preferred: str) -> T | None:
    """The ``cls`` instance among the module's globals: the one named ``preferred``, else the only one."""
    found: dict[int, T] = {}
    for value in vars(module).values():
        if isinstance(value, cls):
            found.setdefault(id(value), value)
    named = vars(module).get(preferred)
    if isinstance(named, cls):
        return named
    if len(found) == 1:
        return next(iter(found.values()))
    if len(found) > 1:
        raise ExperimentNotFoundError(
            f"{module.__file__} defines {len(found)} {cls.__name__} objects; name the one to use {preferred!r}."
        )
    return None
