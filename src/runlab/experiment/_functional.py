"""Functional experiments (PyComex style): :class:`Experiment`, made of small collaborators.

UPPERCASE module globals are the parameters, ``@experiment`` marks the main function and
``experiment.run_if_main()`` runs it (see the class's example and ``docs/experiments.md``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..errors import ExperimentContextError, ValidationError
from ..lifecycle import Run, RunData
from ..params import Param, did_you_mean, is_param_name
from ..store._api import get_store
from ..store._files import read_json
from ..store._store import Store
from ._hooks import HookEntries, HookMap, apply_hooks, compose
from ._mixin import ExperimentMixin
from ._names import DEFAULT_NAME_FORMAT
from ._parameters import ParameterSet
from ._phases import ExperimentPhases
from ._recording import RunRecorder
from ._request import RunRequest, RunResult
from ._runner import ExperimentRunner
from ._views import ExperimentViews

if TYPE_CHECKING:
    from ..params import ConfigSpec
    from ..params._config import Config
    from ..store import MetricSeries, RunRecord

__all__ = ["Experiment"]

F = TypeVar("F", bound=Callable[..., Any])


class Experiment(ExperimentPhases, ExperimentViews):
    """A functional experiment: parameters from a module's UPPERCASE globals, a main function, hooks.

    It is also ``e`` for the main function, hooks, testing and analysis functions: ``e.PARAM``,
    ``e["a/b"] = v``, ``e.log()``, ``e.track()``, ``e.commit_*()``, ``e.path``. Special parameters:
    ``__DEBUG__``, ``__TESTING__``, ``__PREFIX__``, ``__REPRODUCIBLE__``. One object runs one run at a
    time; its parts are collaborators: :attr:`params` (``ParameterSet``), :attr:`hook_map`,
    :attr:`recorder` (``e.track``, ``e.commit_*``), :attr:`runner` (requests and runs).

    Args:
        namespace: where runs go in the store (default: the file's name without ``.py``).
        glob: the module's ``globals()``: UPPERCASE names are the parameters, the docstring the description.
        root: the store (default: ``RUNLAB_ROOT``, ``[tool.runlab] root`` or ``./runs``); ``base_path``: PyComex's name.
        debug, notify: defaults of ``__DEBUG__`` and ``__NOTIFY__``.
        name_format: the run folder's name; ``{date}``, ``{time}`` and ``{id}`` (required).
        console_width: width of ``log_parameters()`` and ``--help`` output.
        name, description, tags: the runs' (the description defaults to the module docstring).
        resume: continue a crashed or cancelled run (its ID or name, or ``"auto"``; see :func:`runlab.start_run`).

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
        resume: str | None = None,
    ) -> None:
        from ._construction import setup

        setup(self, namespace=namespace, glob=glob, root=root, debug=debug, name_format=name_format,
              console_width=console_width, base_path=base_path, name=name, description=description, tags=tags,
              notify=notify, resume=resume)  # fmt: skip

    def _blank(self) -> None:
        """Every attribute with its empty value (experiments and archived views start here)."""
        self.glob: Mapping[str, Any] = {}
        self.file: Path | None = None
        self.base: Experiment | None = None
        self.namespace: str | None = None
        self.root: str | os.PathLike[str] | Store | None = None
        self.name_format = DEFAULT_NAME_FORMAT
        self.console_width = 100
        self.run_name: str | None = None
        self.resume: str | None = None
        self.description: str | None = None
        self.tags: list[str] = []
        self.func: Callable[[Any], Any] | None = None
        self.hook_map = HookMap()
        self.base_entries: HookEntries = {}
        self.included: list[ExperimentMixin] = []
        self.testing_functions: list[Callable[..., Any]] = []
        self.analyses: list[Callable[..., Any]] = []
        self._search_space: Callable[..., Any] | None = None
        self.globs: list[Mapping[str, Any]] = []
        self.files: list[Path] = []
        self.params = ParameterSet()
        self.recorder = RunRecorder(self)
        self.runner = ExperimentRunner(self)
        self.current_run: Run | None = None
        """The run being executed, or the last one this object ran (None before the first)."""
        self.own_data = RunData()
        self.config_path: Path | None = None
        self.archive: Path | None = None
        self.store: Store | None = None

    def refresh(self) -> None:
        """Pick up globals the module defined after the experiment was made (before a run)."""
        if self.archive is None:
            self.params.discover(self.glob)

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
        """A new experiment inheriting parameters, hooks, main, testing and analysis functions of a file.

        The base file is loaded as a module (its ``run_if_main()`` does nothing). The extending
        module's UPPERCASE globals override the base's parameters; its hooks run after the base's.
        ``path`` (PyComex: ``experiment_path``) is relative to the extending file; ``options`` are
        the constructor's (``root``, ``debug``, ``name`` ...; default: the base experiment's).

        Raises:
            ValidationError: the file is missing, is not a ``.py`` file, or an option is unknown.
            ExperimentNotFoundError: the file defines no :class:`Experiment`.
        """
        from ._construction import extend_file

        if path is not None and experiment_path is not None:
            raise ValidationError("Give the base experiment's file once: Experiment.extend('base_experiment.py', ...).")
        return extend_file(cls, path if path is not None else experiment_path, namespace, glob, options)

    def include(self, paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Experiment:
        """Add the :class:`ExperimentMixin` of each file (in order; once each): its parameters (this file's
        values win) and hooks (after the base experiment's, before this file's).

        Raises:
            ValidationError: a file is missing or is not a ``.py`` file.
            ExperimentNotFoundError: a file defines no ``ExperimentMixin``.
        """
        from ._construction import include_files

        include_files(self, paths)
        return self

    @classmethod
    def from_config(cls, path: str | os.PathLike[str]) -> Experiment:
        """An experiment from a YAML/TOML/JSON config: ``extend`` (the experiment file), ``parameters``,
        ``include``, ``namespace``, ``name``, ``description``, ``root`` (or ``base_path``).

        Raises:
            ConfigError: the file is malformed (see :func:`runlab.params.load_spec`).
            ValidationError: the config names no experiment, or expands to several configs (a sweep).
            ParameterError: a parameter the experiment does not have, or a value of the wrong type.
        """
        from ._construction import experiment_from_config

        return experiment_from_config(cls, path)

    @classmethod
    def from_spec(
        cls, spec: ConfigSpec, config: Config, *, config_path: str | os.PathLike[str] | None = None
    ) -> Experiment:
        """The experiment of one expanded config of ``spec`` (see :meth:`from_config`)."""
        from ._construction import experiment_from_spec

        return experiment_from_spec(cls, spec, config, config_path)

    def __call__(self, func: Callable[[Experiment], Any]) -> Experiment:
        """``@experiment`` on ``def main(e)``: register the main function (returns the experiment)."""
        if not callable(func):
            raise ValidationError(f"@experiment decorates the main function; got {func!r}.")
        self.func = func
        return self

    def hook(self, name: str, replace: bool = False, default: bool = False, priority: int = 0) -> Callable[[F], F]:
        """Register ``fn(e, **kwargs)`` for hook ``name``: ``before_run`` (``run``) and ``after_run`` (``run``,
        ``result``) wrap the main function (other arguments: :class:`~runlab.HookSignatureError`), others run with
        :meth:`apply_hook`. ``replace`` drops earlier implementations; a ``default`` runs only when no other one
        exists; higher ``priority`` runs first (equal: base, mixins, this file)."""
        return self.hook_map.decorator(name, replace=replace, default=default, priority=priority)

    def hook_entries(self) -> HookEntries:
        """Every hook implementation in call order: base, mixins (include order), this file."""
        return compose([self.base_entries, *(m.hook_entries() for m in self.included), self.hook_map.entries()])

    def apply_hook(self, name: str, /, **kwargs: Any) -> Any:
        """Call the implementations of hook ``name`` as ``fn(e, **kwargs)``; returns the last non-None result
        (or the value of a ``StopHook`` an implementation raised to end the chain)."""
        return apply_hooks(self.hook_entries(), name, self, **kwargs)

    def testing(self, func: F) -> F:
        """``@experiment.testing``: called first in testing mode (``__TESTING__``) to shrink parameters."""
        self.testing_functions.append(func)
        return func

    def search_space(self, func: F) -> F:
        """``@experiment.search_space``: ``fn(e, trial)`` returns ``{PARAMETER: value}`` for one study trial
        (``runlab optimize`` calls it with an ``optuna.Trial``; see ``docs/optimize.md``)."""
        self._search_space = func
        return func

    def analysis(self, func: F) -> F:
        """``@experiment.analysis``: ``fn(e)`` is copied into each run's ``analysis.py`` (with its file's imports),
        so ``python <run folder>/analysis.py`` calls it with the archived run as ``e``; see :meth:`analyse`.
        It should use ``e`` and imported names only."""
        self.analyses.append(func)
        return func

    def run(self, overrides: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Run:
        """Run now with parameter overrides; returns the finished run (the user's exception propagates
        once the run is recorded as failed, cancelled for Ctrl-C).

        Raises:
            ParameterError: an unknown parameter or a value of the wrong type (no run is made).
            ValidationError: no main function was registered with ``@experiment``.
        """
        result = self.execute_request(self.request({**dict(overrides or {}), **kwargs}, via="Experiment.run"))
        if result.exception is not None:
            raise result.exception
        assert result.run is not None
        return result.run

    def request(self, params: Mapping[str, Any] | None = None, *, via: str = "api", **changes: Any) -> RunRequest:
        """A :class:`~runlab.request.RunRequest` with ``params`` (validated here: :class:`~runlab.ParameterError`)
        over the defaults; ``changes``: more fields (``options=``, ``links=``). Run it with :meth:`execute_request`, or
        elsewhere with :func:`runlab.execute` when the experiment has a file."""
        return self.runner.request(params, via=via, **changes)

    def execute_request(self, request: RunRequest) -> RunResult:
        """Run ``request`` with this object; the result carries the user's error (bad input raises, no run made).

        (Not PyComex's :meth:`execute`, which runs the experiment with its defaults.)"""
        return self.runner.execute_request(request)

    def run_if_main(self) -> Run | None:
        """Run when the module is executed as a script; returns the run (None when imported).

        ``python exp.py --LR=0.1`` sets parameters (``--help`` lists them; a bad one exits 2).
        Under ``runlab run`` or :func:`runlab.execute` the pending request applies.
        """
        return self.runner.run_if_main()

    @property
    def parameters(self) -> dict[str, Any]:
        """The parameter values: the running run's, else the defaults (a live dict)."""
        return self.params.values

    @property
    def parameter_info(self) -> dict[str, Param]:
        """Every parameter's definition (type, description, default)."""
        return dict(self.params.defs)

    def __getattr__(self, name: str) -> Any:
        if is_param_name(name) and "params" in self.__dict__:
            values = self.params.values
            if name in values:
                return self.params.read(self, name, values[name])
            raise AttributeError(
                f"Experiment {self.namespace!r} has no parameter {name!r}.{did_you_mean(name, values)} "
                "Parameters are the module's UPPERCASE globals."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if is_param_name(name):
            self.params.write(self, name, value)
        else:
            object.__setattr__(self, name, value)

    @property
    def source_file(self) -> Path | None:
        """The experiment file runs are started from (the extended file for a config-based experiment)."""
        if self.file is not None:
            return self.file
        return self.base.source_file if self.base is not None else None

    @property
    def experiment_name(self) -> str | None:
        """The experiment's name in run records: its file's name without ``.py``, else its namespace."""
        if self.file is not None:
            return self.file.stem
        return self.base.experiment_name if self.base is not None else self.namespace

    @property
    def path(self) -> Path:
        """The run's folder (of the run being executed, the last one, or the archived one)."""
        if self.archive is not None:
            return Path(self.archive)
        if self.current_run is None:
            raise ExperimentContextError("The experiment has no run folder yet: e.path exists once it runs.")
        return self.current_run.path

    @property
    def data(self) -> RunData:
        """The run's data (``e["a/b"]``); before the first run, an in-memory store."""
        return self.current_run.data if self.current_run is not None else self.own_data

    def __setitem__(self, key: str, value: Any) -> None:
        self.recorder.store(key, value)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def log(self, message: Any) -> None:
        """Print a timestamped line (the run's ``out.log`` gets it too)."""
        print(f"{datetime.now():%Y-%m-%d %H:%M:%S} | {message}", flush=True)

    def track(self, name: str, value: Any) -> None:
        """Track a value over the run: a number becomes a metric point, a figure ``artifacts/track/NAME_NNN.png``."""
        self.recorder.track(name, value)

    def commit_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON artifact ``name``; returns its path."""
        return self.recorder.commit_json(name, data)

    def commit_raw(self, name: str, content: str) -> Path:
        """Write text artifact ``name``; returns its path."""
        return self.recorder.commit_raw(name, content)

    def commit_fig(self, name: str, figure: Any, **savefig_kwargs: Any) -> Path:
        """Save a matplotlib figure as artifact ``name`` (PNG unless the name says otherwise); returns its path."""
        return self.recorder.commit_fig(name, figure, **savefig_kwargs)

    @property
    def metadata(self) -> dict[str, Any]:
        """The run's record (``run.json``) when there is a run, plus parameters, hooks and tracked names."""
        from ._archive import metadata_of

        return metadata_of(self)

    @overload
    def metrics(self, name: str) -> MetricSeries: ...
    @overload
    def metrics(self, name: None = None) -> dict[str, MetricSeries]: ...
    def metrics(self, name: str | None = None) -> MetricSeries | dict[str, MetricSeries]:
        """The metric history of the run (all metrics, or ``name``'s: :class:`~runlab.MetricNotFoundError`)."""
        from ._archive import metrics_of

        return metrics_of(self.path, name)  # type: ignore[no-any-return]

    @property
    def record(self) -> RunRecord:
        """The store's record of the run (archived, running or last run)."""
        return (self.store or get_store(self.root)).load(read_json(self.path / "run.json")["id"])

    @classmethod
    def load(cls, ref: str | os.PathLike[str], root: str | os.PathLike[str] | Store | None = None) -> Experiment:
        """A read-only view of an archived run (folder, ID, ID prefix or name): ``e.PARAM``, ``e["a/b"]``,
        ``e.metrics()``, ``e.path``, ``e.metadata``.

        Raises:
            RunNotFoundError: no run matches (``AmbiguousRunError``: several do).
        """
        from ._archive import archived_experiment

        return archived_experiment(cls, ref, root)

    def analyse(self, target: Run | RunRecord | str | os.PathLike[str] | None = None) -> Any:
        """Call the ``@experiment.analysis`` functions with an archived run (``target``: a run, record,
        folder, ID or name; default: this archived run or the last run); returns the last result."""
        from ._archive import analyse

        return analyse(self, target)

    def help_text(self) -> str:
        """What ``python exp.py --help`` prints: usage, description and every parameter."""
        return self.runner.help_text()

    def __repr__(self) -> str:
        where = self.archive or self.file or "<interactive>"
        return f"<Experiment {self.namespace or ''} ({where})>"
